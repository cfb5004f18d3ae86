import type { HistoryRollout, RollbackProgress, TargetRecord } from '@burnback/contracts';
import fc from 'fast-check';
import { historyRollout } from '@burnback/testkit/fixtures';
import { initialTargetRecord, rebuildTarget, recordBurnOnTarget, recordOutcomeOnTarget } from './index.js';

/**
 * A rollback is reported twice, on two subscriptions, in either order: its
 * `succeeded` progress (burnback-progress) and Cloud Deploy's own notification of
 * its rollout, after which the decider reads the target's history. Both say the
 * returned release serves from the rollback rollout's first deploy job, so the
 * order changes nothing the decisions read.
 */
const identity = { project: 'burnback-local', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' };
const T0 = Date.parse('2026-11-26T10:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

function succeeded(rollback: HistoryRollout, fromReleaseId: string, finishedAt: string): RollbackProgress {
  return {
    rollbackId: 'rb-1',
    decisionId: 'dec-1',
    incidentId: '0.order',
    service: 'api-backend',
    target: 'production',
    stage: 'succeeded',
    sequence: 3,
    rolloutName: rollback.name,
    releaseId: rollback.releaseId,
    fromReleaseId,
    detail: 'succeeded',
    at: finishedAt,
    servingSince: new Date(rollback.deployStartTime).toISOString(),
  };
}

/** What decisions read of a target, and what Burnback keeps of its own rollbacks. */
const read = (t: TargetRecord) => ({
  serving: t.serving,
  previous: t.previous,
  timeline: t.timeline,
  quarantined: t.quarantined,
  returnedTo: t.returnedTo,
});

describe('the order of a rollback’s progress and Cloud Deploy’s notification of it', () => {
  const before = [historyRollout('rel-001', at(-3000), 'SUCCEEDED'), historyRollout('rel-002', at(-60), 'SUCCEEDED')];
  const rb = historyRollout('rel-001', at(3), 'SUCCEEDED', { id: 'burnback-rb-1', rollbackOf: before[1]!.name, end: at(6) });

  it('either order gives the release returned to serving from the rollback’s first deploy job', () => {
    const known = rebuildTarget(initialTargetRecord(identity, at(-9000)), before, at(0));
    const progressFirst = rebuildTarget(recordOutcomeOnTarget(known, succeeded(rb, 'rel-002', at(6))), [...before, rb], at(7));
    const deployFirst = recordOutcomeOnTarget(rebuildTarget(known, [...before, rb], at(7)), succeeded(rb, 'rel-002', at(6)));
    expect(read(progressFirst)).toEqual(read(deployFirst));
    expect(progressFirst.serving).toMatchObject({ releaseId: 'rel-001', since: at(3), rollout: rb.name });
    expect(progressFirst.previous).toMatchObject({ releaseId: 'rel-002', since: at(-60), until: at(3) });
    expect(progressFirst.quarantined.map((q) => q.releaseId)).toEqual(['rel-002']);
    expect(progressFirst.returnedTo).toMatchObject({ releaseId: 'rel-001', rollbackId: 'rb-1', at: at(6) });
  });

  it('a progress without the rollout’s start (an older executor) hands over at the finish, until the history says otherwise', () => {
    const known = rebuildTarget(initialTargetRecord(identity, at(-9000)), before, at(0));
    const old = { ...succeeded(rb, 'rel-002', at(6)), servingSince: undefined };
    expect(recordOutcomeOnTarget(known, old).serving).toMatchObject({ releaseId: 'rel-001', since: at(6) });
    expect(rebuildTarget(recordOutcomeOnTarget(known, old), [...before, rb], at(7)).serving).toMatchObject({ since: at(3) });
  });

  it('a record without a timeline hands over at the finish; a repeat of the same rollback changes nothing', () => {
    const bare = initialTargetRecord(identity, at(-9000));
    const once = recordOutcomeOnTarget(bare, { ...succeeded(rb, 'rel-002', at(6)), rolloutName: null });
    expect(once.serving).toMatchObject({ releaseId: 'rel-001', since: at(6) });
    expect(once.previous).toBeNull();
    expect(recordOutcomeOnTarget(once, succeeded(rb, 'rel-002', at(9)))).toBe(once);
  });

  it('any history, any rollback in it, any order, any burn: the same target', () => {
    const states = ['SUCCEEDED', 'IN_PROGRESS', 'FAILED', 'CANCELLED'] as const;
    const history = fc.array(
      fc.record({
        release: fc.constantFrom('rel-002', 'rel-003', 'rel-004'),
        start: fc.integer({ min: -500, max: -1 }),
        state: fc.constantFrom(...states),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(history, fc.integer({ min: 0, max: 30 }), fc.option(fc.integer({ min: -600, max: 40 })), (rows, start, burn) => {
        const rollouts = rows.map((r, i) =>
          historyRollout(r.release, at(r.start), r.state, { id: `r-${i}`, end: r.state === 'CANCELLED' ? at(r.start + 1) : undefined }),
        );
        const known0 = rebuildTarget(initialTargetRecord(identity, at(-9000)), rollouts, at(-1));
        const known = burn === null ? known0 : recordBurnOnTarget(known0, at(burn));
        const back = historyRollout('rel-001', at(start), 'SUCCEEDED', { id: 'burnback-rb-9', end: at(start + 2) });
        const progress = succeeded(back, known.serving?.releaseId ?? 'rel-002', at(start + 2));
        const a = rebuildTarget(recordOutcomeOnTarget(known, progress), [...rollouts, back], at(50));
        const b = recordOutcomeOnTarget(rebuildTarget(known, [...rollouts, back], at(50)), progress);
        expect(read(a)).toEqual(read(b));
        expect(a.serving).toMatchObject({ releaseId: 'rel-001', since: at(start) });
      }),
    );
  });
});
