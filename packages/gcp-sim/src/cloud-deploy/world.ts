import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { DeploySeed, Target } from './resources.js';
import { RESOURCE_ID } from './resource-names.js';
import { mergeSeeds, pipelineWorld, SeedBuilder } from './seed.js';
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

/**
 * A world where every service has its pipeline, targets and a history: each
 * pipeline goes `staging` (standard) then the services' targets (the last one
 * with a 25/50 canary and verify), with `rel-001` and `rel-002` succeeded on
 * every target. Services that name the same pipeline share it. For
 * config/local.yaml that is the default seed's pipeline, targets and history.
 */
export function worldFromServices(services: WorldService[], defaults: { projectId: string; region: string; anchor?: Date }): DeploySeed {
  const byPipeline = new Map<string, { builder: SeedBuilder; pipeline: string; app: string; targets: string[] }>();
  for (const s of services) {
    const project = s.project ?? defaults.projectId;
    const region = s.region ?? defaults.region;
    const key = `${project}/${region}/${s.pipeline}`;
    const entry = byPipeline.get(key) ?? {
      builder: new SeedBuilder(project, region, defaults.anchor),
      pipeline: s.pipeline,
      app: s.name,
      targets: s.target === FIRST_STAGE ? [] : [FIRST_STAGE],
    };
    if (!entry.targets.includes(s.target)) entry.targets.push(s.target);
    byPipeline.set(key, entry);
  }
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
  return Object.entries(parsed.data.services).map(([name, s]) => ({ name, ...s }));
}
