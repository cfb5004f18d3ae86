import type { Clock } from '@burnback/platform';

/**
 * The recorded timeline, for a replay through the running services. The replay
 * moves it to each recorded line's time as it reaches that line; in between it
 * runs at the wall clock's pace (a rollout that took 5 s takes about 5 s). It
 * never runs backwards: when the replay is slower than the recording was, it
 * stays ahead of the recorded times by the difference.
 *
 * `at` maps a wall-clock time (a Pub/Sub publish time) to the timeline in force
 * at that moment, so a message published before a move keeps its earlier time.
 */
export class ReplayClock implements Clock {
  /** From `wall` on, the clock read `timeline` and ran on from there (or stood still, `frozen`). Ascending in both. */
  private readonly moves: Array<{ wall: number; timeline: number; frozen: boolean }> = [];

  constructor(
    start: Date,
    private readonly wallNow: () => number = Date.now,
  ) {
    this.moves.push({ wall: this.wallNow(), timeline: start.getTime(), frozen: false });
  }

  now(): Date {
    return new Date(this.timelineAt(this.wallNow()));
  }

  at(wallTime: Date): Date {
    return new Date(this.timelineAt(wallTime.getTime()));
  }

  /**
   * From now on the clock reads `time`, or what it reads already if that is
   * later; `frozen`, it stands there until the next move (while the replay waits
   * for an effect the recording timed exactly). Returns what it reads.
   */
  moveTo(time: Date, options: { frozen?: boolean } = {}): Date {
    const wall = this.wallNow();
    const timeline = Math.max(time.getTime(), this.timelineAt(wall));
    this.moves.push({ wall, timeline, frozen: options.frozen ?? false });
    return new Date(timeline);
  }

  private timelineAt(wall: number): number {
    // Most reads are of the latest move: search from the end.
    for (let i = this.moves.length - 1; i >= 0; i--) {
      const move = this.moves[i]!;
      if (move.wall <= wall) return move.frozen ? move.timeline : move.timeline + (wall - move.wall);
    }
    const first = this.moves[0]!;
    return first.timeline - (first.wall - wall);
  }
}
