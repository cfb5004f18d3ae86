import {
  BurnRateWindows,
  ConfidenceFactorNames,
  SignalKinds,
  type AlertEvent,
  type Cause,
  type Confidence,
  type ConfidenceFactor,
  type MonitoringCheck,
  type PolicySettings,
  type TargetRecord,
} from '@burnback/contracts';

/**
 * The weights of the four factors (they sum to 1). Timing weighs most: a burn
 * that starts right after a release reaches the target is the strongest sign
 * that the release caused it, and without it (0) no mix of the others reaches
 * the default bar of 0.8. See packages/policy/README.md for worked examples.
 */
export const ConfidenceWeights = {
  [ConfidenceFactorNames.burn]: 0.2,
  [ConfidenceFactorNames.timing]: 0.5,
  [ConfidenceFactorNames.previousRelease]: 0.15,
  [ConfidenceFactorNames.monitoring]: 0.15,
} as const;

/** What confidence needs of the target: what serves it since when, and what served before. */
export type ConfidenceTarget = Pick<TargetRecord, 'target' | 'serving' | 'previous'>;

const HOUR_S = 3600;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const duration = (ms: number): string => {
  const minutes = Math.round(ms / 60_000);
  return minutes < 120 ? `${minutes} min` : `${+(minutes / 60).toFixed(1)} h`;
};

/**
 * The window within which a burn is fully blamed on a fresh release: the long
 * window of the burn's policy (6 h for a slow burn), and never less than an
 * hour (a bad release shows within its first hour, whatever the alert's own
 * lookback). A burn seen over a window that started before the rollout could
 * partly predate it; one within it cannot.
 */
export function blameWindowSeconds(event: AlertEvent): number {
  const slow =
    event.signal === SignalKinds.burnRate && burnPolicyOf(event) === 'slow'
      ? (event.burnWindows?.longSeconds ?? BurnRateWindows.slow.longSeconds)
      : 0;
  return Math.max(HOUR_S, slow, event.lookbackSeconds ?? 0);
}

/** Burn: how far over its bar the alert's value is. At the bar 0.5, twice the bar or more 1 (value / bar / 2, capped). */
function burnFactor(measured: number, bar: number, barText: string): ConfidenceFactor {
  const times = measured / bar;
  const value = round3(Math.min(1, Math.max(0, times / 2)));
  return {
    name: ConfidenceFactorNames.burn,
    value,
    weight: ConfidenceWeights.burn,
    detail: `${+times.toFixed(3)}× ${barText} (at the bar 0.5, twice the bar or more 1)`,
  };
}

/**
 * Timing: how soon after the serving release reached the target the burn (the
 * incident) started. Within the blame window 1; after it, window / delay (2
 * windows late 0.5); before the release began serving 0 (the burn blames
 * something else); no rollout known 0 (nothing to blame).
 */
function timingFactor(event: AlertEvent, target: ConfidenceTarget | null): { factor: ConfidenceFactor; cause: Cause | null } {
  const name = ConfidenceFactorNames.timing;
  const weight = ConfidenceWeights.timing;
  const serving = target?.serving ?? null;
  if (serving === null)
    return {
      cause: null,
      factor: {
        name,
        value: 0,
        weight,
        detail: `no rollout to ${target?.target ?? 'the target'} is on record, so no release can be blamed for the burn`,
      },
    };
  const windowS = blameWindowSeconds(event);
  const delayMs = Date.parse(event.startedAt) - Date.parse(serving.since);
  if (delayMs < 0)
    return {
      cause: null,
      factor: {
        name,
        value: 0,
        weight,
        detail: `the burn started at ${event.startedAt}, ${duration(-delayMs)} before ${serving.releaseId} began serving at ${serving.since}: it blames something else`,
      },
    };
  const value = delayMs <= windowS * 1000 ? 1 : round3((windowS * 1000) / delayMs);
  return {
    cause: { releaseId: serving.releaseId, servingSince: serving.since },
    factor: {
      name,
      value,
      weight,
      detail: `the burn started ${duration(delayMs)} after ${serving.releaseId} began serving (${serving.since}${serving.phase ? `; its rollout is in ${serving.phase}` : ''}); full blame within ${duration(windowS * 1000)}`,
    },
  };
}

/**
 * Previous release: whether the release before the serving one ran without
 * burning, so rolling back to it should help. Burned while it served 0; not
 * known 0.5; ran clean 0.5 + 0.5 × (time served / blame window), capped at 1.
 */
function previousFactor(event: AlertEvent, target: ConfidenceTarget | null): ConfidenceFactor {
  const name = ConfidenceFactorNames.previousRelease;
  const weight = ConfidenceWeights['previous-release'];
  const previous = target?.previous ?? null;
  if (previous === null)
    return { name, value: 0.5, weight, detail: 'the release before the serving one is not on record: no evidence either way' };
  const ranMs = Math.max(0, Date.parse(previous.until) - Date.parse(previous.since));
  if (previous.burnedAt !== null)
    return {
      name,
      value: 0,
      weight,
      detail: `${previous.releaseId}, which served before, burned too (from ${previous.burnedAt}): rolling back to it may not help`,
    };
  const value = round3(Math.min(1, 0.5 + (0.5 * ranMs) / (blameWindowSeconds(event) * 1000)));
  return { name, value, weight, detail: `${previous.releaseId} served ${duration(ranMs)} before it without a burn on record` };
}

/** Monitoring: Cloud Monitoring still reads the burn on both windows 1; not asked (no SLO) or decided without it 0.5; recovered or unavailable 0. */
function monitoringFactor(check: MonitoringCheck | null): ConfidenceFactor {
  const name = ConfidenceFactorNames.monitoring;
  const weight = ConfidenceWeights.monitoring;
  if (check === null) return { name, value: 0.5, weight, detail: 'no SLO is configured to confirm the burn with: no evidence either way' };
  if (check.status === 'unavailable')
    return {
      name,
      value: check.onUnavailable === 'decide-without' ? 0.5 : 0,
      weight,
      detail: `Cloud Monitoring could not answer (${check.error})`,
    };
  const burning = check.long > check.threshold && check.short > check.threshold;
  return {
    name,
    value: burning ? 1 : 0,
    weight,
    detail: `Cloud Monitoring reads ${check.long}× over ${duration(check.longWindowSeconds * 1000)} and ${check.short}× over ${duration(check.shortWindowSeconds * 1000)} (bar ${check.threshold}×)`,
  };
}

/**
 * How sure Burnback is that rolling the target back fixes the burn: the
 * weighted sum of the four factors, rounded to 3 decimals. More burn never
 * lowers it; a later start of the burn after the rollout never raises it.
 */
export function confidenceOf(
  event: AlertEvent,
  policy: PolicySettings,
  bar: { value: number; text: string },
  measured: number,
  target: ConfidenceTarget | null,
  monitoring: MonitoringCheck | null,
): { confidence: Confidence; cause: Cause | null } {
  const timing = timingFactor(event, target);
  const factors = [burnFactor(measured, bar.value, bar.text), timing.factor, previousFactor(event, target), monitoringFactor(monitoring)];
  const value = round3(factors.reduce((sum, f) => sum + f.weight * f.value, 0));
  return { confidence: { value, threshold: policy.minConfidence, factors }, cause: timing.cause };
}

/**
 * Which multi-window policy a burn-rate alert belongs to: ingest's burnPolicy
 * (from the alert policy), else fast for windows up to 1 h and slow otherwise
 * (an unknown window is slow: the lower bar is the one that must be cleared).
 */
export function burnPolicyOf(event: Pick<AlertEvent, 'burnPolicy' | 'lookbackSeconds'>): 'fast' | 'slow' {
  if (event.burnPolicy !== null) return event.burnPolicy;
  return event.lookbackSeconds !== null && event.lookbackSeconds <= BurnRateWindows.fast.longSeconds ? 'fast' : 'slow';
}

/** The windows and bar on which Cloud Monitoring must still read the burn before a rollback. */
export interface ConfirmationWindows {
  longWindowSeconds: number;
  shortWindowSeconds: number;
  /** The burn-rate bar both windows must exceed. */
  threshold: number;
}

/**
 * What to ask Cloud Monitoring to confirm an alert's burn: a burn-rate alert's
 * own policy (fast: 1 h and 5 min over 14.4×; slow: 6 h and 30 min over 6×,
 * with this service's thresholds); an error-ratio alert's threshold as a burn
 * rate (1 % over a 99 % SLO is 1×) on the fast windows. Null for signals that
 * are no burn (budget, unsupported): there is nothing to confirm.
 */
export function confirmationWindows(event: AlertEvent, policy: PolicySettings): ConfirmationWindows | null {
  switch (event.signal) {
    case SignalKinds.burnRate: {
      const slow = burnPolicyOf(event) === 'slow';
      const windows = slow ? BurnRateWindows.slow : BurnRateWindows.fast;
      return {
        longWindowSeconds: event.burnWindows?.longSeconds ?? windows.longSeconds,
        shortWindowSeconds: event.burnWindows?.shortSeconds ?? windows.shortSeconds,
        threshold: slow ? policy.slowBurnRate : policy.fastBurnRate,
      };
    }
    case SignalKinds.errorRatio:
      return {
        longWindowSeconds: BurnRateWindows.fast.longSeconds,
        shortWindowSeconds: BurnRateWindows.fast.shortSeconds,
        threshold: round3(policy.errorRatioThreshold / (1 - policy.sloGoal)),
      };
    case SignalKinds.budget:
    case SignalKinds.unsupported:
      return null;
    default: {
      const never: never = event.signal;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown signal ${String(never)}`);
    }
  }
}
