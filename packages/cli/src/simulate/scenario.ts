import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * A simulation scenario: what happens to a service of a running `npm start`
 * stack, step by step, and what Burnback must do about it. YAML, so anyone can
 * copy one from `scenarios/` and edit it:
 *
 * ```yaml
 * description: rel-003 ships through the canary, burns, is rolled back, the incident closes
 * service: api-backend
 * steps:
 *   - ship: rel-003                                 # staging, then production through every canary phase
 *   - burn: { incident: burn, errorRatio: 0.05 }    # an open incident, started now (or `startedAfter: 3h`)
 *   - expect: { decision: rollback, incident: burn }
 *   - expect: { rollback: succeeded, incident: burn, release: rel-002 }
 *   - close: { incident: burn }
 *   - expect: { decision: hold, incident: burn }
 * ```
 *
 * Incident names are made unique per run. An `expect` waits (up to `within`,
 * default 30s) for the decision or rollback stage it names, and fails the run
 * with what was seen instead.
 */
const Duration = z.string().regex(/^\d+(\.\d+)?(s|m|h)$/, 'expected a duration such as 30s, 15m or 3h');
const Name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'incident names are lowercase letters, digits and hyphens');
const Release = z.string().regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, 'expected a Cloud Deploy release id');

const Step = z.union([
  z.object({ ship: Release }).strict(),
  z.object({ abandon: Release }).strict(),
  z
    .object({
      burn: z
        .object({
          incident: Name,
          errorRatio: z.number().gt(0).lt(1).default(0.05),
          /** The burn's start, this long after now: as if that much time had passed since the latest rollout. */
          startedAfter: Duration.optional(),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      storm: z
        .object({
          incidents: z.number().int().min(1).max(1000),
          errorRatio: z.number().gt(0).lt(1).default(0.05),
          /** How many times each notification is delivered (Pub/Sub is at-least-once). */
          deliveries: z.number().int().min(1).max(5).default(1),
        })
        .strict(),
    })
    .strict(),
  z.object({ close: z.object({ incident: Name }).strict() }).strict(),
  z
    .object({
      expect: z.union([
        z
          .object({
            decision: z.enum(['rollback', 'recommend', 'hold', 'escalate', 'ignore']),
            incident: Name,
            /** A regular expression the decision's reason must match. */
            reason: z.string().optional(),
            within: Duration.default('30s'),
          })
          .strict(),
        z
          .object({
            rollback: z.enum(['accepted', 'started', 'succeeded', 'failed', 'superseded', 'validated']),
            incident: Name,
            release: Release.optional(),
            within: Duration.default('30s'),
          })
          .strict(),
        z
          .object({
            /** Exactly this many rollbacks were ordered since the scenario began (checked once every decision is in). */
            rollbacks: z.number().int().min(0),
            decisions: z.number().int().min(1),
            within: Duration.default('60s'),
          })
          .strict(),
      ]),
    })
    .strict(),
]);
export type Step = z.infer<typeof Step>;

export const Scenario = z
  .object({
    description: z.string().min(1),
    service: z.string().min(1).default('api-backend'),
    steps: z.array(Step).min(1),
  })
  .strict();
export type Scenario = z.infer<typeof Scenario>;

/** Reads and checks a scenario file; the error names the step and key at fault. */
export function loadScenario(path: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read scenario ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = Scenario.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`scenario ${path}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

export const durationMsOf = (d: string): number => {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(d)!;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
};
