import fc from 'fast-check';
import { EventTypes, RollbackRecord, type RollbackCommand } from '@burnback/contracts';
import { cloudDeployReasonOf, commandOf, hasAudit, lastDetail, pipelineNameOf, rolloutEndedReason } from './rollback-facts.js';

const command: RollbackCommand = {
  rollbackId: 'rb-1',
  decisionId: 'dec-1',
  incidentId: '0.facts',
  service: 'api-backend',
  project: 'burnback-local',
  region: 'us-central1',
  pipeline: 'api-backend-pipeline',
  target: 'production',
  rolloutId: 'burnback-rb-1',
  releaseId: null,
  reason: 'test',
  requestedAt: '2026-11-26T10:05:00.000Z',
};
const record = (audit: RollbackRecord['audit']): RollbackRecord =>
  RollbackRecord.parse({
    rollbackId: 'rb-1',
    command,
    status: 'started',
    releaseId: 'rel-001',
    rolloutName: null,
    rolloutState: null,
    failureReason: null,
    audit,
    createdAt: '2026-11-26T10:05:00.000Z',
    updatedAt: '2026-11-26T10:05:00.000Z',
  });

describe('what a command and its record say', () => {
  it('a command of the validate-only type is validate-only whatever its data says; a real one is as sent', () => {
    const event = { id: 'e', source: '//t', subject: 's', time: command.requestedAt, data: { ...command, validateOnly: false } };
    expect(commandOf({ ...event, type: EventTypes.rollbackValidate })).toEqual({ ...command, validateOnly: true });
    expect(commandOf({ ...event, type: EventTypes.rollbackCommand })).toEqual({ ...command, validateOnly: false });
    expect(commandOf({ ...event, type: EventTypes.rollbackCommand }).validateOnly).toBe(false);
  });

  it("names the command's pipeline as Cloud Deploy does", () => {
    expect(pipelineNameOf(command)).toBe('projects/burnback-local/locations/us-central1/deliveryPipelines/api-backend-pipeline');
  });

  it("re-publishes a stage with the detail of its latest audit line, or the stage's name when it has none", () => {
    const r = record([
      { at: '2026-11-26T10:05:00.000Z', stage: 'accepted', detail: 'first' },
      { at: '2026-11-26T10:05:01.000Z', stage: 'started', detail: 'started once' },
      { at: '2026-11-26T10:05:02.000Z', stage: 'accepted', detail: 'again' },
    ]);
    expect(lastDetail(r, 'accepted')).toBe('again');
    expect(lastDetail(r, 'started')).toBe('started once');
    expect(lastDetail(r, 'failed')).toBe('failed');
    expect(hasAudit(r, 'started')).toBe(true);
    expect(hasAudit(r, 'succeeded')).toBe(false);
    expect(hasAudit(record([]), 'accepted')).toBe(false);
  });
});

describe('a failed rollout in a rollback’s failure reason', () => {
  it('is worded with Cloud Deploy’s reason when it gave one', () => {
    expect(rolloutEndedReason('burnback-rb-1', 'FAILED', 'revision api-00042 failed its startup probe')).toBe(
      'rollout burnback-rb-1 ended FAILED: revision api-00042 failed its startup probe',
    );
    expect(rolloutEndedReason('burnback-rb-1', 'CANCELLED', '')).toBe('rollout burnback-rb-1 ended CANCELLED');
  });

  it('gives Cloud Deploy’s reason back from the wording, whatever the reason says', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('FAILED', 'CANCELLED', 'HALTED'), (reason, state) => {
        expect(cloudDeployReasonOf(rolloutEndedReason('burnback-rb-7', state, reason), 'burnback-rb-7', state)).toBe(reason);
      }),
    );
  });

  it('finds none in a failure that was not that rollout ending that way', () => {
    const failed = rolloutEndedReason('burnback-rb-7', 'FAILED', 'boom');
    expect(cloudDeployReasonOf(failed, 'burnback-rb-8', 'FAILED')).toBeNull();
    expect(cloudDeployReasonOf(failed, 'burnback-rb-7', 'CANCELLED')).toBeNull();
    expect(cloudDeployReasonOf('no last known good release on production: no rollout was ever made', 'burnback-rb-7', 'FAILED')).toBeNull();
    expect(cloudDeployReasonOf('rollout burnback-rb-7 ended FAILEDX', 'burnback-rb-7', 'FAILED')).toBeNull();
  });
});
