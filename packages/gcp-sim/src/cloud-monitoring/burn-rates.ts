/**
 * SLO burn rates over time, as gcp-sim's Cloud Monitoring answers them: per SLO
 * and lookback window, a step function of time (each point holds from its time
 * until the next). No timers, no clock: callers pass the times.
 */
export interface BurnPoint {
  /** Milliseconds since the epoch from which `value` holds. */
  atMs: number;
  value: number;
}

/** A burn-rate timeline per SLO name and lookback (seconds). */
export type BurnSeed = Array<{ slo: string; lookbackSeconds: number; points: BurnPoint[] }>;

const keyOf = (slo: string, lookbackSeconds: number): string => `${slo}\u0000${lookbackSeconds}`;

export class BurnRates {
  private readonly timelines = new Map<string, BurnPoint[]>();

  constructor(seed: BurnSeed = []) {
    for (const t of seed) for (const p of t.points) this.set(t.slo, t.lookbackSeconds, p.value, p.atMs);
  }

  /** From `atMs` on, the burn rate of `slo` over `lookbackSeconds` is `value` (replaces a point at the same time). */
  set(slo: string, lookbackSeconds: number, value: number, atMs: number): void {
    if (!Number.isFinite(value) || value < 0) throw new Error(`burn rate must be a finite number >= 0, got ${value}`);
    if (!Number.isFinite(lookbackSeconds) || lookbackSeconds <= 0) throw new Error(`lookback must be > 0 seconds, got ${lookbackSeconds}`);
    const key = keyOf(slo, lookbackSeconds);
    const points = (this.timelines.get(key) ?? []).filter((p) => p.atMs !== atMs);
    points.push({ atMs, value });
    points.sort((a, b) => a.atMs - b.atMs);
    this.timelines.set(key, points);
  }

  /** Forgets the burn of one SLO (every lookback), or of every SLO. */
  clear(slo?: string): void {
    if (slo === undefined) return this.timelines.clear();
    for (const key of [...this.timelines.keys()]) if (key.startsWith(`${slo}\u0000`)) this.timelines.delete(key);
  }

  /** True when any lookback of this SLO has a timeline. */
  knows(slo: string): boolean {
    return [...this.timelines.keys()].some((key) => key.startsWith(`${slo}\u0000`));
  }

  /** The burn rate at `atMs`: the latest point at or before it; null before the first point or for an unknown SLO/lookback. */
  at(slo: string, lookbackSeconds: number, atMs: number): number | null {
    const points = this.timelines.get(keyOf(slo, lookbackSeconds));
    if (!points) return null;
    let value: number | null = null;
    for (const p of points) {
      if (p.atMs > atMs) break;
      value = p.value;
    }
    return value;
  }

  /** Samples newest first: `endMs`, `endMs − stepMs`, … down to `startMs`, only where a value exists. */
  sample(slo: string, lookbackSeconds: number, startMs: number, endMs: number, stepMs: number, max: number): BurnPoint[] {
    const out: BurnPoint[] = [];
    for (let t = endMs; t >= startMs && out.length < max; t -= stepMs) {
      const value = this.at(slo, lookbackSeconds, t);
      if (value === null) break;
      out.push({ atMs: t, value });
    }
    return out;
  }
}
