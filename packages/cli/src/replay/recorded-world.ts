/**
 * The world a recording was made in, as `burnback replay --through-pipeline`
 * restores it (pipeline.ts drives the services through it): the config with
 * each service's recorded policy, Cloud Deploy's history and Cloud Monitoring's
 * figures as the recording's decider read them, the releases that had served,
 * releases shipped by someone else, and the order the decider met the lines in.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Firestore } from '@google-cloud/firestore';
import {
  Collections,
  DecisionRecord,
  parseRolloutName,
  RollbackRecord,
  rolloutOfResource,
  targetDocIdFor,
  type HistoryRollout,
  type MonitoringCheck,
  type TargetRecord,
} from '@burnback/contracts';
import type { GcpSim, ServedRelease } from '@burnback/gcp-sim';
import { createDeployClient, toFirestoreData, type Config, type DeployHistoryReader, type MonitoringPort } from '@burnback/platform';
import type { ExportLine } from './format.js';

type Decision = DecisionRecord;

/**
 * The config the recording was made with: `loaded` (the --config file), each service with its first recorded
 * decision's policy. A service the file does not configure, or configures on another target, is refused; a policy
 * that changed during the recording is noted in `notes` (the pipeline runs with the first).
 */
export function recordedConfig(
  loaded: Config,
  firstOf: ReadonlyMap<string, Decision>,
  decisions: readonly Decision[],
  configPath: string,
  notes: string[],
): Config {
  const services = new Map(loaded.services);
  const config: Config = { ...loaded, services };
  for (const [name, first] of firstOf) {
    const service = config.services.get(name);
    if (!service) throw new Error(`the recording decides for service ${name}, which ${configPath} does not configure`);
    const recordedTarget = first.target;
    if (
      recordedTarget &&
      (recordedTarget.project !== service.project ||
        recordedTarget.region !== service.region ||
        recordedTarget.pipeline !== service.pipeline ||
        recordedTarget.target !== service.target)
    )
      throw new Error(
        `${configPath} rolls ${name} back on ${targetDocIdFor(service)}, the recording on ${targetDocIdFor(recordedTarget)}: give the config the recording was made with (--config)`,
      );
    services.set(name, { ...service, policy: first.evidence!.policy });
    const changed = decisions.find((d) => d.service === name && d.evidence!.policyHash !== first.evidence!.policyHash);
    if (changed)
      notes.push(`${name}'s policy changed during the recording (decision ${changed.decisionId}); the pipeline runs with the first one`);
  }
  return config;
}

/**
 * Cloud Deploy's history as the recording's decider read it: for each Cloud
 * Deploy notification, the target's rollouts it read then (kept with the
 * notification, `read`). The replay sets what the line being replayed read; a
 * line recorded before reads were kept falls back to gcp-sim's restored history.
 */
export class RecordedDeploy implements DeployHistoryReader {
  current: HistoryRollout[] | null = null;
  constructor(private readonly fallback: DeployHistoryReader) {}
  readHistory(pipelineName: string) {
    return this.fallback.readHistory(pipelineName);
  }
  async rolloutsOnTarget(pipelineName: string, targetId: string) {
    return this.current ?? this.fallback.rolloutsOnTarget(pipelineName, targetId);
  }
  async projectNumberOf() {
    return null;
  }
}

/** Cloud Monitoring as the recording read it: each decision's recorded figures (the file holds them, as it holds the notifications). */
export class RecordedMonitoring implements MonitoringPort {
  current: MonitoringCheck | null = null;
  async readBurnRate(_slo: string, lookbackSeconds: number) {
    const check = this.current;
    if (check === null) throw new Error('the recording holds no Cloud Monitoring reading for this decision');
    if (check.status === 'unavailable') throw new Error(check.error);
    const value =
      lookbackSeconds === check.longWindowSeconds ? check.long : lookbackSeconds === check.shortWindowSeconds ? check.short : null;
    if (value === null) throw new Error(`the recording holds no reading for a ${lookbackSeconds} s window`);
    return { value, at: check.readAt };
  }
  async close() {}
}

/** The part of a rollout name Cloud Deploy and gcp-sim agree on (the project may be a number or an id). */
export const rolloutKey = (resource: string | undefined) => (resource ?? '').replace(/^projects\/[^/]+\//, '');

/** When the decider evaluated a decision (its clock): freezes and the breaker are judged then. */
export const evaluatedAtOf = (d: Decision): Date => new Date(d.controls?.evaluatedAt ?? d.decidedAt);

/** A service's target and the releases that had served it, for gcp-sim's restored world (worldFromHistory). */
export interface ServedTarget {
  name: string;
  pipeline: string;
  target: string;
  project: string;
  region: string;
  served: ServedRelease[];
}

/**
 * Restores, before the first line, what each service's first decision read (its state, its target, each incident
 * already open) into the replay's Firestore, and returns the releases that had served each target (the recording
 * starting at `start`).
 */
export async function restoreFirstReads(
  db: Firestore,
  config: Config,
  firstOf: ReadonlyMap<string, Decision>,
  decisions: readonly Decision[],
  recordedRollbacks: readonly RollbackRecord[],
  start: Date,
): Promise<ServedTarget[]> {
  const served: ServedTarget[] = [];
  for (const [name, first] of firstOf) {
    const evidence = first.evidence!;
    const service = config.services.get(name)!;
    // The bulk lane reads no service document: the first decision that read one read what was there from the start.
    const state = decisions.find((d) => d.service === name && d.evidence!.state !== null)?.evidence!.state ?? null;
    if (state) await db.collection(Collections.services).doc(name).set(toFirestoreData(state));
    const target = decisions.find((d) => d.service === name && d.evidence!.target !== null)?.evidence!.target ?? null;
    if (target)
      await db
        .collection(Collections.targets)
        .doc(targetDocIdFor(target))
        .set(toFirestoreData(evidence.target ?? target));
    served.push({
      name,
      project: service.project,
      region: service.region,
      pipeline: service.pipeline,
      target: service.target,
      served: restoredHistory(
        target,
        recordedRollbacks.filter((r) => r.command.service === name),
        start,
      ),
    });
  }
  const seenIncidents = new Set<string>();
  for (const d of decisions) {
    if (seenIncidents.has(d.incidentId)) continue;
    seenIncidents.add(d.incidentId);
    if (d.evidence!.incident) await db.collection(Collections.incidents).doc(d.incidentId).set(toFirestoreData(d.evidence!.incident));
  }

  return served;
}

/**
 * The order the decider met the lines in: a notification when it evaluated its
 * decision (notifications received together may be decided in another order
 * than they came, and the decisions read each other's effects), a manual
 * request's decision likewise, a progress event or Cloud Deploy notification
 * when it applied it (it may have come late, after a decision evaluated since
 * it was stamped; a file written before that time was kept: when stamped), and
 * every other line at its recorded time; the file's order breaks ties.
 */
export function replayOrder(lines: ExportLine[]): ExportLine[] {
  const firstDecision = new Map<string, Decision>();
  for (const l of lines)
    if (l.kind === 'decision' && !firstDecision.has(l.data.alertEventId)) firstDecision.set(l.data.alertEventId, l.data);
  const keyOf = (line: ExportLine): number => {
    if (line.kind === 'progress' || line.kind === 'deploy-event') return Date.parse(line.data.appliedAt ?? line.at);
    const decision = line.kind === 'notification' ? firstDecision.get(line.data.id) : line.kind === 'decision' ? line.data : undefined;
    return (decision ? evaluatedAtOf(decision) : new Date(line.at)).getTime();
  };
  return lines
    .map((line, index) => ({ line, index, key: keyOf(line) }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((x) => x.line);
}

/**
 * The releases a target had served before the recording: the previous and the
 * serving one, as the decider knew them; and the releases the recorded
 * rollbacks left and returned to, which Cloud Deploy's history held (the one
 * returned to had succeeded earlier, the one left served since).
 */
export function restoredHistory(target: TargetRecord | null, rollbacks: RollbackRecord[], start: Date): ServedRelease[] {
  const served = servedFrom(target);
  const earliest = Math.min(start.getTime(), ...served.map((s) => s.at.getTime()));
  const known = new Set(served.map((s) => s.releaseId));
  const HOUR = 3_600_000;
  const add = (releaseId: string | null | undefined, at: number) => {
    if (!releaseId || known.has(releaseId)) return;
    known.add(releaseId);
    served.push({ releaseId, at: new Date(at) });
  };
  for (const [i, r] of rollbacks.entries()) add(r.releaseId, earliest - (i + 2) * HOUR);
  for (const r of rollbacks) add(r.leaving?.releaseId, earliest - HOUR / 2);
  return served.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The releases a target had served, as its record knows them: the previous one, then the serving one. */
function servedFrom(target: TargetRecord | null): ServedRelease[] {
  if (!target) return [];
  const served: ServedRelease[] = [];
  if (target.previous) served.push({ releaseId: target.previous.releaseId, at: new Date(target.previous.since) });
  if (target.serving) {
    const rollout = target.serving.rollout ? parseRolloutName(target.serving.rollout)?.rolloutId : undefined;
    served.push({ releaseId: target.serving.releaseId, at: new Date(target.serving.since), ...(rollout ? { rolloutId: rollout } : {}) });
  }
  return served;
}

/**
 * A release someone shipped during the recording, shipped again in gcp-sim:
 * the release (if new) and the recorded rollout to the target, every canary
 * phase advanced, until it succeeds (or fails, as the recording says it did).
 */
export async function ship(
  sim: GcpSim,
  deploy: ReturnType<typeof createDeployClient>,
  project: string,
  attributes: Record<string, string>,
  pipelineId: string,
  releaseId: string,
  rolloutId: string,
  fails: boolean,
): Promise<void> {
  const location = rolloutOfResource(attributes.Resource)!.location;
  const pipeline = `projects/${project}/locations/${location}/deliveryPipelines/${pipelineId}`;
  const release = `${pipeline}/releases/${releaseId}`;
  const targetId = attributes.TargetId!;
  if (!sim.deploy.getRelease(release)) {
    const [op] = await deploy.createRelease({ parent: pipeline, releaseId, release: { description: `replayed ${releaseId}` } });
    await op.promise();
  }
  const name = `${release}/rollouts/${rolloutId}`;
  if (sim.deploy.getRollout(name)) return;
  if (fails) sim.deploy.failNextRollouts(targetId, { reason: 'failed in the recording' });
  const [op] = await deploy.createRollout({ parent: release, rolloutId, rollout: { targetId } });
  await op.promise();
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(100)) {
    const [r] = await deploy.getRollout({ name });
    const state = String(r.state);
    if (state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED') return;
    const phases = r.phases ?? [];
    const next = phases.findIndex((p, i) => i > 0 && String(p.state) === 'PENDING' && String(phases[i - 1]!.state) === 'SUCCEEDED');
    if (next > 0) await deploy.advanceRollout({ name, phaseId: phases[next]!.id! });
  }
  throw new Error(`rollout ${name} did not finish within 120 s in gcp-sim`);
}
