import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  RolloutFailureCauses,
  RolloutStates,
  type DeploySeed,
  type Release,
  type Rollout,
  type Strategy,
  type Target,
} from './resources.js';
import { RESOURCE_ID } from './resource-names.js';
import { phaseIdsOf } from './rollout-phases.js';
import { SeedBuilder } from './seed.js';
import { ScenarioError } from '../errors.js';
import { MonitoringScenario } from '../cloud-monitoring/scenario.js';

/**
 * A scenario file describes a Cloud Deploy world for a test or a demo, in YAML:
 *
 * ```yaml
 * region: us-central1            # default: the sim's region (project: the sim's project)
 * targets:
 *   - { id: production, requireApproval: true }
 * pipelines:
 *   - id: checkout-pipeline
 *     app: checkout              # the Cloud Run service on the last stage ({app}-{target} before it)
 *     stages:
 *       - { target: staging }
 *       - { target: production, canary: [25, 50], verify: true }
 *     releases:
 *       - { id: rel-001, ago: 3d }
 *       - id: rel-002
 *         ago: 1d
 *         abandoned: true
 *         rollouts:
 *           - { target: production, state: SUCCEEDED, ago: 20h, duration: 15m }
 *           - { id: rb-1, target: production, state: FAILED, ago: 2h, phase: canary-25, job: verify, cause: EXECUTION_FAILED }
 *           - { target: production, state: IN_PROGRESS, ago: 5m, phase: canary-50, awaitingAdvance: true, rollbackOf: rb-1 }
 * ```
 *
 * Times are `ago` before the sim starts (`30s`, `15m`, `2h`, `3d`); `rollbackOf`
 * names an earlier rollout id of the same pipeline, which gets this one in its
 * `rolled_back_by_rollouts`. A target a stage names but `targets` does not list
 * is a plain Cloud Run target. Unknown keys are errors. An optional `monitoring`
 * section gives SLO burn rates over time (cloud-monitoring/scenario.ts).
 */
const Duration = z.string().regex(/^\d+(\.\d+)?(s|m|h|d)$/, 'expected a duration such as 30s, 15m, 2h or 3d');
const Id = z.string().regex(RESOURCE_ID, 'expected a Cloud Deploy resource id (lowercase letters, digits, hyphens; starts with a letter)');

const ScenarioRollout = z
  .object({
    id: Id.optional(),
    target: Id,
    state: z.enum(Object.keys(RolloutStates) as [keyof typeof RolloutStates, ...Array<keyof typeof RolloutStates>]).default('SUCCEEDED'),
    ago: Duration,
    duration: Duration.optional(),
    phase: z.string().min(1).optional(),
    awaitingAdvance: z.boolean().optional(),
    job: z.enum(['deploy', 'verify']).optional(),
    cause: z
      .enum(Object.keys(RolloutFailureCauses) as [keyof typeof RolloutFailureCauses, ...Array<keyof typeof RolloutFailureCauses>])
      .optional(),
    reason: z.string().optional(),
    rollbackOf: Id.optional(),
  })
  .strict();

const ScenarioRelease = z
  .object({
    id: Id,
    ago: Duration,
    abandoned: z.boolean().default(false),
    rollouts: z.array(ScenarioRollout).default([]),
  })
  .strict();

const ScenarioStage = z
  .object({
    target: Id,
    canary: z.array(z.number().int().min(0).max(99)).min(1).optional(),
    verify: z.boolean().default(false),
  })
  .strict();

const ScenarioPipeline = z
  .object({
    id: Id,
    app: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/)
      .optional(),
    suspended: z.boolean().default(false),
    stages: z.array(ScenarioStage).min(1),
    releases: z.array(ScenarioRelease).default([]),
  })
  .strict();

export const Scenario = z
  .object({
    project: z
      .string()
      .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/)
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]+-[a-z]+\d+$/)
      .optional(),
    targets: z
      .array(z.object({ id: Id, requireApproval: z.boolean().default(false), description: z.string().optional() }).strict())
      .default([]),
    pipelines: z.array(ScenarioPipeline).min(1),
    /** SLO burn rates for gcp-sim's Cloud Monitoring (see cloud-monitoring/scenario.ts). */
    monitoring: MonitoringScenario.optional(),
  })
  .strict();
export type Scenario = z.infer<typeof Scenario>;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const millis = (duration: string): number => Number(duration.slice(0, -1)) * UNIT_MS[duration.slice(-1) as keyof typeof UNIT_MS];

const pathOf = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');

/** Parses and validates scenario YAML; throws one ScenarioError naming `source` and the bad key. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ScenarioError(source, `not valid YAML: ${(err as Error).message}`);
  }
  const parsed = Scenario.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = pathOf(issue.path);
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown key(s) ${issue.keys.join(', ')}`
        : issue.code === 'invalid_key' // a record key (e.g. a lookback): the key's own problem says more
          ? (issue.issues[0]?.message ?? issue.message)
          : issue.message;
    throw new ScenarioError(where ? `${source}: ${where}` : source, message);
  }
  return parsed.data;
}

export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(path, `cannot read: ${(err as Error).message}`);
  }
  return parseScenario(text, path);
}

/** The world a scenario describes, with times relative to `anchor`. Throws ScenarioError for references that do not resolve. */
export function seedFromScenario(
  scenario: Scenario,
  defaults: { projectId: string; region: string; anchor?: Date },
  source = 'scenario',
): DeploySeed {
  const builder = new SeedBuilder(scenario.project ?? defaults.projectId, scenario.region ?? defaults.region, defaults.anchor);
  const fail = (where: string, message: string): never => {
    throw new ScenarioError(`${source}: ${where}`, message);
  };
  const declared = new Map(scenario.targets.map((t) => [t.id, t]));
  const targets = new Map<string, Target>();
  const targetFor = (id: string, app: string): Target => {
    let target = targets.get(id);
    if (!target) {
      const d = declared.get(id);
      target = builder.target(id, {
        requireApproval: d?.requireApproval ?? false,
        description: d?.description ?? `${id} (Cloud Run)`,
        labels: { app },
      });
      targets.set(id, target);
    }
    return target;
  };
  const seed: DeploySeed = { pipelines: [], targets: [], releases: [], rollouts: [] };
  const pipelineIds = new Set<string>();

  scenario.pipelines.forEach((p, pi) => {
    const at = `pipelines[${pi}]`;
    if (pipelineIds.has(p.id)) fail(`${at}.id`, `pipeline "${p.id}" appears twice`);
    pipelineIds.add(p.id);
    const app = p.app ?? p.id.replace(/-pipeline$/, '');
    const strategies = new Map<string, Strategy>();
    const stages = p.stages.map((s, si) => {
      if (strategies.has(s.target)) fail(`${at}.stages[${si}].target`, `target "${s.target}" is a stage twice`);
      const strategy: Strategy = s.canary
        ? {
            canary: {
              runtimeConfig: { cloudRun: { automaticTrafficControl: true } },
              canaryDeployment: { percentages: s.canary, verify: s.verify },
            },
          }
        : { standard: { verify: s.verify } };
      strategies.set(s.target, strategy);
      return { targetId: s.target, strategy };
    });
    const pipelineTargets = stages.map((s) => targetFor(s.targetId, app));
    const pipeline = builder.pipeline(p.id, stages, { app, suspended: p.suspended });
    seed.pipelines.push(pipeline);

    const byId = new Map<string, Rollout>();
    const releaseIds = new Set<string>();
    p.releases.forEach((r, ri) => {
      const rat = `${at}.releases[${ri}]`;
      if (releaseIds.has(r.id)) fail(`${rat}.id`, `release "${r.id}" appears twice in pipeline "${p.id}"`);
      releaseIds.add(r.id);
      const release: Release = builder.release(pipeline, pipelineTargets, r.id, millis(r.ago), { app, abandoned: r.abandoned });
      seed.releases.push(release);
      const counters = new Map<string, number>();
      r.rollouts.forEach((o, oi) => {
        const oat = `${rat}.rollouts[${oi}]`;
        const strategy = strategies.get(o.target) ?? fail(`${oat}.target`, `target "${o.target}" is not a stage of pipeline "${p.id}"`);
        const n = (counters.get(o.target) ?? 0) + 1;
        counters.set(o.target, n);
        const rolloutId = o.id ?? `${r.id}-to-${o.target}-${String(n).padStart(4, '0')}`;
        if (byId.has(rolloutId)) fail(`${oat}.id`, `rollout "${rolloutId}" appears twice in pipeline "${p.id}"`);
        const phases = phaseIdsOf(strategy);
        if (o.phase !== undefined && !phases.includes(o.phase)) {
          fail(`${oat}.phase`, `"${o.phase}" is not a phase of target "${o.target}" (phases: ${phases.join(', ')})`);
        }
        if (o.awaitingAdvance && (o.state !== 'IN_PROGRESS' || !o.phase || phases.indexOf(o.phase) < 1)) {
          fail(`${oat}.awaitingAdvance`, 'needs state IN_PROGRESS and a phase after the first one (the phase it waits to be advanced to)');
        }
        const stageIndex = stages.findIndex((s) => s.targetId === o.target);
        const rollout = builder.rollout({
          release,
          rolloutId,
          targetId: o.target,
          strategy,
          state: o.state,
          createdAgo: millis(o.ago),
          ...(o.duration ? { durationMs: millis(o.duration) } : {}),
          service: stageIndex === stages.length - 1 ? app : `${app}-${o.target}`,
          ...(o.phase ? { phaseId: o.phase } : {}),
          awaitingAdvance: o.awaitingAdvance ?? false,
          ...(o.job ? { failedJob: o.job } : {}),
          ...(o.cause ? { failureCause: o.cause } : {}),
          ...(o.reason ? { failureReason: o.reason } : {}),
          requireApproval: declared.get(o.target)?.requireApproval ?? false,
        });
        if (o.rollbackOf) {
          const original =
            byId.get(o.rollbackOf) ?? fail(`${oat}.rollbackOf`, `no earlier rollout "${o.rollbackOf}" in pipeline "${p.id}"`);
          rollout.rollbackOfRollout = original.name;
          original.rolledBackByRollouts = [...(original.rolledBackByRollouts ?? []), rollout.name];
        }
        byId.set(rolloutId, rollout);
        seed.rollouts.push(rollout);
      });
    });
  });
  seed.targets = [...targets.values()];
  return seed;
}
