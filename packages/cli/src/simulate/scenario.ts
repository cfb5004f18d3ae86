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
 *   - burn: { incident: burn, errorRatio: 0.05 }    # an open incident, started now (or `startedAfter: 3h`); again: re-notified
 *   - expect: { decision: rollback, incident: burn }
 *   - expect: { rollback: succeeded, incident: burn, release: rel-002 }
 *   - close: { incident: burn }
 *   - expect: { decision: hold, incident: burn }
 * ```
 *
 * Incident names are made unique per run. An `expect` waits (up to `within`,
 * default 30s) for the decision or rollback stage it names, and fails the run
 * with what was seen instead. `fail` tells gcp-sim (through its control
 * endpoint) to fail the service's next rollback: its rollout ends FAILED in
 * Cloud Deploy (`rollback: rollout`) or RollbackTarget refuses it
 * (`rollback: refused`), with `reason`. `continues` names the scenario this one
 * picks up from: it expects the stack as that one left it.
 */
const Duration = z.string().regex(/^\d+(\.\d+)?(s|m|h)$/, 'expected a duration such as 30s, 15m or 3h');
const Name = z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'names are lowercase letters, digits and hyphens');
const Release = z.string().regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, 'expected a Cloud Deploy release id');
/** A regular expression, checked when the file is read rather than when the step runs. */
const Pattern = z.string().refine((source) => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}, 'expected a regular expression');

/** Each kind of `expect`, by the key that names it. */
const EXPECTS = {
  decision: z
    .object({
      decision: z.enum(['rollback', 'recommend', 'hold', 'escalate', 'ignore']),
      incident: Name,
      /** A regular expression the decision's reason must match. */
      reason: Pattern.optional(),
      within: Duration.default('30s'),
    })
    .strict(),
  rollback: z
    .object({
      rollback: z.enum(['accepted', 'started', 'succeeded', 'failed', 'superseded', 'validated']),
      incident: Name,
      release: Release.optional(),
      /** A regular expression the stage's detail (for `failed`, the reason it failed) must match. */
      reason: Pattern.optional(),
      within: Duration.default('30s'),
    })
    .strict(),
  rollbacks: z
    .object({
      /** Exactly this many rollbacks were ordered since the scenario began (checked once every decision is in). */
      rollbacks: z.number().int().min(0),
      /** Decisions on the scenario's notifications (re-decisions the decider makes on its own are counted apart). */
      decisions: z.number().int().min(1),
      within: Duration.default('60s'),
    })
    .strict(),
} as const;

/** Each kind of step, by its one key. */
const STEPS = {
  ship: z.object({ ship: Release }).strict(),
  abandon: z.object({ abandon: Release }).strict(),
  burn: z
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
  storm: z
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
  close: z.object({ close: z.object({ incident: Name }).strict() }).strict(),
  fail: z
    .object({
      fail: z
        .object({
          /** rollout: the rollback's rollout ends FAILED in Cloud Deploy; refused: RollbackTarget answers FAILED_PRECONDITION. */
          rollback: z.enum(['rollout', 'refused']),
          /** The rollout's failure_reason, or the refusal's message: what Burnback reports the rollback failed with. */
          reason: z.string().trim().min(1, 'give the reason the rollback fails with').max(500),
          /** How many of the service's next rollbacks fail. */
          count: z.number().int().min(1).max(100).default(1),
        })
        .strict(),
    })
    .strict(),
  expect: z.object({ expect: z.union([EXPECTS.decision, EXPECTS.rollback, EXPECTS.rollbacks]) }).strict(),
} as const;

const Step = z.union([STEPS.ship, STEPS.abandon, STEPS.burn, STEPS.storm, STEPS.close, STEPS.fail, STEPS.expect]);
export type Step = z.infer<typeof Step>;

export const Scenario = z
  .object({
    description: z.string().min(1),
    service: z.string().min(1).default('api-backend'),
    /** The scenario (a name in scenarios/) this one picks up from: play it on a stack where that one has just run. */
    continues: Name.optional(),
    steps: z.array(Step).min(1),
  })
  .strict();
export type Scenario = z.infer<typeof Scenario>;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const valueAt = (root: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (value, key) => (isRecord(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[key] : undefined),
    root,
  );

/**
 * `key.path: message` for the first issue. A union (a step, an expect) fails as
 * a whole in zod; the step's own key says which kind it was meant to be, so the
 * issue of that kind is the one reported (`steps.3.fail.rollback: …`).
 */
function explain(issue: z.core.$ZodIssue, raw: unknown, base: readonly PropertyKey[] = []): string {
  const path = [...base, ...issue.path];
  const at = path.map(String).join('.') || '(top)';
  if (issue.code === 'invalid_union') {
    const isStep = path.length === 2 && path[0] === 'steps';
    const isExpect = path.length === 3 && path[0] === 'steps' && path[2] === 'expect';
    const kinds: Record<string, z.ZodType> | null = isStep ? STEPS : isExpect ? EXPECTS : null;
    if (kinds) {
      const value = valueAt(raw, path);
      const named = isRecord(value) ? Object.keys(kinds).filter((k) => k in value) : [];
      if (isStep && named.length > 1) return `${at}: one step per list item (this one has ${named.join(' and ')}); start each with '- '`;
      const kind = named[0];
      const what = isStep ? 'a step is one of' : 'an expect names one of';
      if (kind === undefined) {
        const got = isRecord(value) ? Object.keys(value).join(', ') || 'nothing' : JSON.stringify(value);
        return `${at}: ${what} ${Object.keys(kinds).join(', ')} (got ${got})`;
      }
      const again = kinds[kind]!.safeParse(value);
      if (!again.success) return explain(again.error.issues[0]!, raw, path);
    }
  }
  return `${at}: ${issue.message}`;
}

/** Checks a parsed scenario document; the error names the step and key at fault. */
export function parseScenario(raw: unknown, source: string): Scenario {
  const parsed = Scenario.safeParse(raw);
  if (!parsed.success) throw new Error(`scenario ${source}: ${explain(parsed.error.issues[0]!, raw)}`);
  return parsed.data;
}

/** Reads and checks a scenario file; the error names the step and key at fault. */
export function loadScenario(path: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read scenario ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseScenario(raw, path);
}

export const durationMsOf = (d: string): number => {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(d)!;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
};
