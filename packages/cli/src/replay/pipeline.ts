import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import {
  Collections,
  DecisionRecord,
  EventTypes,
  parseRolloutName,
  RollbackRecord,
  rolloutOfResource,
  targetDocIdFor,
  Topics,
  type HistoryRollout,
  type MonitoringCheck,
  type TargetRecord,
} from '@burnback/contracts';
import { startDeciderService } from '@burnback/decider';
import { cloudDeployReasonOf, startExecutorService } from '@burnback/executor';
import { EMULATORS, ensureEmulator, ensureTopology, freePort, stopEmulator, type RunningEmulator } from '@burnback/emulators';
import { startGcpSim, worldFromHistory, type GcpSim, type ServedRelease } from '@burnback/gcp-sim';
import { alertmanagerNotificationFor, startIngestService } from '@burnback/ingest';
import {
  CloudDeployHistory,
  createDeployClient,
  loadConfig,
  PubSubPublisher,
  silentLogger,
  toFirestoreData,
  type Config,
  type DeployHistoryReader,
  type Logger,
  type MonitoringPort,
} from '@burnback/platform';
import { ReplayClock } from './clock.js';
import type { ExportHeader, ExportLine } from './format.js';
import { decisionDifferences } from './compare.js';

export { decisionDifferences } from './compare.js';

type Decision = DecisionRecord;
type Line<K extends ExportLine['kind']> = Extract<ExportLine, { kind: K }>;

export interface ThroughPipelineOptions {
  /** The Burnback config the recording was made with (services, their targets and signals); policies come from the file. */
  configPath: string;
  /** One line of progress (standard error). */
  progress?: (line: string) => void;
  /** The services' logs (default: none). */
  logger?: Logger;
  /** How long to wait for the pipeline to produce each recorded effect before calling it missing. Default 60 s. */
  waitMs?: number;
  /** gcp-sim's rollout step (default 20 ms: a held rollout, once released, ends at once). */
  rolloutStepMs?: number;
}

export interface PipelineDecisionResult {
  recorded: Decision;
  replayed: Decision | null;
  differences: string[];
}

export interface PipelineRollbackResult {
  recorded: RollbackRecord;
  replayed: RollbackRecord | null;
  differences: string[];
}

export interface ThroughPipelineResult {
  project: string;
  decisions: PipelineDecisionResult[];
  rollbacks: PipelineRollbackResult[];
  /** Decisions and rollbacks the pipeline made that the recording does not have. */
  extra: { decisions: Decision[]; rollbacks: RollbackRecord[] };
  /** Recorded effects (progress, Cloud Deploy notifications) the pipeline did not produce in time. */
  missing: string[];
  /** What this replay could not restore, said once each (e.g. a policy that changed during the recording). */
  notes: string[];
}

/**
 * Cloud Deploy's history as the recording's decider read it: for each Cloud
 * Deploy notification, the target's rollouts it read then (kept with the
 * notification, `read`). The replay sets what the line being replayed read; a
 * line recorded before reads were kept falls back to gcp-sim's restored history.
 */
class RecordedDeploy implements DeployHistoryReader {
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
class RecordedMonitoring implements MonitoringPort {
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
const rolloutKey = (resource: string | undefined) => (resource ?? '').replace(/^projects\/[^/]+\//, '');

/** When the decider evaluated a decision (its clock): freezes and the breaker are judged then. */
const evaluatedAtOf = (d: Decision): Date => new Date(d.controls?.evaluatedAt ?? d.decidedAt);

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

/** A rollback is "the same" when it ended the same way, returning the target to the same release. */
export function rollbackDifferences(recorded: RollbackRecord, replayed: RollbackRecord): string[] {
  const differences: string[] = [];
  if (recorded.status !== replayed.status) differences.push('status');
  if (recorded.releaseId !== replayed.releaseId) differences.push('release');
  if ((recorded.leaving?.releaseId ?? null) !== (replayed.leaving?.releaseId ?? null)) differences.push('leaving');
  return differences;
}

/**
 * `burnback replay --through-pipeline`: the recording's raw notifications go
 * through the real services again (ingest, decider, executor, in this process)
 * on fresh Pub/Sub and Firestore emulators and a gcp-sim whose deploy history is
 * restored from the file, on the recorded timeline; then every recorded decision
 * and rollback is compared with what the pipeline did.
 *
 * Restored from the file before the first line: per service, what its first
 * decision read (the service's state, the target, an incident already open) and
 * the releases that had served the target. Then, line by line in the order the
 * pipeline met them (replayOrder): a notification is delivered the way it came
 * (Pub/Sub push with its recorded publish time, the webhook, or Alertmanager's
 * webhook with only the alert it was kept for; a manual
 * request as the event ingest published), with the
 * operator's controls and Cloud Monitoring's figures its decision read; a
 * release someone else shipped is shipped in gcp-sim; each recorded effect
 * (decision, rollback, progress, Cloud Deploy notification) is waited for
 * before the next line.
 */
export async function replayThroughPipeline(
  header: ExportHeader,
  lines: ExportLine[],
  options: ThroughPipelineOptions,
): Promise<ThroughPipelineResult> {
  const say = options.progress ?? (() => undefined);
  const waitMs = options.waitMs ?? 60_000;
  const project = header.project;
  const decisions = lines.filter((l): l is Line<'decision'> => l.kind === 'decision').map((l) => l.data);
  const recordedRollbacks = lines.filter((l): l is Line<'rollback'> => l.kind === 'rollback').map((l) => l.data);
  if (decisions.length === 0) throw new Error('the file holds no decision to replay');
  const missingEvidence = decisions.find((d) => d.evidence === null);
  if (missingEvidence) throw new Error(`decision ${missingEvidence.decisionId} was recorded without its evidence: it cannot be replayed`);
  const notes: string[] = [];
  const missing: string[] = [];

  // The config the recording was made with, with each service's recorded policy.
  const firstOf = new Map<string, Decision>();
  for (const d of decisions) if (!firstOf.has(d.service)) firstOf.set(d.service, d);
  const emulators: RunningEmulator[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  // The Google clients read the emulators' hosts from the environment: point it at the fresh ones while the replay runs.
  // Everything here is local (the emulators, gcp-sim), so no client has credentials to look for: as gcp-metadata
  // documents, METADATA_SERVER_DETECTION=none says there is no metadata server to probe (each client's first
  // call would otherwise look for one and print a MetadataLookupWarning off Google Cloud). A value set is kept.
  const hostsBefore = {
    pubsub: process.env.PUBSUB_EMULATOR_HOST,
    firestore: process.env.FIRESTORE_EMULATOR_HOST,
    metadata: process.env.METADATA_SERVER_DETECTION,
  };
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  try {
    for (const spec of [EMULATORS.pubsub, EMULATORS.firestore]) {
      const host = `127.0.0.1:${await freePort()}`;
      say(`starting a fresh ${spec.name} emulator on ${host}`);
      emulators.push(await ensureEmulator(spec, { host, projectId: project, logFile: `${spec.name}-replay-${host.split(':')[1]}.log` }));
    }
    const [pubsubHost, firestoreHost] = [emulators[0]!.host, emulators[1]!.host];
    process.env.PUBSUB_EMULATOR_HOST = pubsubHost;
    process.env.FIRESTORE_EMULATOR_HOST = firestoreHost;
    const webhookToken = randomBytes(16).toString('hex');
    const loaded = loadConfig({
      GOOGLE_CLOUD_PROJECT: project,
      BURNBACK_CONFIG: options.configPath,
      PUBSUB_EMULATOR_HOST: pubsubHost,
      FIRESTORE_EMULATOR_HOST: firestoreHost,
      PORT: '0',
      BURNBACK_WEBHOOK_TOKEN: webhookToken,
      BURNBACK_MANAGEMENT_TOKEN: randomBytes(16).toString('hex'),
      BURNBACK_PUSH_ALLOW_UNSIGNED: 'true',
    });
    const services = new Map(loaded.services);
    const config: Config = { ...loaded, services };
    for (const [name, first] of firstOf) {
      const service = config.services.get(name);
      if (!service) throw new Error(`the recording decides for service ${name}, which ${options.configPath} does not configure`);
      const recordedTarget = first.target;
      if (
        recordedTarget &&
        (recordedTarget.project !== service.project ||
          recordedTarget.region !== service.region ||
          recordedTarget.pipeline !== service.pipeline ||
          recordedTarget.target !== service.target)
      )
        throw new Error(
          `${options.configPath} rolls ${name} back on ${targetDocIdFor(service)}, the recording on ${targetDocIdFor(recordedTarget)}: give the config the recording was made with (--config)`,
        );
      services.set(name, { ...service, policy: first.evidence!.policy });
      const changed = decisions.find((d) => d.service === name && d.evidence!.policyHash !== first.evidence!.policyHash);
      if (changed)
        notes.push(`${name}'s policy changed during the recording (decision ${changed.decisionId}); the pipeline runs with the first one`);
    }

    const pubsub = new PubSub({ projectId: project });
    closers.push(() => pubsub.close());
    const db = new Firestore({ projectId: project, ignoreUndefinedProperties: true });
    closers.push(() => db.terminate());
    await ensureTopology(pubsub);

    // Restore what each service's first decision read, and the releases that had served its target.
    const served: Array<{ name: string; pipeline: string; target: string; project: string; region: string; served: ServedRelease[] }> = [];
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
          new Date(lines[0]!.at),
        ),
      });
    }
    const seenIncidents = new Set<string>();
    for (const d of decisions) {
      if (seenIncidents.has(d.incidentId)) continue;
      seenIncidents.add(d.incidentId);
      if (d.evidence!.incident) await db.collection(Collections.incidents).doc(d.incidentId).set(toFirestoreData(d.evidence!.incident));
    }

    const start = new Date(lines[0]!.at);
    // The clock stands at the recorded time of the line being replayed while the pipeline does what that line
    // caused: what the pipeline stamps then is stamped with the recording's time, however slow the replay runs.
    const clock = new ReplayClock(start);
    // Ingest stamps a notification's receipt, the decider its evaluation a little later: ingest reads a clock of its own,
    // set to the recorded receipt of the notification going in (receipts of notifications pulled at once need not be in
    // file order), so the decider's can stand at the recorded evaluation before the notification goes in (moving it
    // after would race the decider).
    const receiptClock = new ReplayClock(start);
    // The executor's clock too: it stamps a rollback's outcome with the recorded time, while the decider's stands at
    // the line it applies (a progress event may have been applied after a decision evaluated since it was stamped).
    const executorClock = new ReplayClock(start);
    // gcp-sim's own times (a rollout's create and deploy start) follow the executor's, except that a rollback rollout
    // the replay lets go deploys at the moment the recording's did: its progress then carries the recorded start.
    const simClock = new ReplayClock(start);
    const moveExecutor = (to: Date) => {
      executorClock.moveTo(to);
      simClock.moveTo(to);
    };
    // Burnback's own rollback rollouts wait in gcp-sim until the replay reaches the moment the recording saw them end
    // (their final progress line), so a notification that came while a rollback ran comes while it runs in the replay
    // too. Cloud Deploy's notifications are the recorded ones, published by the replay at their recorded time, each
    // with the history the recording's decider read for it: gcp-sim's own are left out, so the decider learns what
    // serves exactly as it did.
    const ownRollouts = new Set(recordedRollbacks.map((r) => r.command.rolloutId));
    const sim: GcpSim = await startGcpSim({
      projectId: project,
      port: 0,
      rolloutStepMs: options.rolloutStepMs ?? 20,
      seed: worldFromHistory(served, { projectId: project, region: 'us-central1', anchor: start }),
      clock: () => simClock.now(),
      notifications: {
        projectId: project,
        pubsub,
        suppress: (n) => n.topic === Topics.clouddeployOperations,
      },
    });
    closers.unshift(() => sim.stop());
    sim.deploy.holdRollouts((name) => ownRollouts.has(name.slice(name.lastIndexOf('/') + 1)));
    const rolloutNamed = (rolloutId: string) => sim.deploy.listRollouts().find((r) => r.name.endsWith(`/rollouts/${rolloutId}`))?.name;
    const deployClient = createDeployClient({ ...config, cloudDeployEndpoint: sim.address });
    closers.unshift(() => deployClient.close());
    const logger = options.logger ?? silentLogger();
    const monitoring = new RecordedMonitoring();
    const ingest = await startIngestService({ config, pubsub, db, logger, host: '127.0.0.1', clock: receiptClock });
    closers.unshift(() => ingest.close());
    const recordedDeploy = new RecordedDeploy(new CloudDeployHistory(deployClient));
    // What serves each target is restored from the recording, not read at start; incidents are decided again when the
    // recording did (redecideNow at the recorded moment), on the target the re-decision read (restored from its evidence).
    const decider = await startDeciderService({
      config,
      pubsub,
      db,
      logger,
      monitoring,
      deploy: recordedDeploy,
      relayIntervalMs: 0,
      clock,
      readTargetsAtStart: false,
      redecisions: { sweep: false, readTargets: false },
    });
    closers.unshift(() => decider.close());
    const executor = await startExecutorService({
      pubsub,
      db,
      deployClient,
      logger,
      pollIntervalMs: 100,
      retry: { retries: 3, minTimeout: 50, maxTimeout: 500 },
      clock: executorClock,
    });
    closers.unshift(() => executor.close());
    const publisher = new PubSubPublisher(pubsub);
    closers.unshift(() => publisher.close());
    say(`pipeline up: ingest ${ingest.address}, gcp-sim ${sim.address}; replaying ${lines.length} line(s)`);

    const until = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T | undefined> => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > deadline) {
          missing.push(what);
          say(`not seen within ${waitMs / 1000} s: ${what}`);
          return undefined;
        }
        await sleep(100);
      }
    };
    const decisionOf = (id: string) =>
      until(`decision ${id}`, async () => {
        const doc = await db.collection(Collections.decisions).doc(id).get();
        return doc.exists ? DecisionRecord.parse(doc.data()) : undefined;
      });

    /** Before a decision: the operator's controls as it read them, and Cloud Monitoring's figures. */
    const setStage = async (d: Decision) => {
      monitoring.current = d.monitoring;
      const controls = d.controls;
      await db
        .collection(Collections.controls)
        .doc(d.service)
        .set(toFirestoreData({ service: d.service, pause: controls?.pause ?? null, audit: [], updatedAt: clock.now().toISOString() }));
      if (controls?.acknowledgement)
        await db.collection(Collections.acknowledgements).doc(d.incidentId).set(toFirestoreData(controls.acknowledgement));
    };

    const byAlertEvent = new Map<string, Decision[]>();
    for (const d of decisions) byAlertEvent.set(d.alertEventId, [...(byAlertEvent.get(d.alertEventId) ?? []), d]);
    const delivered = new Set<string>();
    const firstNotificationAt = new Map<string, number>();
    for (const d of decisions) if (!firstNotificationAt.has(d.service)) firstNotificationAt.set(d.service, Date.parse(d.decidedAt));

    // Someone else's rollouts the recording saw fail: shipped again in gcp-sim, they fail too.
    const failedRollouts = new Set(
      lines.flatMap((l) =>
        l.kind === 'deploy-event' && l.data.attributes.ResourceType === 'Rollout' && l.data.attributes.Action === 'Failure'
          ? [l.data.attributes.RolloutId ?? '']
          : [],
      ),
    );
    let done = 0;
    for (const line of replayOrder(lines)) {
      if (++done % 25 === 0) say(`${done} of ${lines.length} line(s)`);
      if (line.kind === 'notification') {
        const n = line.data;
        const its = byAlertEvent.get(n.id) ?? [];
        if (n.source === 'manual' || its.length === 0) continue; // a manual request goes at its decision; nothing to wait for otherwise
        await setStage(its[0]!);
        delivered.add(n.id);
        receiptClock.moveTo(new Date(its[0]!.evidence!.alert.receivedAt ?? n.receivedAt));
        const evaluatedAt = evaluatedAtOf(its[0]!);
        clock.moveTo(evaluatedAt);
        moveExecutor(evaluatedAt); // a rollback it orders is taken at once
        if (n.source === 'webhook') {
          const res = await fetch(`${ingest.address}/webhook/error-budget-alert?auth_token=${webhookToken}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: n.raw,
          });
          if (!res.ok) missing.push(`notification ${n.id}: the webhook answered ${res.status} ${await res.text()}`);
        } else if (n.source === 'alertmanager') {
          // Kept once per alert as its own notification (an older ingest kept the whole group): sent with only this alert.
          const alone = alertmanagerNotificationFor(n.raw, n.id);
          const res =
            alone === null
              ? null
              : await fetch(`${ingest.address}/webhook/alertmanager?auth_token=${webhookToken}`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: alone,
                });
          if (res === null) missing.push(`notification ${n.id}: no alert of the stored Alertmanager notification has this id`);
          else if (!res.ok) missing.push(`notification ${n.id}: the Alertmanager webhook answered ${res.status} ${await res.text()}`);
        } else {
          const res = await fetch(`${ingest.address}/pubsub/push`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              message: { data: Buffer.from(n.raw).toString('base64'), messageId: n.messageId ?? n.id, publishTime: n.receivedAt },
              subscription: `projects/${project}/subscriptions/burnback-replay`,
            }),
          });
          if (!res.ok) missing.push(`notification ${n.id}: the push endpoint answered ${res.status} ${await res.text()}`);
        }
        for (const d of its) await decisionOf(d.decisionId);
      } else if (line.kind === 'decision' && line.data.redecisionOf !== null && !delivered.has(line.data.alertEventId)) {
        // A re-decision: the recording's decider decided the incident again on its own (a hold that lapsed, a rollback
        // that ended); the replay's does so at the recorded moment, on the world the recorded one read.
        const d = line.data;
        delivered.add(d.alertEventId);
        await setStage(d);
        if (d.evidence!.target)
          await db.collection(Collections.targets).doc(targetDocIdFor(d.evidence!.target)).set(toFirestoreData(d.evidence!.target));
        const evaluatedAt = evaluatedAtOf(d);
        clock.moveTo(evaluatedAt);
        moveExecutor(evaluatedAt);
        const outcome = await until(
          `the schedule to decide incident ${d.incidentId} again`,
          async () => (await decider.redecideNow(d.incidentId)) ?? undefined,
        );
        if (outcome) await decisionOf(d.decisionId);
      } else if (line.kind === 'decision') {
        const d = line.data;
        if (delivered.has(d.alertEventId)) continue;
        // A manual request (or a notification the file does not hold): the event ingest published, as it was.
        delivered.add(d.alertEventId);
        await setStage(d);
        const evaluatedAt = evaluatedAtOf(d);
        clock.moveTo(evaluatedAt);
        moveExecutor(evaluatedAt);
        const alert = d.evidence!.alert;
        await publisher.publishEvent(
          d.evidence!.lane === 'bulk' ? Topics.alertsBulk : Topics.alerts,
          {
            id: d.alertEventId,
            type: EventTypes.alert,
            source: `//burnback/ingest/${alert.source}`,
            subject: `services/${alert.service}/incidents/${alert.incidentId}`,
            time: alert.observedAt,
            data: alert,
          },
          alert.service,
        );
        await decisionOf(d.decisionId);
      } else if (line.kind === 'rollback') {
        await until(`rollback ${line.data.rollbackId}`, async () =>
          (await db.collection(Collections.rollbacks).doc(line.data.rollbackId).get()).exists ? true : undefined,
        );
      } else if (line.kind === 'progress') {
        const { progress, eventId } = line.data;
        moveExecutor(new Date(progress.at));
        clock.moveTo(new Date(line.data.appliedAt ?? progress.at));
        const recorded = recordedRollbacks.find((r) => r.rollbackId === progress.rollbackId);
        const rollout = recorded ? rolloutNamed(recorded.command.rolloutId) : undefined;
        const ended = ['succeeded', 'failed', 'superseded'].includes(progress.stage);
        if (ended && rollout) {
          // The rollout ends now, as it did in the recording, and the executor looks at it now: it stamps the outcome
          // with the recorded time.
          if (progress.stage === 'failed') {
            // Failed with Cloud Deploy's reason, as the recording's rollout did (or, had it failed otherwise, saying so).
            const recordedReason = recorded!.failureReason ?? progress.detail;
            const cloudDeploy = cloudDeployReasonOf(recordedReason, recorded!.command.rolloutId, 'FAILED');
            sim.deploy.failRollout(rollout, { reason: cloudDeploy ?? `failed in the recording: ${recordedReason}` });
          }
          if (recorded?.servingSince) simClock.moveTo(new Date(recorded.servingSince));
          sim.deploy.releaseRollout(rollout);
          await sim.deploy.waitForRollout(rollout, undefined, waitMs).catch(() => undefined);
          simClock.moveTo(new Date(progress.at));
        }
        await until(`progress ${eventId}`, async () => {
          if ((await db.collection(Collections.progressEvents).doc(eventId).get()).exists) return true;
          // Again on each try: a look already under way may have read the rollout just before it ended.
          if (ended) await executor.lookNow(progress.rollbackId);
          return undefined;
        });
      } else {
        const e = line.data;
        const name = rolloutOfResource(e.attributes.Resource);
        if (!name) continue;
        const { pipeline, releaseId, rolloutId } = name;
        const own = ownRollouts.has(rolloutId);
        if (!own && Date.parse(e.publishTime) <= (firstNotificationAt.get(e.service) ?? 0)) continue; // restored already
        if (!own && rolloutId.startsWith('burnback-rb-')) {
          notes.push(`rollout ${rolloutId} is a Burnback rollback the file does not hold; not replayed`);
          continue;
        }
        clock.moveTo(new Date(e.appliedAt ?? e.publishTime));
        // Someone else's rollout exists in gcp-sim (for the executor's own reads of the history); the decider reads
        // what the recording's decider read for this notification.
        if (!own) {
          simClock.moveTo(new Date(e.publishTime));
          await ship(sim, deployClient, project, e.attributes, pipeline, releaseId, rolloutId, failedRollouts.has(rolloutId));
        }
        recordedDeploy.current = e.read ?? null;
        if (e.read === undefined)
          notes.push(
            "a Cloud Deploy notification was recorded without the history the decider read for it: gcp-sim's restored history stands in",
          );
        await publisher.publishRaw(
          Topics.clouddeployOperations,
          Buffer.from(`replayed: ${e.attributes.Action} of ${e.attributes.Resource}`),
          e.attributes,
        );
        const key = rolloutKey(e.attributes.Resource);
        await until(`Cloud Deploy ${e.attributes.Action} of ${key}`, async () => {
          const docs = await db.collection(Collections.deployEvents).where('attributes.Action', '==', e.attributes.Action).get();
          return docs.docs.some((doc) => rolloutKey(doc.get('attributes.Resource') as string) === key) ? true : undefined;
        });
        recordedDeploy.current = null;
      }
    }

    // Compare.
    const replayedDecisions = (await db.collection(Collections.decisions).get()).docs.map((doc) => DecisionRecord.parse(doc.data()));
    const replayedRollbacks = (await db.collection(Collections.rollbacks).get()).docs.map((doc) => RollbackRecord.parse(doc.data()));
    const decisionById = new Map(replayedDecisions.map((d) => [d.decisionId, d]));
    const rollbackById = new Map(replayedRollbacks.map((r) => [r.rollbackId, r]));
    const recordedIds = new Set(decisions.map((d) => d.decisionId));
    const recordedRollbackIds = new Set(recordedRollbacks.map((r) => r.rollbackId));
    return {
      project,
      decisions: decisions.map((recorded) => {
        const replayed = decisionById.get(recorded.decisionId) ?? null;
        return { recorded, replayed, differences: replayed ? decisionDifferences(recorded, replayed) : ['missing'] };
      }),
      rollbacks: recordedRollbacks.map((recorded) => {
        const replayed = rollbackById.get(recorded.rollbackId) ?? null;
        return { recorded, replayed, differences: replayed ? rollbackDifferences(recorded, replayed) : ['missing'] };
      }),
      extra: {
        decisions: replayedDecisions.filter((d) => !recordedIds.has(d.decisionId)),
        rollbacks: replayedRollbacks.filter((r) => !recordedRollbackIds.has(r.rollbackId)),
      },
      missing,
      notes: [...new Set(notes)],
    };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
    await Promise.all(emulators.map((e) => stopEmulator(e)));
    for (const [name, value] of [
      ['PUBSUB_EMULATOR_HOST', hostsBefore.pubsub],
      ['FIRESTORE_EMULATOR_HOST', hostsBefore.firestore],
      ['METADATA_SERVER_DETECTION', hostsBefore.metadata],
    ] as const)
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
  }
}

/**
 * The releases a target had served before the recording: the previous and the
 * serving one, as the decider knew them; and the releases the recorded
 * rollbacks left and returned to, which Cloud Deploy's history held (the one
 * returned to had succeeded earlier, the one left served since).
 */
function restoredHistory(target: TargetRecord | null, rollbacks: RollbackRecord[], start: Date): ServedRelease[] {
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
async function ship(
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

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The through-pipeline timeline: each recorded decision and rollback as the pipeline reproduced it, differences marked. */
export function formatThroughPipeline(result: ThroughPipelineResult): string {
  const out: string[] = [];
  for (const { recorded, replayed, differences } of result.decisions) {
    const shown = replayed ?? recorded;
    out.push(
      `${recorded.decidedAt}  ${pad(recorded.service, 14)} ${pad(shown.action.toUpperCase(), 9)} ${recorded.incidentId}  ${shown.reason}`,
    );
    if (differences.length > 0)
      out.push(
        replayed
          ? `  ≠ recorded: ${recorded.action.toUpperCase()}  ${recorded.reason}  (differs in ${differences.join(', ')})`
          : '  ≠ the pipeline made no such decision',
      );
  }
  for (const { recorded, replayed, differences } of result.rollbacks) {
    const shown = replayed ?? recorded;
    out.push(
      `rollback ${recorded.rollbackId} of ${recorded.command.service}: ${shown.status}, ${shown.leaving?.releaseId ?? '?'} → ${shown.releaseId ?? '?'}`,
    );
    if (differences.length > 0)
      out.push(
        replayed
          ? `  ≠ recorded: ${recorded.status}, ${recorded.leaving?.releaseId ?? '?'} → ${recorded.releaseId ?? '?'}  (differs in ${differences.join(', ')})`
          : '  ≠ the pipeline made no such rollback',
      );
  }
  for (const d of result.extra.decisions)
    out.push(`+ the pipeline also decided ${d.action.toUpperCase()} on ${d.incidentId} (${d.decisionId}): ${d.reason}`);
  for (const r of result.extra.rollbacks) out.push(`+ the pipeline also rolled back ${r.command.service} (${r.rollbackId}): ${r.status}`);
  for (const m of result.missing) out.push(`! not seen: ${m}`);
  for (const n of result.notes) out.push(`note: ${n}`);
  out.push(
    `through the pipeline: ${result.decisions.length} decision(s) and ${result.rollbacks.length} rollback(s) replayed, ${differingOf(result)} differ from the recorded ones`,
  );
  return out.join('\n') + '\n';
}

/** How many recorded decisions and rollbacks the pipeline did not reproduce, plus everything it did that was not recorded. */
export function differingOf(result: ThroughPipelineResult): number {
  return (
    result.decisions.filter((d) => d.differences.length > 0).length +
    result.rollbacks.filter((r) => r.differences.length > 0).length +
    result.extra.decisions.length +
    result.extra.rollbacks.length +
    result.missing.length
  );
}
