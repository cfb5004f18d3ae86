import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { DeploySeed, Release, Rollout, Target } from './resources.js';
import { RESOURCE_ID } from './resource-names.js';
import { CANARY_STRATEGY, mergeSeeds, pipelineWorld, SeedBuilder, STANDARD_STRATEGY } from './seed.js';
import { ScenarioError } from '../errors.js';

/** What gcp-sim needs of one service Burnback protects (a BURNBACK_CONFIG `services` entry). */
export interface WorldService {
  name: string;
  pipeline: string;
  target: string;
  project?: string;
  region?: string;
}

/** The target every generated pipeline deploys to first, unless a service names it as its own. */
const FIRST_STAGE = 'staging';

/** The services grouped by pipeline (services naming the same one share it): its builder, id, app and targets in stage order. */
function pipelinesOf<S extends WorldService>(
  services: S[],
  defaults: { projectId: string; region: string; anchor?: Date | undefined },
): Map<string, { builder: SeedBuilder; pipeline: string; app: string; targets: string[]; services: S[] }> {
  const byPipeline = new Map<string, { builder: SeedBuilder; pipeline: string; app: string; targets: string[]; services: S[] }>();
  for (const s of services) {
    const project = s.project ?? defaults.projectId;
    const region = s.region ?? defaults.region;
    const key = `${project}/${region}/${s.pipeline}`;
    const entry = byPipeline.get(key) ?? {
      builder: new SeedBuilder(project, region, defaults.anchor),
      pipeline: s.pipeline,
      app: s.name,
      targets: s.target === FIRST_STAGE ? [] : [FIRST_STAGE],
      services: [],
    };
    if (!entry.targets.includes(s.target)) entry.targets.push(s.target);
    entry.services.push(s);
    byPipeline.set(key, entry);
  }
  return byPipeline;
}

/**
 * A world where every service has its pipeline, targets and a history: each
 * pipeline goes `staging` (standard) then the services' targets (the last one
 * with a 25/50 canary and verify), with `rel-001` and `rel-002` succeeded on
 * every target. Services that name the same pipeline share it. For
 * config/local.yaml that is the default seed's pipeline, targets and history.
 */
export function worldFromServices(services: WorldService[], defaults: { projectId: string; region: string; anchor?: Date }): DeploySeed {
  const byPipeline = pipelinesOf(services, defaults);
  return mergeSeeds(
    [...byPipeline.values()].map(({ builder, pipeline, app, targets }) =>
      pipelineWorld(
        builder,
        pipeline,
        app,
        targets.map((t): Target => builder.target(t, { labels: { app } })),
      ),
    ),
  );
}

/** A release that served a service's target from `at` on (a SUCCEEDED rollout that ended then). */
export interface ServedRelease {
  releaseId: string;
  at: Date;
  /** The rollout's id, when the history names it. */
  rolloutId?: string;
}

const ROLLOUT_MINUTES = 4;

/**
 * A world restored from a recorded history (`burnback replay --through-pipeline`):
 * every service's pipeline and targets as worldFromServices builds them, but
 * instead of the generated rel-001 and rel-002, exactly the releases the
 * history says served each target, each with a SUCCEEDED rollout ending at the
 * recorded time (in the order served; a release may serve again, by a later rollout).
 */
export function worldFromHistory(
  services: Array<WorldService & { served: ServedRelease[] }>,
  defaults: { projectId: string; region: string; anchor: Date },
): DeploySeed {
  const byPipeline = pipelinesOf(services, defaults);
  const ago = (at: Date) => Math.max(0, defaults.anchor.getTime() - at.getTime());
  return mergeSeeds(
    [...byPipeline.values()].map(({ builder, pipeline: pipelineId, app, targets: targetIds, services: members }) => {
      const targets = targetIds.map((t): Target => builder.target(t, { labels: { app } }));
      const stages = targets.map((t, i) => ({
        targetId: t.targetId!,
        strategy: i === targets.length - 1 && targets.length > 1 ? CANARY_STRATEGY : STANDARD_STRATEGY,
      }));
      const pipeline = builder.pipeline(pipelineId, stages, { app });
      const all = members.flatMap((m) => m.served.map((r) => ({ ...r, targetId: m.target })));
      all.sort((a, b) => a.at.getTime() - b.at.getTime());
      const releases = new Map<string, Release>();
      const rollouts: Rollout[] = [];
      const used = new Set<string>();
      for (const r of all) {
        if (!releases.has(r.releaseId))
          releases.set(r.releaseId, builder.release(pipeline, targets, r.releaseId, ago(r.at) + (ROLLOUT_MINUTES + 60) * 60_000, { app }));
        let rolloutId = r.rolloutId ?? `${r.releaseId}-to-${r.targetId}-0001`;
        for (let n = 2; used.has(`${r.releaseId}/${rolloutId}`); n++)
          rolloutId = `${r.releaseId}-to-${r.targetId}-${String(n).padStart(4, '0')}`;
        used.add(`${r.releaseId}/${rolloutId}`);
        const last = r.targetId === stages.at(-1)!.targetId;
        rollouts.push(
          builder.rollout({
            release: releases.get(r.releaseId)!,
            rolloutId,
            targetId: r.targetId,
            strategy: stages.find((st) => st.targetId === r.targetId)?.strategy ?? STANDARD_STRATEGY,
            state: 'SUCCEEDED',
            createdAgo: ago(r.at) + ROLLOUT_MINUTES * 60_000,
            durationMs: ROLLOUT_MINUTES * 60_000,
            service: last ? app : `${app}-${r.targetId}`,
          }),
        );
      }
      return { pipelines: [pipeline], targets, releases: [...releases.values()], rollouts };
    }),
  );
}

const ConfigServices = z.object({
  services: z
    .record(
      z.string(),
      z
        .object({
          project: z.string().min(1).optional(),
          region: z.string().min(1).optional(),
          pipeline: z.string().regex(RESOURCE_ID),
          target: z.string().regex(RESOURCE_ID),
        })
        .passthrough(),
    )
    .default({}),
});

/**
 * The services of a BURNBACK_CONFIG file, read for their pipeline and target
 * only (platform's loadConfig owns the rest of the file and its validation).
 */
export function servicesFromConfigFile(path: string): WorldService[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    throw new ScenarioError(path, `cannot read the Burnback config: ${(err as Error).message}`);
  }
  const parsed = ConfigServices.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ScenarioError(`${path}: ${issue.path.join('.')}`, issue.message);
  }
  // eslint-disable-next-line no-restricted-syntax -- the parsed YAML record, its keys checked by the schema; this builds the Map
  return Object.entries(parsed.data.services).map(([name, s]) => ({ name, ...s }));
}
