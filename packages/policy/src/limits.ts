/**
 * The operator's and the fleet's limits on a decision (pause, freeze, breaker,
 * rate limit, cooldown, mode) and when each refusal lapses. Pure.
 */
import {
  RuleNames,
  type AlertEvent,
  type PolicySettings,
  type RecentRollback,
  type RuleVerdict,
  type ServiceState,
} from '@burnback/contracts';
import { fleetBreakerVerdict, freezeEndsAt, freezeVerdict, modeVerdict, pausedVerdict, type DecisionControls } from './controls.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** When a rollback stops counting for the cooldown: its real finish when known, else when it was decided. */
export function cooldownStartOf(rollback: RecentRollback): number {
  return Date.parse(rollback.finishedAt ?? rollback.decidedAt);
}

/**
 * The operator's and the fleet's rules, automatic or manual: the pause
 * (`paused`, placed by the caller), then the freeze, the fleet breaker, the rate
 * limit, the cooldown and the mode (`verdicts`, in that order). `force` (a manual
 * request's reason) passes all but the mode, each saying it was bypassed.
 */
export function controlVerdicts(
  state: ServiceState,
  event: AlertEvent,
  policy: PolicySettings,
  controls: DecisionControls,
  now: number,
  force: string | null,
): {
  paused: RuleVerdict;
  verdicts: RuleVerdict[];
  escalating: RuleVerdict[];
  mode: RuleVerdict;
  /** When each refusal that can lapse does (epoch ms; null: not within reach). */
  lapses: Array<[RuleVerdict, number | null]>;
} {
  // A pause is judged at the event's time (a late alert from within a pause holds); a freeze at the decider's clock
  // (a backlog decided inside a freeze must not roll back).
  const paused = pausedVerdict(state.service, controls.pause, now);
  const evaluatedAt = controls.evaluatedAt ? Date.parse(controls.evaluatedAt) : now;
  const freeze = freezeVerdict(policy, evaluatedAt);
  const breaker = fleetBreakerVerdict(event, policy, controls.fleet);

  // One pass over the history: rollbacks ordered in the last hour, and the one the cooldown counts from.
  let inLastHour = 0;
  const orderedInHour: number[] = [];
  let latest: RecentRollback | null = null;
  let latestStart = 0;
  for (const r of state.recentRollbacks) {
    const decidedAt = Date.parse(r.decidedAt);
    if (decidedAt > now - HOUR_MS) {
      inLastHour++;
      orderedInHour.push(decidedAt);
    }
    const start = cooldownStartOf(r);
    if (latest === null || start > latestStart) {
      latest = r;
      latestStart = start;
    }
  }
  const underLimit = inLastHour < policy.maxRollbacksPerHour;
  const rateLimit: RuleVerdict = {
    rule: RuleNames.rateLimit,
    passed: underLimit,
    detail: `${inLastHour} rollback(s) of ${state.service} in the last hour; the limit is ${policy.maxRollbacksPerHour}`,
  };

  const cooldownMs = policy.cooldownMinutes * MINUTE_MS;
  const since = latest === null ? null : now - latestStart;
  const cooling = since !== null && since < cooldownMs;
  // Until its outcome is known, a rollback cools the service down from its decision time.
  const what = latest?.finishedAt ? `last rollback ${latest.outcome ?? 'finished'}` : 'last rollback';
  const cooldown: RuleVerdict = {
    rule: RuleNames.cooldown,
    passed: !cooling,
    detail:
      since === null
        ? `no earlier rollback of ${state.service} on record`
        : cooling
          ? `${what} ${Math.max(0, Math.round(since / MINUTE_MS))} min ago is within the ${policy.cooldownMinutes} min cooldown`
          : `${what} ${Math.round(since / MINUTE_MS)} min ago is outside the ${policy.cooldownMinutes} min cooldown`,
  };
  const mode = modeVerdict(policy);
  const bypassable = [paused, freeze, breaker, rateLimit, cooldown].map((v) =>
    force !== null && !v.passed ? { ...v, passed: true, detail: `bypassed by force (${force}): ${v.detail}` } : v,
  );
  const [p, f, b, r, c] = bypassable as [RuleVerdict, RuleVerdict, RuleVerdict, RuleVerdict, RuleVerdict];
  // When each refusal lapses: the pause's end; the end of the freeze in force; the breaker's window (burns age out
  // of it; rollbacks in flight end sooner); the hour of the oldest rollback that keeps the count at the limit; the
  // cooldown's end.
  orderedInHour.sort((x, y) => x - y);
  const overLimit = inLastHour - policy.maxRollbacksPerHour;
  const lapses: Array<[RuleVerdict, number | null]> = [
    [p, controls.pause ? Date.parse(controls.pause.until) : null],
    [f, freezeEndsAt(policy, evaluatedAt)],
    [b, breakerLapse(b, evaluatedAt, policy)],
    [r, policy.maxRollbacksPerHour > 0 && overLimit >= 0 ? orderedInHour[overLimit]! + HOUR_MS : null],
    [c, latest === null ? null : latestStart + cooldownMs],
  ];
  // A freeze or a tripped breaker needs a human: escalate. A pause, the rate limit or the cooldown: hold.
  return { paused: p, verdicts: [f, b, r, c, mode], escalating: [f, b], mode, lapses };
}

/** When to ask the fleet breaker again: after its window for too many burns; a minute on for rollbacks in flight (they end). */
function breakerLapse(verdict: RuleVerdict, evaluatedAt: number, policy: PolicySettings): number | null {
  if (verdict.passed) return null;
  return evaluatedAt + (verdict.detail.includes('in flight') ? MINUTE_MS : policy.breakerWindowMinutes * MINUTE_MS);
}
