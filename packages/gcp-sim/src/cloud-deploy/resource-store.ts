import type {
  CloudRunMetadata,
  DeliveryPipeline,
  DeploySeed,
  GetRequest,
  ListDeliveryPipelinesResponse,
  ListReleasesResponse,
  ListRequest,
  ListRolloutsResponse,
  ListTargetsResponse,
  Release,
  Rollout,
  Target,
} from './resources.js';
import { alreadyExists, invalidArgument, notFound } from '../errors.js';
import { paginate, type Listable } from './list-query.js';
import {
  RESOURCE_ID,
  WILDCARD,
  idOf,
  locationName,
  millisOf,
  parseLocationName,
  parsePipelineName,
  parseReleaseName,
  parseRolloutName,
  parseTargetName,
  pipelineOf,
  releaseOfRollout,
  stableId,
  targetName,
} from './resource-names.js';

export const clone = <T>(value: T): T => structuredClone(value);

/**
 * The resources of the in-memory Cloud Deploy (delivery pipelines, targets,
 * releases, rollouts), built from a seed, and the read RPCs over them. Every
 * value a public method returns is a copy; subclasses (DeployState) change the
 * resources in place through the protected members.
 */
export class DeployResources {
  protected readonly pipelines = new Map<string, DeliveryPipeline>();
  protected readonly targets = new Map<string, Target>();
  protected readonly releases = new Map<string, Release>();
  protected readonly rollouts = new Map<string, Rollout>();
  /** Insertion order of every resource: breaks create-time ties ("latest" must be well defined). */
  private readonly seqs = new Map<string, number>();
  private nextSeq = 0;

  constructor(seed: DeploySeed) {
    for (const pipeline of seed.pipelines) this.insert(this.pipelines, normalizePipeline(pipeline));
    for (const target of seed.targets) this.insert(this.targets, normalizeTarget(target));
    for (const release of seed.releases) {
      parseReleaseName(release.name, 'seed release name');
      if (!this.pipelines.has(pipelineOf(release.name))) {
        throw new Error(`seed: release ${release.name} belongs to no seeded delivery pipeline`);
      }
      this.insert(this.releases, normalizeRelease(release));
    }
    for (const rollout of seed.rollouts) {
      const name = parseRolloutName(rollout.name, 'seed rollout name');
      if (!this.releases.has(releaseOfRollout(rollout.name))) {
        throw new Error(`seed: rollout ${rollout.name} belongs to no seeded release`);
      }
      if (!this.targets.has(targetName({ ...name, target: rollout.targetId }))) {
        throw new Error(`seed: rollout ${rollout.name} is on target ${rollout.targetId}, which is not seeded`);
      }
      this.insert(this.rollouts, normalizeRollout(rollout));
    }
  }

  // ---- Reads ----

  getDeliveryPipeline({ name }: GetRequest): DeliveryPipeline {
    parsePipelineName(name);
    return clone(this.requirePipeline(name));
  }

  getTarget({ name }: GetRequest): Target {
    parseTargetName(name);
    const target = this.targets.get(name);
    if (!target) throw notFound(`Target "${name}" not found`);
    return clone(target);
  }

  getRelease({ name }: GetRequest): Release {
    parseReleaseName(name);
    return clone(this.requireRelease(name));
  }

  getRollout({ name }: GetRequest): Rollout {
    parseRolloutName(name);
    return clone(this.requireRollout(name));
  }

  listDeliveryPipelines(request: ListRequest): ListDeliveryPipelinesResponse {
    const parent = locationName(parseLocationName(request.parent));
    const page = this.page(
      'ListDeliveryPipelines',
      request,
      [...this.pipelines.values()].filter((p) => p.name.startsWith(`${parent}/`)),
    );
    return { deliveryPipelines: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  listTargets(request: ListRequest): ListTargetsResponse {
    const parent = locationName(parseLocationName(request.parent));
    const page = this.page(
      'ListTargets',
      request,
      [...this.targets.values()].filter((t) => t.name.startsWith(`${parent}/`)),
    );
    return { targets: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  listReleases(request: ListRequest): ListReleasesResponse {
    parsePipelineName(request.parent, 'parent');
    this.requirePipeline(request.parent);
    const releases = [...this.releases.values()].filter((r) => pipelineOf(r.name) === request.parent);
    const page = this.page('ListReleases', request, releases);
    return { releases: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  /** `parent` is a release, or `{pipeline}/releases/-` for the rollouts of every release (AIP-159). */
  listRollouts(request: ListRequest): ListRolloutsResponse {
    const parent = parseReleaseName(request.parent, 'parent');
    let rollouts: Rollout[];
    if (parent.release === WILDCARD) {
      const pipeline = pipelineOf(request.parent);
      this.requirePipeline(pipeline);
      rollouts = [...this.rollouts.values()].filter((r) => pipelineOf(r.name) === pipeline);
    } else {
      this.requireRelease(request.parent);
      rollouts = [...this.rollouts.values()].filter((r) => releaseOfRollout(r.name) === request.parent);
    }
    const page = this.page('ListRollouts', request, rollouts);
    return { rollouts: page.items, nextPageToken: page.nextPageToken, unreachable: [] };
  }

  /** Every rollout, newest first. */
  allRollouts(): Rollout[] {
    return this.newestFirst([...this.rollouts.values()]).map(clone);
  }

  /** Rollouts on a target (by id, in any pipeline), newest first. */
  rolloutsOnTarget(targetId: string): Rollout[] {
    return this.newestFirst([...this.rollouts.values()].filter((r) => r.targetId === targetId)).map(clone);
  }

  findRollout(name: string): Rollout | undefined {
    const rollout = this.rollouts.get(name);
    return rollout && clone(rollout);
  }

  findRelease(name: string): Release | undefined {
    const release = this.releases.get(name);
    return release && clone(release);
  }

  // ---- internals ----

  protected requireFreeRolloutId(pipelineName: string, rolloutId: string): void {
    const taken = [...this.rollouts.values()].find((r) => pipelineOf(r.name) === pipelineName && idOf(r.name) === rolloutId);
    if (taken) throw alreadyExists(`Rollout "${taken.name}" already exists`);
  }

  /** The Cloud Run service earlier rollouts on this pipeline's target deployed, if any. */
  protected serviceOf(pipelineName: string, targetId: string): CloudRunMetadata | undefined {
    const onTarget = this.newestFirst(
      [...this.rollouts.values()].filter((r) => pipelineOf(r.name) === pipelineName && r.targetId === targetId),
    );
    return onTarget.find((r) => r.metadata?.cloudRun?.service)?.metadata?.cloudRun;
  }

  protected nextRevision(service: string): number {
    let highest = 0;
    for (const r of this.rollouts.values()) {
      const cloudRun = r.metadata?.cloudRun;
      if (cloudRun?.service !== service || !cloudRun.revision) continue;
      const n = Number(/-(\d{5})-[a-z]+$/.exec(cloudRun.revision)?.[1] ?? 0);
      highest = Math.max(highest, n);
    }
    return highest + 1;
  }

  private page<T extends { name: string; createTime?: { seconds: string; nanos: number } }>(
    method: string,
    request: ListRequest,
    items: T[],
  ): { items: T[]; nextPageToken: string } {
    const keyOf = (item: T): Listable => ({
      name: item.name,
      createdAt: millisOf(item.createTime),
      seq: this.seqs.get(item.name) ?? 0,
    });
    const page = paginate(items, keyOf, { method, ...request });
    return { items: page.items.map(clone), nextPageToken: page.nextPageToken };
  }

  protected newestFirst(rollouts: Rollout[]): Rollout[] {
    return [...rollouts].sort((a, b) => millisOf(b.createTime) - millisOf(a.createTime) || this.seqOf(b) - this.seqOf(a));
  }

  /** Oldest first, by creation. */
  protected inOrder(rollouts: Rollout[]): Rollout[] {
    return [...rollouts].sort((a, b) => millisOf(a.createTime) - millisOf(b.createTime) || this.seqOf(a) - this.seqOf(b));
  }

  /** Most recently completed first: what is "current" on a target is what finished deploying last. */
  protected lastSucceededFirst(rollouts: Rollout[]): Rollout[] {
    const doneAt = (r: Rollout) => millisOf(r.deployEndTime ?? r.createTime);
    return [...rollouts].sort((a, b) => doneAt(b) - doneAt(a) || this.seqOf(b) - this.seqOf(a));
  }

  protected seqOf(resource: { name: string }): number {
    return this.seqs.get(resource.name) ?? 0;
  }

  protected insert<T extends { name: string }>(map: Map<string, T>, resource: T): void {
    if (map.has(resource.name)) throw new Error(`seed: ${resource.name} appears twice`);
    map.set(resource.name, resource);
    this.seqs.set(resource.name, this.nextSeq++);
  }

  protected requirePipeline(name: string): DeliveryPipeline {
    const pipeline = this.pipelines.get(name);
    if (!pipeline) throw notFound(`DeliveryPipeline "${name}" not found`);
    return pipeline;
  }

  protected requireRelease(name: string): Release {
    const release = this.releases.get(name);
    if (!release) throw notFound(`Release "${name}" not found`);
    return release;
  }

  protected requireRollout(name: string): Rollout {
    const rollout = this.rollouts.get(name);
    if (!rollout) throw notFound(`Rollout "${name}" not found`);
    return rollout;
  }
}

export function requireResourceId(field: string, id: string): void {
  if (id === '') throw invalidArgument(`${field} is required`);
  if (!RESOURCE_ID.test(id)) {
    throw invalidArgument(
      `${field} "${id}" is invalid: it must be 1 to 63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen (${RESOURCE_ID.source})`,
    );
  }
}

function normalizePipeline(p: DeliveryPipeline): DeliveryPipeline {
  parsePipelineName(p.name, 'seed delivery pipeline name');
  return { uid: stableId([p.name]), etag: stableId([p.name, 'etag'], 16), ...clone(p) };
}

function normalizeTarget(t: Target): Target {
  parseTargetName(t.name, 'seed target name');
  return { targetId: idOf(t.name), uid: stableId([t.name]), etag: stableId([t.name, 'etag'], 16), ...clone(t) };
}

export function normalizeRelease(r: Release): Release {
  return { uid: stableId([r.name]), etag: stableId([r.name, 'etag'], 16), renderState: 'SUCCEEDED', ...clone(r) };
}

export function normalizeRollout(r: Rollout): Rollout {
  return {
    uid: stableId([r.name]),
    etag: stableId([r.name, 'etag'], 16),
    approvalState: 'DOES_NOT_NEED_APPROVAL',
    deployFailureCause: 'FAILURE_CAUSE_UNSPECIFIED',
    rolledBackByRollouts: [],
    phases: [],
    ...clone(r),
  };
}
