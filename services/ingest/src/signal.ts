import {
  BurnPolicies,
  BurnPolicySources,
  BurnRateWindows,
  Comparison,
  Comparisons,
  errorRatioRefusal,
  parseFilter,
  PolicyUserLabels,
  SignalKinds,
  type BurnPolicy,
  type BurnPolicySource,
  type BurnWindows,
  type MonitoringIncident,
  type SignalKind,
} from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';

/**
 * What an alert measures, read from the notification alone (pure). The rules,
 * in the order they apply, are in services/ingest/README.md; in short:
 * `select_slo_burn_rate` → burn rate (window and fast/slow policy),
 * `select_slo_budget_fraction` / `select_slo_health` → budget, a ratio of two
 * request counts the service's config names → error ratio (direction applied),
 * everything else → unsupported with the reason.
 */
export interface SignalClassification {
  signal: SignalKind;
  lookbackSeconds: number | null;
  comparison: Comparison | null;
  signalValue: number | null;
  signalThreshold: number | null;
  sloName: string | null;
  sloSelector: string | null;
  burnPolicy: BurnPolicy | null;
  burnPolicySource: BurnPolicySource | null;
  burnWindows: BurnWindows | null;
  unsupportedReason: string | null;
}

/** The parts of a service's config the classification reads. */
export type SignalServiceConfig = Pick<ServiceConfig, 'signals'> & {
  policy: Pick<ServiceConfig['policy'], 'fastBurnRate' | 'slowBurnRate'>;
};

/** The incident's values, already parsed (see parseValue). */
export interface SignalValues {
  observed: number | null;
  threshold: number | null;
}

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A lookback such as `3600s`, `60m`, `1h`, in seconds; null when unreadable. */
export function durationSeconds(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)\s*$/.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return seconds > 0 ? seconds : null;
}

/** One `select_slo_*("SLO", "lookback")` call in a filter. */
export interface SloSelector {
  selector: string;
  slo: string;
  /** The raw lookback argument, or null when the selector has none. */
  lookback: string | null;
}

/** Every `select_slo_*(…)` call in a Monitoring filter, in order (none when the filter cannot be read). */
export function sloSelectorsOf(filter: string): SloSelector[] {
  return (parseFilter(filter)?.calls ?? [])
    .filter((c) => c.name.startsWith('select_slo_') && c.args.length >= 1 && c.args.length <= 2)
    .map((c) => ({ selector: c.name, slo: c.args[0]!, lookback: c.args[1] ?? null }));
}

/** The `metric.type = "…"` a Monitoring filter selects, or null when it names none (or several different ones, or cannot be read). */
export function metricTypeOf(filter: string): string | null {
  const types = new Set(
    parseFilter(filter)
      ?.comparisons.filter((c) => c.selector === 'metric.type' && c.operator === '=' && c.value.kind !== 'function')
      .map((c) => (c.value as { text: string }).text),
  );
  return types.size === 1 ? [...types][0]! : null;
}

const isWord = (text: string, word: string): boolean => new RegExp(`(?<![a-z0-9])${word}(?![a-z0-9])|${word}burn`, 'i').test(text);

/** fast or slow when `text` names exactly one of them as a word (`Fast burn`, `slow-burn`, `fast_burn`), else null. */
export function burnPolicyNamedIn(text: string): BurnPolicy | null {
  const fast = isWord(text, 'fast');
  const slow = isWord(text, 'slow');
  if (fast === slow) return null;
  return fast ? BurnPolicies.fast : BurnPolicies.slow;
}

/**
 * The policy a lone window belongs to (inferred): 30 min is the slow policy's
 * short window; otherwise up to 1 h is fast (1 h long, 5 min short), longer is slow (6 h long).
 */
export function burnPolicyOfWindow(lookbackSeconds: number): BurnPolicy {
  if (lookbackSeconds === BurnRateWindows.slow.shortSeconds) return BurnPolicies.slow;
  return lookbackSeconds <= BurnRateWindows.fast.longSeconds ? BurnPolicies.fast : BurnPolicies.slow;
}

/** A classification with nothing known yet but the comparison; each rule fills in what it found. */
export const nothing = (comparison: Comparison | null): SignalClassification => ({
  signal: SignalKinds.unsupported,
  lookbackSeconds: null,
  comparison,
  signalValue: null,
  signalThreshold: null,
  sloName: null,
  sloSelector: null,
  burnPolicy: null,
  burnPolicySource: null,
  burnWindows: null,
  unsupportedReason: null,
});

/** Unsupported, with the reason (and what of the SLO was read). Alertmanager's classification says so the same way. */
export const unsupported = (
  comparison: Comparison | null,
  reason: string,
  slo: Partial<SignalClassification> = {},
): SignalClassification => ({
  ...nothing(comparison),
  ...slo,
  signal: SignalKinds.unsupported,
  unsupportedReason: reason,
});

/** 1 − v without the float noise (1 − 0.97 is 0.030000000000000027). */
const complement = (v: number): number => Number((1 - v).toPrecision(12));

/** The comparisons that alert above (below) the threshold; no comparison (null) is in neither. */
const ABOVE: ReadonlySet<Comparison | null> = new Set([Comparisons.gt, Comparisons.ge]);
const BELOW: ReadonlySet<Comparison | null> = new Set([Comparisons.lt, Comparisons.le]);

/** Condition types other than a metric threshold, with what they are called in a reason. */
const OTHER_CONDITIONS: ReadonlyArray<[string, string]> = [
  [
    'conditionPrometheusQueryLanguage',
    'a PromQL condition: its value is whatever the query computes, not a known burn rate or error ratio',
  ],
  ['conditionMonitoringQueryLanguage', 'an MQL condition: its value is whatever the query computes, not a known burn rate or error ratio'],
  ['conditionAbsent', 'a metric-absence condition'],
  ['conditionMatchedLog', 'a log-match condition'],
  ['conditionSql', 'a SQL (Log Analytics) condition'],
];

/** Classifies what the incident's condition measures, for the service it was mapped to. */
export function classifySignal(incident: MonitoringIncident, service: SignalServiceConfig, values: SignalValues): SignalClassification {
  const condition = incident.condition ?? null;
  const threshold = condition?.conditionThreshold ?? null;
  const rawComparison = threshold?.comparison;
  const parsedComparison = Comparison.safeParse(rawComparison);
  const comparison = parsedComparison.success ? parsedComparison.data : null;

  if (!condition) return unsupported(null, 'the notification carries no condition, so what it measures is unknown');
  const other = OTHER_CONDITIONS.find(([key]) => (condition as Record<string, unknown>)[key] != null);
  if (!threshold) return unsupported(comparison, other ? other[1] : 'not a metric-threshold condition');
  if (other) return unsupported(comparison, other[1]);

  const filter = threshold.filter ?? '';
  const selectors = sloSelectorsOf(filter);
  if (selectors.length > 0) return classifySlo(selectors, incident, service, values, comparison);
  return classifyMetric(filter, threshold.denominatorFilter ?? '', service, values, comparison);
}

function classifySlo(
  selectors: SloSelector[],
  incident: MonitoringIncident,
  service: SignalServiceConfig,
  values: SignalValues,
  comparison: Comparison | null,
): SignalClassification {
  const first = selectors[0]!;
  const slo = { sloName: first.slo, sloSelector: first.selector };
  if (selectors.some((s) => s.selector !== first.selector || s.slo !== first.slo)) {
    return unsupported(
      comparison,
      `the filter mixes SLO selectors or SLOs (${selectors.map((s) => `${s.selector}("${s.slo}")`).join(', ')})`,
      slo,
    );
  }
  switch (first.selector) {
    case 'select_slo_burn_rate':
      return classifyBurnRate(selectors, incident, service, values, comparison);
    case 'select_slo_budget_fraction':
    case 'select_slo_health': {
      // Both fall as the budget burns: remaining budget fraction, and the SLO's performance against its goal.
      if (comparison === null || !BELOW.has(comparison)) {
        return unsupported(
          comparison,
          `${first.selector} alerting ${comparison ?? 'without a comparison'} does not fire on a falling budget`,
          slo,
        );
      }
      return {
        ...nothing(comparison),
        ...slo,
        signal: SignalKinds.budget,
        signalValue: values.observed,
        signalThreshold: values.threshold,
      };
    }
    default:
      return unsupported(comparison, `${first.selector} is not a burn rate or a budget fraction`, slo);
  }
}

function classifyBurnRate(
  selectors: SloSelector[],
  incident: MonitoringIncident,
  service: SignalServiceConfig,
  values: SignalValues,
  comparison: Comparison | null,
): SignalClassification {
  const slo = { sloName: selectors[0]!.slo, sloSelector: selectors[0]!.selector };
  const lookbacks: number[] = [];
  for (const s of selectors) {
    const seconds = s.lookback === null ? null : durationSeconds(s.lookback);
    if (seconds === null)
      return unsupported(comparison, `select_slo_burn_rate needs a lookback such as "3600s" (got ${s.lookback ?? 'none'})`, slo);
    if (!lookbacks.includes(seconds)) lookbacks.push(seconds);
  }
  if (lookbacks.length > 2)
    return unsupported(comparison, `a burn-rate filter with ${lookbacks.length} windows is not a multi-window alert`, slo);
  if (comparison === null || !ABOVE.has(comparison)) {
    return unsupported(comparison, `a burn rate alerting ${comparison ?? 'without a comparison'} does not fire on a burn`, slo);
  }
  const long = Math.max(...lookbacks);
  const short = Math.min(...lookbacks);

  let policy: BurnPolicy;
  let source: BurnPolicySource;
  const label = incident.policy_user_labels?.[PolicyUserLabels.burnPolicy];
  const named = [incident.policy_name, incident.condition_name, incident.condition?.displayName ?? '']
    .map(burnPolicyNamedIn)
    .filter((p): p is BurnPolicy => p !== null);
  if (label !== undefined) {
    const value = label.trim().toLowerCase();
    if (value !== BurnPolicies.fast && value !== BurnPolicies.slow) {
      return unsupported(comparison, `policy user label ${PolicyUserLabels.burnPolicy}="${label}" must be fast or slow`, slo);
    }
    policy = value;
    source = BurnPolicySources.policyLabel;
  } else if (named.length > 0 && named.every((p) => p === named[0])) {
    policy = named[0]!;
    source = BurnPolicySources.displayName;
  } else if (lookbacks.length === 2) {
    policy = long <= BurnRateWindows.fast.longSeconds ? BurnPolicies.fast : BurnPolicies.slow;
    source = BurnPolicySources.siblingWindows;
  } else {
    policy = burnPolicyOfWindow(long);
    source = BurnPolicySources.window;
  }

  const windows = lookbacks.length === 2 ? { longSeconds: long, shortSeconds: short } : BurnRateWindows[policy];
  return {
    signal: SignalKinds.burnRate,
    lookbackSeconds: long,
    comparison,
    signalValue: values.observed,
    signalThreshold: values.threshold,
    ...slo,
    burnPolicy: policy,
    burnPolicySource: source,
    burnWindows: {
      longSeconds: windows.longSeconds,
      shortSeconds: windows.shortSeconds,
      threshold: policy === BurnPolicies.fast ? service.policy.fastBurnRate : service.policy.slowBurnRate,
    },
    unsupportedReason: null,
  };
}

function classifyMetric(
  filter: string,
  denominatorFilter: string,
  service: SignalServiceConfig,
  values: SignalValues,
  comparison: Comparison | null,
): SignalClassification {
  const metricType = metricTypeOf(filter);
  if (metricType === null) return unsupported(comparison, 'the condition names no single metric type, so what it measures is unknown');
  if (denominatorFilter.trim() === '') {
    return unsupported(comparison, `${metricType} alone is not a ratio of bad to total requests (the condition has no denominatorFilter)`);
  }
  const denominatorType = metricTypeOf(denominatorFilter);
  const metrics = service.signals.errorRatio?.metrics ?? [];
  const unnamed = [metricType, denominatorType ?? '(none)'].filter((t) => !metrics.some((m) => m.metricType === t));
  if (unnamed.length > 0) {
    return unsupported(
      comparison,
      `a ratio of ${metricType} to ${denominatorType ?? 'an unknown metric'}, and the service's config does not name ${[...new Set(unnamed)].join(', ')} in signals.errorRatio.metricTypes`,
    );
  }
  const counts = ABOVE.has(comparison) ? 'bad' : BELOW.has(comparison) ? 'good' : null;
  if (counts === null)
    return unsupported(comparison, `a ratio alerting ${comparison ?? 'without a comparison'} has no direction to read errors from`);
  // Only bad requests over all of them is an error ratio: a 4xx share or a canary's traffic share is not.
  const predicate = metrics.find((m) => m.metricType === metricType)!.badRequests;
  const refusal = errorRatioRefusal(filter, denominatorFilter, predicate, counts);
  if (refusal !== null) return unsupported(comparison, `a ratio of ${metricType} requests that is not an error ratio: ${refusal}`);
  const toErrors = counts === 'bad' ? (v: number) => v : complement;
  const outOfRange = [values.observed, values.threshold].find((v) => v !== null && (v < 0 || v > 1));
  if (outOfRange !== undefined) return unsupported(comparison, `${outOfRange} is not a ratio between 0 and 1`);
  return {
    ...nothing(comparison),
    signal: SignalKinds.errorRatio,
    signalValue: values.observed === null ? null : toErrors(values.observed),
    signalThreshold: values.threshold === null ? null : toErrors(values.threshold),
    unsupportedReason: null,
  };
}
