import type { Clock } from '@burnback/platform';

/**
 * A clock a test sets: what a service reads as "now" (a decision's evaluation,
 * Cloud Monitoring's reading, a re-decision's schedule) at the moment the test
 * says, so fixtures dated in the past are judged as if they had just arrived.
 * Publish times (`at`) are kept as they are.
 */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: string | Date) {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  at(wallTime: Date): Date {
    return wallTime;
  }
  /** From now on the clock reads `time`. */
  set(time: string | Date): void {
    this.current = new Date(time).getTime();
  }
}

/**
 * The moment a decider would evaluate an alert that arrived on time: its
 * observed time, or its receipt when the observed time is impossibly later, plus a second.
 */
export function arrivalOf(alert: { observedAt: string; receivedAt?: string | undefined }): Date {
  const observed = Date.parse(alert.observedAt);
  const received = alert.receivedAt === undefined ? observed : Date.parse(alert.receivedAt);
  return new Date(Math.min(observed, received) + 1000);
}
