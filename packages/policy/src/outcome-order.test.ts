import type { RollbackProgress } from '@burnback/contracts';
import fc from 'fast-check';
import { initialTargetRecord, recordFailedRolloutOnTarget, recordOutcomeOnTarget, recordServingOnTarget } from './index.js';

/**
 * Rollback progress (burnback-progress) and Cloud Deploy's notifications
 * (clouddeploy-operations) reach the decider on different subscriptions, in
 * either order: what serves is whichever was reported last by its own time.
 */
const identity = { project: 'p', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' };
const at = (minutes: number): string => new Date(Date.parse('2026-11-26T10:00:00.000Z') + minutes * 60_000).toISOString();
const succeeded = (minutes: number): RollbackProgress => ({
  rollbackId: 'rb-1',
  decisionId: 'dec-1',
  incidentId: '0.order',
  service: 'api-backend',
  target: 'production',
  stage: 'succeeded',
  sequence: 3,
  rolloutName: 'r',
  releaseId: 'rel-002',
  fromReleaseId: 'rel-003',
  detail: 'succeeded',
  at: at(minutes),
});

describe('the order of progress and Cloud Deploy notifications', () => {
  it('a rollback finishing before a release shipped since, recorded after it, leaves the new release serving', () => {
    const shipped = recordServingOnTarget(initialTargetRecord(identity, at(0)), 'rel-004', at(20), 'rollouts/rel-004');
    const late = recordOutcomeOnTarget(shipped, succeeded(10));
    expect(late.serving).toEqual(shipped.serving);
    // rel-002 served from the rollback's finish until rel-004 shipped: it is the release before rel-004, clean.
    expect(late.previous).toEqual({ releaseId: 'rel-002', since: at(10), until: at(20), burnedAt: null });
    // Still Burnback's own record of what it did: the release left is quarantined, the one returned to remembered.
    expect(late.quarantined.map((q) => q.releaseId)).toEqual(['rel-003']);
    expect(late.returnedTo).toMatchObject({ releaseId: 'rel-002', rollbackId: 'rb-1', at: at(10) });
  });

  it('a rollback finishing after what serves was reported hands over to the release it returned to', () => {
    const shipped = recordServingOnTarget(initialTargetRecord(identity, at(0)), 'rel-003', at(5), 'rollouts/rel-003');
    const rolledBack = recordOutcomeOnTarget(shipped, succeeded(10));
    expect(rolledBack.serving).toEqual({ releaseId: 'rel-002', since: at(10), burnedAt: null });
    expect(rolledBack.previous).toEqual({ releaseId: 'rel-003', since: at(5), until: at(10), burnedAt: null });
    // Reported at the same moment as the rollback finished: the rollback's release serves.
    const same = recordOutcomeOnTarget(recordServingOnTarget(initialTargetRecord(identity, at(0)), 'rel-003', at(10), 'r3'), succeeded(10));
    expect(same.serving).toMatchObject({ releaseId: 'rel-002' });
  });

  it('the late rollback replaces a previous release that served before it, and not one that began serving after it', () => {
    // rel-003 (burned) served from 1, rel-004 shipped at 20; the rollback to rel-002 finished at 10, reported late.
    const burned = recordServingOnTarget(initialTargetRecord(identity, at(0)), 'rel-003', at(1), 'rollouts/rel-003');
    const marked = { ...burned, serving: { ...burned.serving!, burnedAt: at(2) } };
    const shipped = recordServingOnTarget(marked, 'rel-004', at(20), 'rollouts/rel-004');
    expect(shipped.previous).toMatchObject({ releaseId: 'rel-003', burnedAt: at(2) });
    expect(recordOutcomeOnTarget(shipped, succeeded(10)).previous).toEqual({
      releaseId: 'rel-002',
      since: at(10),
      until: at(20),
      burnedAt: null,
    });
    // A previous release that began serving after the rollback finished stays.
    const later = { ...shipped, previous: { releaseId: 'rel-005', since: at(15), until: at(20), burnedAt: null } };
    expect(recordOutcomeOnTarget(later, succeeded(10)).previous).toEqual(later.previous);
    const same = { ...shipped, previous: { releaseId: 'rel-005', since: at(10), until: at(20), burnedAt: null } };
    expect(recordOutcomeOnTarget(same, succeeded(10)).previous).toEqual(same.previous);
  });
});

describe("a rollback's own reports: its progress and Cloud Deploy's notification of its rollout, in either order", () => {
  // rel-002 served, rel-003 shipped at 5 and burned; the rollback back to rel-002 finished.
  const shipped = recordServingOnTarget(
    recordServingOnTarget(initialTargetRecord(identity, at(0)), 'rel-002', at(1), 'rollouts/rel-002'),
    'rel-003',
    at(5),
    'rollouts/rel-003',
  );
  const rollout = 'rollouts/burnback-rb-1';
  const bothOrders = (progressAt: number, deployAt: number) => ({
    progressFirst: recordServingOnTarget(recordOutcomeOnTarget(shipped, succeeded(progressAt)), 'rel-002', at(deployAt), rollout),
    deployFirst: recordOutcomeOnTarget(recordServingOnTarget(shipped, 'rel-002', at(deployAt), rollout), succeeded(progressAt)),
  });

  it.each([
    ['progress stamped before the notification', 10, 10.25],
    ['progress stamped after the notification', 10.25, 10],
  ])('%s: the same target either way; rel-002 serves from the earlier report, rel-003 before it', (_, progressAt, deployAt) => {
    const { progressFirst, deployFirst } = bothOrders(progressAt, deployAt);
    expect(deployFirst).toEqual(progressFirst);
    const from = at(Math.min(progressAt, deployAt));
    expect(progressFirst.serving).toEqual({ releaseId: 'rel-002', since: from, burnedAt: null });
    expect(progressFirst.previous).toEqual({ releaseId: 'rel-003', since: at(5), until: from, burnedAt: null });
    expect(progressFirst.lastRollout).toEqual({ releaseId: 'rel-002', rollout, outcome: 'succeeded', at: at(deployAt) });
    expect(progressFirst.quarantined.map((q) => q.releaseId)).toEqual(['rel-003']);
    expect(progressFirst.returnedTo).toMatchObject({ releaseId: 'rel-002', rollbackId: 'rb-1', at: at(progressAt) });
  });

  it('any two report times give the same target in both orders', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6 * 60, max: 60 * 60 }), fc.integer({ min: 6 * 60, max: 60 * 60 }), (p, d) => {
        const { progressFirst, deployFirst } = bothOrders(p / 60, d / 60);
        expect(deployFirst).toEqual(progressFirst);
        expect(progressFirst.serving!.since).toBe(at(Math.min(p, d) / 60));
      }),
    );
  });

  it('a report of the same release from before the release recorded as previous began serving changes nothing', () => {
    // rel-002 serving since 10, rel-003 before it since 5: a report that rel-002 served from 4 is older than rel-003's ship.
    const rolledBack = recordOutcomeOnTarget(shipped, succeeded(10));
    expect(recordServingOnTarget(rolledBack, 'rel-002', at(4), rollout)).toBe(rolledBack);
    expect(recordServingOnTarget(rolledBack, 'rel-002', at(5), rollout)).toBe(rolledBack);
    const deployed = recordServingOnTarget(shipped, 'rel-002', at(10), rollout);
    expect(recordOutcomeOnTarget(deployed, succeeded(5)).serving).toEqual(deployed.serving);
    // A late report of another release is older news: rel-002 serves on from 10.
    expect(recordServingOnTarget(rolledBack, 'rel-005', at(8), 'rollouts/rel-005')).toBe(rolledBack);
    // A previous release the serving one did not directly follow keeps its end.
    const gap = { ...rolledBack, previous: { ...rolledBack.previous!, until: at(9) } };
    expect(recordServingOnTarget(gap, 'rel-002', at(8), rollout).previous).toEqual(gap.previous);
  });
});

describe("Cloud Deploy's reports of one rollout, and of two at once", () => {
  const shipped = recordServingOnTarget(initialTargetRecord(identity, at(0)), 'rel-002', at(1), 'rollouts/rel-002');

  it('a rollout reported failed, then succeeded (a retried job), serves from its success', () => {
    const failed = recordFailedRolloutOnTarget(shipped, 'rel-003', at(5), 'rollouts/rel-003');
    expect(failed.serving).toEqual(shipped.serving);
    const retried = recordServingOnTarget(failed, 'rel-003', at(7), 'rollouts/rel-003');
    expect(retried.serving).toEqual({ releaseId: 'rel-003', since: at(7), burnedAt: null });
    expect(retried.lastRollout).toEqual({ releaseId: 'rel-003', rollout: 'rollouts/rel-003', outcome: 'succeeded', at: at(7) });
    // Reported succeeded again (a redelivery): nothing changes.
    expect(recordServingOnTarget(retried, 'rel-003', at(8), 'rollouts/rel-003')).toBe(retried);
  });

  it('two rollouts reported at the same instant: the one recorded second serves', () => {
    const first = recordServingOnTarget(shipped, 'rel-003', at(5), 'rollouts/rel-003');
    const second = recordServingOnTarget(first, 'rel-004', at(5), 'rollouts/rel-004');
    expect(second.serving).toEqual({ releaseId: 'rel-004', since: at(5), burnedAt: null });
    expect(second.lastRollout).toMatchObject({ rollout: 'rollouts/rel-004' });
  });
});
