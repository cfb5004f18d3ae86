/**
 * Where a service reads the time. Production uses the wall clock; a replay
 * through the pipeline (`burnback replay --through-pipeline`) gives every
 * service the recorded timeline instead, so a decision made an hour after a
 * rollback in the recording is made an hour after it in the replay too.
 *
 * `at` maps a time some other clock stamped (a Pub/Sub publish time: the
 * emulator's wall clock) onto this clock; the wall clock keeps it as it is.
 */
export interface Clock {
  now(): Date;
  at(wallTime: Date): Date;
}

export const systemClock: Clock = {
  now: () => new Date(),
  at: (wallTime) => wallTime,
};
