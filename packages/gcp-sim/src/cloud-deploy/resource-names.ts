import { createHash } from 'node:crypto';
import { invalidArgument } from '../errors.js';
import type { Timestamp } from './resources.js';

/** Cloud Deploy's rule for the ids of rollouts, releases, targets and pipelines. */
export const RESOURCE_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** AIP-159: `-` in place of a parent id means "any". */
export const WILDCARD = '-';

export interface LocationName {
  project: string;
  location: string;
}
export interface PipelineName extends LocationName {
  pipeline: string;
}
export interface TargetName extends LocationName {
  target: string;
}
export interface ReleaseName extends PipelineName {
  release: string;
}
export interface RolloutName extends ReleaseName {
  rollout: string;
}

/** Splits `a/1/b/2` against the collections [a, b]; throws INVALID_ARGUMENT naming the field when it does not fit. */
function parse(name: string, collections: readonly string[], field: string, pattern: string): string[] {
  const parts = name.split('/');
  const fits =
    parts.length === collections.length * 2 && collections.every((c, i) => parts[i * 2] === c && (parts[i * 2 + 1] ?? '') !== '');
  if (!fits) {
    throw invalidArgument(name === '' ? `${field} is required (${pattern})` : `${field} "${name}" is malformed; expected ${pattern}`);
  }
  return collections.map((_, i) => parts[i * 2 + 1]!);
}

export function parseLocationName(name: string, field = 'parent'): LocationName {
  const [project, location] = parse(name, ['projects', 'locations'], field, 'projects/{project}/locations/{location}');
  return { project: project!, location: location! };
}

export function parsePipelineName(name: string, field = 'name'): PipelineName {
  const [project, location, pipeline] = parse(
    name,
    ['projects', 'locations', 'deliveryPipelines'],
    field,
    'projects/{project}/locations/{location}/deliveryPipelines/{delivery_pipeline}',
  );
  return { project: project!, location: location!, pipeline: pipeline! };
}

export function parseTargetName(name: string, field = 'name'): TargetName {
  const [project, location, target] = parse(
    name,
    ['projects', 'locations', 'targets'],
    field,
    'projects/{project}/locations/{location}/targets/{target}',
  );
  return { project: project!, location: location!, target: target! };
}

export function parseReleaseName(name: string, field = 'name'): ReleaseName {
  const [project, location, pipeline, release] = parse(
    name,
    ['projects', 'locations', 'deliveryPipelines', 'releases'],
    field,
    'projects/{project}/locations/{location}/deliveryPipelines/{delivery_pipeline}/releases/{release}',
  );
  return { project: project!, location: location!, pipeline: pipeline!, release: release! };
}

export function parseRolloutName(name: string, field = 'name'): RolloutName {
  const [project, location, pipeline, release, rollout] = parse(
    name,
    ['projects', 'locations', 'deliveryPipelines', 'releases', 'rollouts'],
    field,
    'projects/{project}/locations/{location}/deliveryPipelines/{delivery_pipeline}/releases/{release}/rollouts/{rollout}',
  );
  return { project: project!, location: location!, pipeline: pipeline!, release: release!, rollout: rollout! };
}

export const locationName = (n: LocationName): string => `projects/${n.project}/locations/${n.location}`;
export const pipelineName = (n: PipelineName): string => `${locationName(n)}/deliveryPipelines/${n.pipeline}`;
export const targetName = (n: TargetName): string => `${locationName(n)}/targets/${n.target}`;
export const releaseName = (n: ReleaseName): string => `${pipelineName(n)}/releases/${n.release}`;
export const rolloutName = (n: RolloutName): string => `${releaseName(n)}/rollouts/${n.rollout}`;

/** The release a rollout belongs to (its parent). */
export const releaseOfRollout = (name: string): string => name.slice(0, name.lastIndexOf('/rollouts/'));
/** The pipeline a release or rollout belongs to. */
export const pipelineOf = (name: string): string => name.slice(0, name.indexOf('/releases/'));
/** The last segment of a resource name (its id); an id passes through unchanged. */
export const idOf = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/** A stable id derived from its inputs (resource uids, etags), so seeded data is deterministic. */
export function stableId(parts: readonly string[], length = 32): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, length);
}

export function timestampOf(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function millisOf(t: Timestamp | undefined | null): number {
  if (!t) return 0;
  return Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1_000_000);
}

/** A Cloud Run revision name, `{service}-{00001}-{abc}`. */
export function revisionName(service: string, sequence: number, salt: string): string {
  const suffix = stableId([salt, 'revision'], 3).replace(/[0-9]/g, (d) => String.fromCharCode(97 + Number(d)));
  return `${service}-${String(sequence).padStart(5, '0')}-${suffix}`;
}
