import { capturedLogger } from '@burnback/testkit';
import { CrashPoints, createCrashHook, noCrash, parseCrashPlans } from './chaos.js';
import { ConfigError } from './errors.js';

describe('parseCrashPlans', () => {
  it.each([
    [undefined, []],
    ['', []],
    ['  ', []],
    ['decided-before-publish', [{ point: 'decided-before-publish', at: 1 }]],
    [
      'rollback-target-before-record:3, tracking-before-record:1',
      [
        { point: 'rollback-target-before-record', at: 3 },
        { point: 'tracking-before-record', at: 1 },
      ],
    ],
  ])('reads %j', (raw, plans) => {
    expect(parseCrashPlans(raw)).toEqual(plans);
  });

  it.each([
    [
      'decided-after-publish',
      /unknown crash point "decided-after-publish" \(known: archived-before-publish, decided-before-publish, rollback-target-before-record, tracking-before-record\)/,
    ],
    ['decided-before-publish:0', /"decided-before-publish:0": expected decided-before-publish or decided-before-publish:N/],
    ['decided-before-publish:1.5', /expected decided-before-publish or/],
    ['decided-before-publish:x', /expected decided-before-publish or/],
    ['decided-before-publish:1:2', /expected decided-before-publish or/],
    ['decided-before-publish,', /unknown crash point ""/],
  ])('refuses %j, naming BURNBACK_CHAOS_CRASH_AT', (raw, message) => {
    let error: unknown;
    try {
      parseCrashPlans(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('BURNBACK_CHAOS_CRASH_AT');
    expect((error as Error).message).toMatch(message);
  });
});

describe('createCrashHook', () => {
  it('without plans is the no-op hook and logs nothing', () => {
    const { logger, lines } = capturedLogger('chaos-test');
    const kill = jest.fn();
    expect(createCrashHook([], logger, kill)).toBe(noCrash);
    noCrash(CrashPoints.decidedBeforePublish);
    expect(kill).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('kills at the planned time of its point only, after saying where', () => {
    const { logger, lines } = capturedLogger('chaos-test');
    const kill = jest.fn();
    const crash = createCrashHook([{ point: CrashPoints.trackingBeforeRecord, at: 2 }], logger, kill);
    expect(lines[0]).toMatchObject({ severity: 'WARNING', event: 'chaos_armed' });
    crash(CrashPoints.trackingBeforeRecord, { rollbackId: 'rb-1' });
    crash(CrashPoints.decidedBeforePublish);
    crash(CrashPoints.decidedBeforePublish);
    expect(kill).not.toHaveBeenCalled();
    crash(CrashPoints.trackingBeforeRecord, { rollbackId: 'rb-2' });
    expect(kill).toHaveBeenCalledTimes(1);
    expect(lines.at(-1)).toMatchObject({
      severity: 'ERROR',
      event: 'chaos_crash',
      point: 'tracking-before-record',
      time: 2,
      rollbackId: 'rb-2',
    });
    crash(CrashPoints.trackingBeforeRecord);
    expect(kill).toHaveBeenCalledTimes(1);
  });
});
