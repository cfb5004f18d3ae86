import type { Clock } from '@burnback/platform';

/**
 * The recorded timeline, for a replay through the running services: the clock
 * stands at the recorded time of the line being replayed, and the replay moves
 * it to each line's time as it reaches that line. While it stands, whatever the
 * services stamp is stamped with the recording's time, however slow the replay
 * runs. It never runs backwards: a recorded time earlier than what it already
 * reads leaves it where it is.
 *
 * `at` maps a wall-clock time (a Pub/Sub publish time) to the recorded time in
 * force at that moment, so a message published before a move keeps its time.
 */
export class ReplayClock implements Clock {
  /** From `wall` on, the clock read `timeline`. Ascending in both. */
  private readonly moves: Array<{ wall: number; timeline: number }> = [];

  constructor(
    start: Date,
    private readonly wallNow: () => number = Date.now,
  ) {
    this.moves.push({ wall: this.wallNow(), timeline: start.getTime() });
  }

  now(): Date {
    return new Date(this.timelineAt(this.wallNow()));
  }

  at(wallTime: Date): Date {
    return new Date(this.timelineAt(wallTime.getTime()));
  }

  /** From now on the clock reads `time`, or what it reads already if that is later. Returns what it reads. */
  moveTo(time: Date): Date {
    const wall = this.wallNow();
    const timeline = Math.max(time.getTime(), this.timelineAt(wall));
    this.moves.push({ wall, timeline });
    return new Date(timeline);
  }

  private timelineAt(wall: number): number {
    // Most reads are of the latest move: search from the end. Before the replay began: its start.
    for (let i = this.moves.length - 1; i >= 0; i--) if (this.moves[i]!.wall <= wall) return this.moves[i]!.timeline;
    return this.moves[0]!.timeline;
  }
}
