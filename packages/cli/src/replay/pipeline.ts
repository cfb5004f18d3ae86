import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Collections, DecisionRecord, EventTypes, RollbackRecord, rolloutOfResource, targetDocIdFor, Topics } from '@burnback/contracts';
import { startDeciderService } from '@burnback/decider';
import { cloudDeployReasonOf, startExecutorService } from '@burnback/executor';
import { EMULATORS, ensureEmulator, ensureTopology, freePort, stopEmulator, type RunningEmulator } from '@burnback/emulators';
import { startGcpSim, worldFromHistory, type GcpSim } from '@burnback/gcp-sim';
import { alertmanagerNotificationFor, startIngestService } from '@burnback/ingest';
import {
  CloudDeployHistory,
  createDeployClient,
  loadConfig,
  PubSubPublisher,
  silentLogger,
  toFirestoreData,
  type Logger,
} from '@burnback/platform';
import { ReplayClock } from './clock.js';
import type { ExportHeader, ExportLine } from './format.js';
import { compareWithRecording, type ThroughPipelineResult } from './pipeline-report.js';
import {
  evaluatedAtOf,
  RecordedDeploy,
  RecordedMonitoring,
  recordedConfig,
  replayOrder,
  restoreFirstReads,
  rolloutKey,
  ship,
} from './recorded-world.js';

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
    const config = recordedConfig(loaded, firstOf, decisions, options.configPath, notes);

    const pubsub = new PubSub({ projectId: project });
    closers.push(() => pubsub.close());
    const db = new Firestore({ projectId: project, ignoreUndefinedProperties: true });
    closers.push(() => db.terminate());
    await ensureTopology(pubsub);

    const served = await restoreFirstReads(db, config, firstOf, decisions, recordedRollbacks, new Date(lines[0]!.at));

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

    const replayedDecisions = (await db.collection(Collections.decisions).get()).docs.map((doc) => DecisionRecord.parse(doc.data()));
    const replayedRollbacks = (await db.collection(Collections.rollbacks).get()).docs.map((doc) => RollbackRecord.parse(doc.data()));
    return {
      project,
      ...compareWithRecording(decisions, recordedRollbacks, replayedDecisions, replayedRollbacks),
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
