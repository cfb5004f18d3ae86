import { z } from 'zod';
import type { BurnSeed } from './burn-rates.js';
import { lookbackSecondsOf } from './simulation.js';

/**
 * The `monitoring` part of a scenario file: SLO burn rates over time, per
 * lookback window, relative to when the sim starts:
 *
 * ```yaml
 * monitoring:
 *   burnRates:
 *     - slo: projects/burnback-local/services/api-backend/serviceLevelObjectives/availability
 *       points:
 *         - { ago: 2h, rates: { 1h: 0.4, 5m: 0.3, 6h: 0.5, 30m: 0.4 } }   # healthy
 *         - { ago: 10m, rates: { 1h: 16, 5m: 21 } }                       # burning now
 *         - { after: 5m, rates: { 1h: 2, 5m: 0.2 } }                      # recovers 5 min after start
 * ```
 *
 * Each point holds from its time until the next point of the same window.
 * `ago` is before the sim starts, `after` after it (`30s`, `15m`, `2h`, `3d`);
 * `rates` maps a lookback (`3600s`, `60m`, `1h`) to a burn rate >= 0.
 */
const Offset = z.string().regex(/^\d+(\.\d+)?(s|m|h|d)$/, 'expected a duration such as 30s, 15m, 2h or 3d');
const Lookback = z.string().refine((s) => lookbackSecondsOf(s) !== null, 'expected a lookback such as 3600s, 60m or 1h');

const BurnPointFile = z
  .object({
    ago: Offset.optional(),
    after: Offset.optional(),
    rates: z.record(Lookback, z.number().finite().nonnegative()).refine((r) => Object.keys(r).length > 0, 'name at least one lookback'),
  })
  .strict()
  .refine((p) => (p.ago === undefined) !== (p.after === undefined), 'give exactly one of ago or after');

export const MonitoringScenario = z
  .object({
    burnRates: z
      .array(
        z
          .object({
            slo: z
              .string()
              .regex(
                /^projects\/[^/\s"]+\/services\/[^/\s"]+\/serviceLevelObjectives\/[^/\s"]+$/,
                'expected projects/PROJECT/services/SERVICE/serviceLevelObjectives/SLO',
              ),
            points: z.array(BurnPointFile).min(1),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();
export type MonitoringScenario = z.infer<typeof MonitoringScenario>;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const millis = (d: string): number => Number(d.slice(0, -1)) * UNIT_MS[d.slice(-1) as keyof typeof UNIT_MS];

/** The burn-rate timelines a scenario describes, with times relative to `anchorMs` (the sim's start). */
export function burnSeedFromScenario(monitoring: MonitoringScenario | undefined, anchorMs: number): BurnSeed {
  const seed: BurnSeed = [];
  for (const slo of monitoring?.burnRates ?? []) {
    for (const point of slo.points) {
      const atMs = point.ago !== undefined ? anchorMs - millis(point.ago) : anchorMs + millis(point.after!);
      for (const [lookback, value] of Object.entries(point.rates)) {
        seed.push({ slo: slo.slo, lookbackSeconds: lookbackSecondsOf(lookback)!, points: [{ atMs, value }] });
      }
    }
  }
  return seed;
}
