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
    expect(late.previous).toEqual(shipped.previous);
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
});
