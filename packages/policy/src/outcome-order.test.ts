import type { RollbackProgress } from '@burnback/contracts';
import { initialTargetRecord, recordOutcomeOnTarget, recordServingOnTarget } from './index.js';

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
