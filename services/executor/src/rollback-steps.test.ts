import fc from 'fast-check';
import { cloudDeployReasonOf, rolloutEndedReason } from './rollback-steps.js';

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
