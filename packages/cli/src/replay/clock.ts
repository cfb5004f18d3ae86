import type { Clock } from '@burnback/platform';

/**
 * The recorded timeline, for a replay through the running services: the clock
 * stands at the recorded time of the line being replayed, and the replay moves
 * it to each line's time as it reaches that line. While it stands, whatever the
 * services stamp is stamped with the recording's time, however slow the replay
 * runs. A move may go back: lines come in the order the recording applied
 * them, and a report applied after a decision may have been stamped before it.
 *
 * `at` maps a wall-clock time (a Pub/Sub publish time) to the recorded time in
 * force at that moment, so a message published before a move keeps its time.
 */
export class ReplayClock implements Clock {
  /** From `wall` on, the clock read `timeline`. Ascending in `wall`. */
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

  /** From now on the clock reads `time`. */
  moveTo(time: Date): void {
    this.moves.push({ wall: this.wallNow(), timeline: time.getTime() });
  }

  private timelineAt(wall: number): number {
    // Most reads are of the latest move: search from the end. Before the replay began: its start.
    for (let i = this.moves.length - 1; i >= 0; i--) if (this.moves[i]!.wall <= wall) return this.moves[i]!.timeline;
    return this.moves[0]!.timeline;
  }
}
