import type { HistoryRollout, ServingRelease, ServingSpan, TargetRecord } from '@burnback/contracts';
import { laterNameFirst, newestFirst, reachedTraffic } from './release-choice.js';

/**
 * What serves a Cloud Deploy target, and since when, from Cloud Deploy's own
 * record of its rollouts. Pure: the decider reads the history, this folds it.
 * docs/architecture.md ("What serves a target") draws one rollout's phases and
 * what the decider believes at each moment.
 *
 * - A release serves from the start of its rollout's first deploy job on the
 *   target (`deploy_start_time`): a canary phase counts, with its share.
 * - It keeps serving through verify, and after a failed verify or a failed
 *   deploy that ran (the executor's rule: a deploy that ran may have reached
 *   traffic; release-choice.ts, reachedTraffic).
 * - It stops when a newer release's first deploy job starts (a rollback is a
 *   rollout of an older release like any other), or when its own rollout is
 *   cancelled or halted: then the release before it serves again, as before.
 * - A redeploy of the release already serving keeps its first serving time.
 */

/** How many spans a target record keeps (newest): serving, previous, and the stretches a late burn may start in. */
export const TIMELINE_KEPT = 12;
/** How many of a target's newest rollouts the timeline is folded from, and kept with a Cloud Deploy notification for replay. */
export const HISTORY_READ_KEPT = 20;

const iso = (ms: number): string => new Date(ms).toISOString();

/** When a rollout began serving: its deploy start time, else (a deploy job ran, but no time is set) its creation. */
function servingStartOf(rollout: HistoryRollout): number {
  return rollout.deployStartTime > 0 ? rollout.deployStartTime : rollout.createTime;
}

/** The phase a rollout that has not finished is in (the one in progress, else the last that succeeded); null once it ended. */
export function phaseOf(rollout: HistoryRollout): string | null {
  if (rollout.state !== 'IN_PROGRESS' && rollout.state !== 'CANCELLING') return null;
  const running = rollout.phases.find((p) => p.state === 'IN_PROGRESS');
  if (running) return running.id;
  const done = rollout.phases.filter((p) => p.state === 'SUCCEEDED');
  return done.length > 0 ? done[done.length - 1]!.id : null;
}

/** The share of traffic a canary phase carries (`canary-25` → 25); null for any other phase. */
export function shareOf(phase: string | null): number | null {
  const m = /^canary-(\d{1,2})$/.exec(phase ?? '');
  return m ? Number(m[1]) : null;
}

/** The rollouts of one target, newest first (create time, ties by name), at most `limit`: what a history read keeps. */
export function newestRolloutsOn(rollouts: readonly HistoryRollout[], targetId: string, limit = HISTORY_READ_KEPT): HistoryRollout[] {
  return rollouts
    .filter((r) => r.targetId === targetId)
    .sort(newestFirst)
    .slice(0, limit);
}

/**
 * The span serving at `at` (epoch ms): of the spans begun by then and not
 * stopped by then, the one begun last. Null when nothing served then.
 */
export function servingAt(timeline: readonly ServingSpan[], at: number): ServingSpan | null {
  let found: ServingSpan | null = null;
  for (const span of timeline) {
    const from = Date.parse(span.from);
    if (from > at || (span.stoppedAt !== null && Date.parse(span.stoppedAt) <= at)) continue;
    if (found === null || from >= Date.parse(found.from)) found = span;
  }
  return found;
}

/**
 * A target's serving spans from its rollouts (any order; other targets' are
 * ignored), oldest first. Rollouts that never reached traffic (pending,
 * waiting for approval, failed before deploying) serve nothing.
 */
export function servingTimeline(rollouts: readonly HistoryRollout[], targetId: string): ServingSpan[] {
  const served = rollouts
    .filter((r) => r.targetId === targetId && reachedTraffic(r))
    .sort((a, b) => servingStartOf(a) - servingStartOf(b) || laterNameFirst(b, a));
  const spans: ServingSpan[] = [];
  for (const r of served) {
    const start = servingStartOf(r);
    const stopped = r.state === 'CANCELLED' || r.state === 'HALTED';
    const before = servingAt(spans, start - 1);
    if (before !== null && before.releaseId === r.releaseId) {
      // A redeploy of the release already serving: it has served since its first rollout, and serves on (one that
      // began the moment a cancelled rollout of it stopped takes that stop back). A redeploy that was cancelled
      // leaves it serving as it was.
      if (!stopped) {
        const i = spans.indexOf(before);
        spans[i] = { ...before, rollout: r.name, state: r.state, phase: phaseOf(r), rollback: r.rollbackOfRollout !== '', stoppedAt: null };
      }
      continue;
    }
    spans.push({
      releaseId: r.releaseId,
      rollout: r.name,
      from: iso(start),
      stoppedAt: stopped ? iso(Math.max(start, r.deployEndTime)) : null,
      state: r.state,
      phase: phaseOf(r),
      rollback: r.rollbackOfRollout !== '',
      burnedAt: null,
    });
  }
  return spans;
}

/** `serving` and `previous` as decisions read them, derived from the timeline. */
export function servingOf(timeline: readonly ServingSpan[]): Pick<TargetRecord, 'serving' | 'previous'> {
  const current = servingAt(timeline, Number.POSITIVE_INFINITY);
  if (current === null) return { serving: null, previous: null };
  const since = Date.parse(current.from);
  const before = servingAt(timeline, since - 1);
  const view = (span: ServingSpan): ServingRelease => ({
    releaseId: span.releaseId,
    since: span.from,
    burnedAt: span.burnedAt,
    rollout: span.rollout,
    phase: span.phase,
  });
  return { serving: view(current), previous: before === null ? null : { ...view(before), until: current.from } };
}

/** The newest spans, oldest first, at most TIMELINE_KEPT. */
function trim(timeline: ServingSpan[]): ServingSpan[] {
  return timeline.slice(-TIMELINE_KEPT);
}

/**
 * The target once Cloud Deploy's history of it was read at `readAt` (the
 * decider's clock): the timeline folded from its newest rollouts, with the
 * burns Burnback had seen on each span kept, `serving` and `previous` derived,
 * and the target's newest rollout in any state. A read older than the one the
 * record holds changes nothing (two reads may finish in either order).
 */
export function rebuildTarget(record: TargetRecord, rollouts: readonly HistoryRollout[], readAt: string): TargetRecord {
  if (record.historyReadAt !== null && Date.parse(readAt) < Date.parse(record.historyReadAt)) return record;
  const newest = newestRolloutsOn(rollouts, record.target);
  const burned = new Map<string, string>();
  for (const span of record.timeline) if (span.burnedAt !== null) burned.set(`${span.releaseId}@${span.from}`, span.burnedAt);
  const timeline = trim(
    servingTimeline(newest, record.target).map((span) => ({ ...span, burnedAt: burned.get(`${span.releaseId}@${span.from}`) ?? null })),
  );
  // A record written before the timeline was kept knew burns only on what served and what served before.
  if (record.timeline.length === 0) {
    for (const known of [record.serving, record.previous]) {
      if (!known || known.burnedAt === null) continue;
      const span = [...timeline].reverse().find((s) => s.releaseId === known.releaseId && s.burnedAt === null);
      if (span) timeline[timeline.indexOf(span)] = { ...span, burnedAt: known.burnedAt };
    }
  }
  const latest = newest[0];
  return {
    ...record,
    timeline,
    ...servingOf(timeline),
    latestRollout: latest ? { name: latest.name, releaseId: latest.releaseId, state: latest.state } : null,
    historyReadAt: readAt,
    updatedAt: readAt,
  };
}

/**
 * The timeline with one span added or updated by its rollout name: how a
 * rollback's `succeeded` progress tells the decider its release serves again
 * before (or after) Cloud Deploy's own notification does. Both carry the
 * rollout's deploy start time, so the order of the two reports changes nothing.
 */
export function withSpan(timeline: readonly ServingSpan[], span: ServingSpan): ServingSpan[] {
  const known = timeline.findIndex((s) => s.rollout === span.rollout || (s.releaseId === span.releaseId && s.from === span.from));
  if (known >= 0) {
    const next = [...timeline];
    next[known] = { ...timeline[known]!, state: span.state, phase: span.phase, stoppedAt: span.stoppedAt };
    return next;
  }
  const before = servingAt(timeline, Date.parse(span.from) - 1);
  if (before !== null && before.releaseId === span.releaseId) return [...timeline];
  return trim([...timeline, span].sort((a, b) => Date.parse(a.from) - Date.parse(b.from)));
}
