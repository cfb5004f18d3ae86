import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import {
  Collections,
  DeadLetterAttributes,
  EventTypes,
  TargetRecord,
  Topics,
  type DecisionRecord,
  type RollbackRecord,
} from '@burnback/contracts';
import { servicesFromConfigFile, startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { CrashPoints } from '@burnback/platform';
import {
  EMULATORS,
  emulatorLogPath,
  ensureEmulator,
  ensureTopology,
  freePort,
  stopEmulator,
  type RunningEmulator,
  seededRandom,
} from '@burnback/testkit';
import {
  chaosHappened,
  checkProperties,
  InputKinds,
  isUnreadableKind,
  isValidKind,
  settledProperty,
  type ChaosInput,
  type ChaosService,
  type Observed,
  type PropertyResult,
} from './properties.js';
import { killGroup, Supervisor, type WorkerExit } from './supervisor.js';
import { troubleLines } from './trouble.js';
import { chaosInputs, shuffled, writeChaosConfig, type ChaosShape } from './world.js';

export const REPO_ROOT = resolve(__dirname, '..');
/** The attribute naming the input a published notification is (a dead letter keeps its attributes). */
export const INPUT_ATTRIBUTE = 'chaos-input';
/** The attribute of the suite's markers (the positive control that the ordered queues drained). */
export const MARKER_ATTRIBUTE = 'chaos-marker';

export interface ChaosOptions {
  shape: ChaosShape;
  seed: number;
  /** Deciders and executors running at once. */
  deciders: number;
  executors: number;
  /** Kills each crash point should see (each armed process may add one more: kills are counted, not rationed). */
  killsPerPoint: number;
  /** A newly armed process dies at its point's 1st..maxCrashAt arrival. */
  maxCrashAt: number;
  /** SIGKILLs the suite sends to random workers at random moments, on top of the crash points. */
  randomKills: number;
  /**
   * Whether crash points stay armed after the Pub/Sub emulator restarts. The
   * emulator can hold an ordering key a killed subscriber had for minutes
   * (docs/architecture.md), and its restart clears that: the bounded run kills
   * before the restart only (each point once), then restarts the processes still
   * armed with SIGTERM, unarmed, so CI is not at the mercy of a stuck key.
   */
  chaosAfterRestart: boolean;
  /** The Pub/Sub emulator restarts once this share of the qualifying incidents have their rollout (0..1; at least one). */
  restartAtShare: number;
  /** How long the run may take to settle after the last input. */
  settleTimeoutMs: number;
  print: (line: string) => void;
}

export interface ChaosReport {
  results: PropertyResult[];
  passed: boolean;
  durationMs: number;
}

interface DeadLetter {
  input: string | null;
  marker: string | null;
  reason: string;
  source: string;
}

/**
 * The suite's own subscription on burnback-dead-letter, made before anything is
 * published and made again after the Pub/Sub emulator restarts (which forgets
 * it); what it received is kept here, so a restart loses only what it had not
 * yet delivered (the inputs behind those are published again).
 */
class DeadLetterTap {
  readonly received: DeadLetter[] = [];
  private subscription: Subscription | null = null;

  async open(pubsub: PubSub): Promise<void> {
    const [subscription] = await pubsub.topic(Topics.deadLetter).createSubscription(`chaos-dead-letters-${randomBytes(3).toString('hex')}`);
    subscription.on('message', (m: Message) => {
      const a = m.attributes ?? {};
      this.received.push({
        input: a[INPUT_ATTRIBUTE] ?? null,
        marker: a[MARKER_ATTRIBUTE] ?? null,
        reason: a[DeadLetterAttributes.reason] ?? '(no reason)',
        source: a[DeadLetterAttributes.source] ?? '(no source)',
      });
      m.ack();
    });
    // The emulator going away closes the stream; the suite opens a new subscription after the restart.
    subscription.on('error', () => undefined);
    this.subscription = subscription;
  }

  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = null;
    subscription?.removeAllListeners('message');
    await subscription?.close().catch(() => undefined);
  }
}

/** Retries a call while the Pub/Sub emulator is away (a restart takes a few seconds). */
async function patiently<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what} failed for ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
      await sleep(Math.min(100 * 2 ** attempt, 2_000));
    }
  }
}

const rolloutPipeline = (name: string): string => /\/deliveryPipelines\/([^/]+)\//.exec(name)?.[1] ?? '?';

/**
 * One chaos run: its own Pub/Sub and Firestore emulators on free ports, gcp-sim
 * in this process, ingest, `deciders` deciders and `executors` executors as
 * processes under a supervisor that restarts them; notifications published
 * 1..maxCopies times; crash points armed; the Pub/Sub emulator restarted once
 * mid-run; then, once everything settled, the properties checked and printed.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const { print, shape } = options;
  // Local emulators and gcp-sim only: the Google clients must not look for a metadata server (nor the workers, which inherit it).
  process.env.METADATA_SERVER_DETECTION = 'none';
  const random = seededRandom(options.seed);
  const projectId = `chaos-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'burnback-chaos-'));
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  const emulators: RunningEmulator[] = [];
  let sim: GcpSim | undefined;
  let supervisor: Supervisor | undefined;
  let pubsub: PubSub | undefined;
  let db: Firestore | undefined;
  const tap = new DeadLetterTap();
  let passed = false;
  // Last resort (an exception, Ctrl-C): never leave a worker or an emulator of ours behind. Only what we started.
  const lastResort = () => {
    for (const pid of supervisor?.pids() ?? []) killGroup(pid, 'SIGKILL');
    for (const e of emulators) if (e.startedByUs && e.pgid !== null) killGroup(e.pgid, 'SIGKILL');
  };
  process.once('exit', lastResort);
  const phase = (text: string) => print(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);

  try {
    // Fresh emulators of our own: the shared ones on 8085/8086 are never touched, and this one may be restarted.
    const [pubsubPort, firestorePort] = [await freePort(), await freePort()];
    const pubsubHost = `127.0.0.1:${pubsubPort}`;
    const firestoreHost = `127.0.0.1:${firestorePort}`;
    const pubsubLog = `chaos-pubsub-${pubsubPort}.log`;
    const [ps, fs] = await Promise.all([
      ensureEmulator(EMULATORS.pubsub, { host: pubsubHost, projectId, logFile: pubsubLog }),
      ensureEmulator(EMULATORS.firestore, { host: firestoreHost, projectId, logFile: `chaos-firestore-${firestorePort}.log` }),
    ]);
    emulators.push(ps, fs);
    if (!ps.startedByUs || !fs.startedByUs) throw new Error('an emulator already answered on a port that was free a moment ago');
    phase(`emulators: Pub/Sub ${pubsubHost}, Firestore ${firestoreHost} (output in ${emulatorLogPath('x').replace(/x\.log$/, '')})`);
    process.env.PUBSUB_EMULATOR_HOST = pubsubHost;
    process.env.FIRESTORE_EMULATOR_HOST = firestoreHost;
    pubsub = new PubSub({ projectId });
    db = new Firestore({ projectId, ignoreUndefinedProperties: true });
    // Pub/Sub's shortest ack deadline (10 s), so a message a killed worker held comes back within the run; and, as
    // every local run, the most delivery attempts Pub/Sub allows and no retry policy: with one, the emulator never
    // hands back what a killed worker held (ensureTopology), and a run whose ingest died holding the notifications
    // stalled for minutes (the "kill at every crash point" failures).
    const topology = () => ensureTopology(pubsub!, { ackDeadlineSeconds: 10 });
    await topology();
    await tap.open(pubsub);

    const { path: configPath, services } = writeChaosConfig(shape, dir, REPO_ROOT);
    sim = await startGcpSim({
      projectId,
      port: 0, // bound at once: a port picked beforehand could be taken by then
      rolloutStepMs: 200,
      services: servicesFromConfigFile(configPath),
      notifications: { projectId },
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      METADATA_SERVER_DETECTION: 'none',
      GOOGLE_CLOUD_PROJECT: projectId,
      PUBSUB_EMULATOR_HOST: pubsubHost,
      FIRESTORE_EMULATOR_HOST: firestoreHost,
      CLOUD_DEPLOY_ENDPOINT: sim.address,
      BURNBACK_CONFIG: configPath,
      BURNBACK_POLL_INTERVAL_MS: '250',
      // A tracker killed holding a lease delays its rollback by this much.
      BURNBACK_TRACKER_LEASE_MS: '4000',
      // A command lost with the Pub/Sub emulator's memory is sent again this long after its last send.
      BURNBACK_COMMAND_RESEND_MS: '8000',
      LOG_LEVEL: 'info',
    };
    const budget = options.killsPerPoint;
    supervisor = new Supervisor({
      repoRoot: REPO_ROOT,
      env,
      logDir,
      crashBudget: {
        [CrashPoints.archivedBeforePublish]: budget,
        [CrashPoints.decidedBeforePublish]: budget,
        [CrashPoints.rollbackTargetBeforeRecord]: budget,
        [CrashPoints.trackingBeforeRecord]: budget,
      },
      crashAt: () => 1 + Math.floor(random() * options.maxCrashAt),
      print,
    });
    await supervisor.start('ingest', 1);
    await supervisor.start('decider', options.deciders);
    await supervisor.start('executor', options.executors);
    await waitUntil('every worker to answer its health check', () => supervisor!.healthy(), 90_000);
    phase(`workers up: ${supervisor.names().join(', ')} (logs in ${logDir})`);

    // The seeded releases were shipped before Burnback listened: the deciders read what serves from Cloud Deploy at start.
    const servingSince = await waitUntil(
      'the decider to record what serves each target',
      async () => {
        const docs = (await db!.collection(Collections.targets).get()).docs.map((d) => TargetRecord.parse(d.data()));
        const known = services.map((s) => docs.find((t) => t.pipeline === s.pipeline)?.serving);
        return known.every((k) => k) ? Math.max(...known.map((k) => Date.parse(k!.since))) : undefined;
      },
      60_000,
    );
    const inputs = chaosInputs(shape, services, projectId, Math.ceil(servingSince / 1000), random);
    const counts = { published: 0, republished: 0 };
    const publisher = pubsub.topic(Topics.monitoringIncidents, { batching: { maxMessages: 50, maxMilliseconds: 10 } });
    const publish = (input: ChaosInput) =>
      patiently(`publishing ${input.id}`, () =>
        publisher.publishMessage({ data: input.bytes, attributes: { [INPUT_ATTRIBUTE]: input.id } }),
      );

    // Wave 1: the first copy of every burn and half of everything else; wave 2 after the emulator restart.
    const copies = shuffled(
      inputs.flatMap((input) => Array.from({ length: input.copies }, (_, copy) => ({ input, copy }))),
      random,
    );
    const firstBurns = copies.filter((c) => c.copy === 0 && c.input.kind === 'burn');
    const rest = copies.filter((c) => !(c.copy === 0 && c.input.kind === 'burn'));
    const wave1 = [...firstBurns, ...rest.slice(0, Math.floor(rest.length / 2))];
    const wave2 = rest.slice(Math.floor(rest.length / 2));
    await Promise.all(wave1.map((c) => publish(c.input)));
    counts.published += wave1.length;
    phase(
      `published ${wave1.length} of ${copies.length} copies of ${inputs.length} notifications (${inputs.filter((i) => isValidKind(i.kind)).length} valid, ${inputs.filter((i) => i.kind === InputKinds.unmapped).length} for no configured service, ${inputs.filter((i) => isUnreadableKind(i.kind)).length} unreadable) over ${services.length} services`,
    );

    // Random SIGKILLs at arbitrary moments, besides the crash points (full runs).
    let randomKills = 0;
    const killer = (async () => {
      for (let k = 0; k < options.randomKills; k++) {
        await sleep(2_000 + random() * 6_000);
        const names = supervisor.names();
        if (supervisor.kill9(names[Math.floor(random() * names.length)]!)) randomKills++;
      }
    })();

    // Mid-run, once some rollbacks exist (so some are tracked, some starting, some still alerts), restart Pub/Sub.
    const qualifying = services.length;
    const before = Math.max(1, Math.ceil(qualifying * options.restartAtShare));
    await waitUntil(`${before} of ${qualifying} rollbacks to start`, () => rollbackRollouts(sim!).length >= before, 120_000).catch(
      (err: Error) => phase(`${err.message}; restarting Pub/Sub anyway`),
    );
    if (!options.chaosAfterRestart) {
      const points = Object.values(CrashPoints);
      await waitUntil(
        'a kill at every crash point',
        () => points.every((p) => supervisor!.crashes(p) >= Math.min(1, options.killsPerPoint)),
        90_000,
      ).catch((err: Error) => phase(`${err.message}; restarting Pub/Sub anyway`));
      await supervisor.disarm();
      phase('every crash point has killed; processes still armed restarted without crash points');
    }
    // Some notifications are accepted by Pub/Sub just before it goes: in flight when it dies, lost with it.
    const inFlight = wave2.slice(0, Math.ceil(wave2.length / 2));
    await Promise.all(inFlight.map((c) => publish(c.input)));
    const restartStart = Date.now();
    await tap.close();
    // Killed, not drained: the emulator goes as a crashed one would (SIGTERM, then SIGKILL at once).
    await stopEmulator(emulators[0]!, 0);
    // A worker dies while Pub/Sub is gone: it comes back to an emulator that is not there yet (or just back). The
    // victim is one whose process runs now: one restarting (after its crash point, or disarmed just before) has none
    // to kill, and the kill would silently not happen.
    if (options.killsPerPoint > 0) {
      const names = await waitUntil(
        'a running worker to kill',
        () => {
          const running = supervisor!.running();
          return running.length > 0 ? running : undefined;
        },
        10_000,
      ).catch((): string[] => []);
      const victim = names[Math.floor(random() * names.length)];
      if (victim !== undefined && supervisor.kill9(victim)) phase(`killed ${victim} while the Pub/Sub emulator was down`);
    }
    emulators[0] = await ensureEmulator(EMULATORS.pubsub, { host: pubsubHost, projectId, logFile: pubsubLog });
    await patiently('recreating the topology', topology);
    await tap.open(pubsub);
    const restartWindow = { from: restartStart, to: Date.now() };
    phase(`Pub/Sub emulator restarted on ${pubsubHost} in ${restartWindow.to - restartWindow.from} ms; topics and subscriptions recreated`);
    // What the restart may have lost and is not yet durable in Firestore (a decision) or seen dead-lettered,
    // published again as the source would; everything already decided is not.
    const decided = new Set((await db.collection(Collections.decisions).select().get()).docs.map((d) => d.id));
    const deadLettered = new Set(tap.received.map((d) => d.input));
    const lost = inputs.filter((i) => (i.decisionId !== null ? !decided.has(i.decisionId) : !deadLettered.has(i.id)));
    const alreadyOut = new Set([...wave1, ...inFlight].map((c) => c.input.id));
    const again = lost.filter((i) => alreadyOut.has(i.id));
    await Promise.all(again.map(publish));
    counts.republished = again.length;
    const afterRestart = wave2.slice(inFlight.length);
    await Promise.all(afterRestart.map((c) => publish(c.input)));
    counts.published += wave2.length;
    phase(
      `re-published ${again.length} notification(s) with no decision or dead letter yet; wave 2: ${inFlight.length} copies just before the restart, ${afterRestart.length} after`,
    );
    await killer;

    // Settled: every input has its effect, every rollback is final, nothing is owed, every worker is up.
    const unmet = await settle(db, supervisor, tap, inputs, options.settleTimeoutMs, phase);
    if (unmet.length > 0) phase(`NOT settled after ${options.settleTimeoutMs / 1000} s: ${unmet.join('; ')}`);
    else phase('settled: every notification decided or dead-lettered, every rollback final, no outbox entry owed');
    // The positive control that nothing is still queued: a marker behind everything on each service's ordering
    // key, through burnback-alerts (the deciders) and burnback-commands (the executors), each dead-lettered.
    const markersOk = await sendMarkers(pubsub, tap, services).then(
      () => true,
      (err: Error) => {
        phase(`markers: ${err.message}`);
        return false;
      },
    );
    if (markersOk) phase(`markers through every service's alerts and commands came out: the queues are drained`);

    const observed = await observe(db, sim, tap);
    const results = [
      ...checkProperties(services, inputs, observed),
      chaosHappened(supervisor.exits, restartWindow, options.killsPerPoint > 0),
      settledProperty(unmet, markersOk),
    ];
    printReport(print, {
      services,
      inputs,
      observed,
      counts,
      sim,
      exits: supervisor.exits,
      randomKills,
      restartMs: restartWindow.to - restartWindow.from,
      results,
      durationMs: Date.now() - started,
      logDir,
    });
    passed = results.every((r) => r.passed);
    return { results, passed, durationMs: Date.now() - started };
  } finally {
    await supervisor?.stop();
    await tap.close();
    await pubsub?.close().catch(() => undefined);
    await db?.terminate().catch(() => undefined);
    await sim?.stop();
    await Promise.all(emulators.map((e) => stopEmulator(e)));
    process.removeListener('exit', lastResort);
    // A failed run keeps its workers' logs (the report names the folder); a passing one cleans up unless asked not to.
    if (passed && process.env.BURNBACK_CHAOS_KEEP_LOGS !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls `probe` until it returns something other than undefined/false. */
async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(250);
  }
}

function rollbackRollouts(sim: GcpSim) {
  return sim.deploy.listRollouts().filter((r) => r.rollbackOfRollout);
}

/** Waits until the run has done everything it owes; returns what is still missing (empty when settled). */
async function settle(
  db: Firestore,
  supervisor: Supervisor,
  tap: DeadLetterTap,
  inputs: readonly ChaosInput[],
  timeoutMs: number,
  phase: (text: string) => void,
) {
  let unmet: string[] = [];
  const deadline = Date.now() + timeoutMs;
  let nextReport = Date.now() + 15_000;
  while (Date.now() <= deadline) {
    unmet = [];
    try {
      const decided = new Set((await db.collection(Collections.decisions).select().get()).docs.map((d) => d.id));
      const undecided = inputs.filter((i) => i.decisionId !== null && !decided.has(i.decisionId));
      if (undecided.length > 0)
        unmet.push(`${undecided.length} notification(s) without a decision (${undecided.map((i) => i.id).join(', ')})`);
      const seen = new Set(tap.received.map((d) => d.input));
      const missing = inputs.filter((i) => isUnreadableKind(i.kind) && !seen.has(i.id));
      if (missing.length > 0)
        unmet.push(`${missing.length} unreadable input(s) not dead-lettered (${missing.map((i) => i.id).join(', ')})`);
      const rollbacks = (await db.collection(Collections.rollbacks).get()).docs.map((d) => d.data() as RollbackRecord);
      const open = rollbacks.filter((r) => r.tracking !== null || !['succeeded', 'failed', 'superseded', 'validated'].includes(r.status));
      if (open.length > 0)
        unmet.push(`${open.length} rollback(s) not final (${open.map((r) => `${r.command.service} ${r.status}`).join(', ')})`);
      const ordered = (await db.collection(Collections.decisions).where('action', '==', 'rollback').get()).docs.map(
        (d) => d.data() as DecisionRecord,
      );
      const recorded = new Set(rollbacks.map((r) => r.rollbackId));
      const unrecorded = ordered.filter((d) => !recorded.has(d.rollbackId ?? ''));
      if (unrecorded.length > 0) unmet.push(`${unrecorded.length} rollback(s) decided, not yet recorded by an executor`);
      const unsent = (await db.collection(Collections.outbox).where('sentAt', '==', null).count().get()).data().count;
      if (unsent > 0) unmet.push(`${unsent} outbox entr${unsent === 1 ? 'y' : 'ies'} unsent`);
      if (!(await supervisor.healthy())) unmet.push('a worker is down or restarting');
    } catch (err) {
      unmet.push(`Firestore: ${(err as Error).message}`);
    }
    if (unmet.length === 0) return unmet;
    if (Date.now() >= nextReport) {
      phase(`waiting for: ${unmet.join('; ')}`);
      nextReport = Date.now() + 15_000;
    }
    await sleep(500);
  }
  return unmet;
}

/** One marker per service on burnback-alerts and on burnback-commands, ordered behind everything of that service; each must be dead-lettered. */
async function sendMarkers(pubsub: PubSub, tap: DeadLetterTap, services: readonly ChaosService[]): Promise<void> {
  const sent: string[] = [];
  for (const [topic, type] of [
    [Topics.alerts, EventTypes.alert],
    [Topics.commands, EventTypes.rollbackCommand],
  ] as const) {
    const t = pubsub.topic(topic, { messageOrdering: true });
    for (const s of services) {
      const id = `marker-${topic}-${s.name}`;
      const attributes = { 'ce-specversion': '1.0', 'ce-type': type, 'ce-id': id, 'ce-source': '//chaos/marker', [MARKER_ATTRIBUTE]: id };
      await t.publishMessage({ data: Buffer.from('marker'), attributes, orderingKey: s.name });
      sent.push(id);
    }
  }
  await waitUntil(
    `${sent.length} markers to be dead-lettered`,
    () => sent.every((id) => tap.received.some((d) => d.marker === id)),
    120_000,
  );
}

async function observe(db: Firestore, sim: GcpSim, tap: DeadLetterTap): Promise<Observed> {
  const decisions = (await db.collection(Collections.decisions).get()).docs.map((d) => d.data() as DecisionRecord);
  const rollbacks = (await db.collection(Collections.rollbacks).get()).docs.map((d) => d.data() as RollbackRecord);
  return {
    rollouts: rollbackRollouts(sim).map((r) => ({
      name: r.name,
      pipeline: rolloutPipeline(r.name),
      rolloutId: r.name.split('/').at(-1)!,
      createdAt: Number(r.createTime.seconds) * 1000 + Math.floor(r.createTime.nanos / 1e6),
      state: r.state,
    })),
    decisions: decisions.map((d) => ({
      decisionId: d.decisionId,
      incidentId: d.incidentId,
      service: d.service,
      action: d.action,
      reason: d.reason,
      rollbackId: d.rollbackId,
    })),
    rollbacks: rollbacks.map((r) => ({
      rollbackId: r.rollbackId,
      incidentId: r.command.incidentId,
      service: r.command.service,
      status: r.status,
      tracked: r.tracking !== null,
    })),
    deadLetters: tap.received.filter((d) => d.marker === null).map(({ input, reason, source }) => ({ input, reason, source })),
  };
}

function printReport(
  print: (line: string) => void,
  r: {
    services: readonly ChaosService[];
    inputs: readonly ChaosInput[];
    observed: Observed;
    counts: { published: number; republished: number };
    sim: GcpSim;
    exits: readonly WorkerExit[];
    randomKills: number;
    restartMs: number;
    results: readonly PropertyResult[];
    durationMs: number;
    logDir: string;
  },
): void {
  const calls = r.sim.deploy.callsTo('RollbackTarget');
  const real = calls.filter((c) => !c.request.validateOnly);
  const byCause = new Map<string, number>();
  for (const e of r.exits) byCause.set(e.cause, (byCause.get(e.cause) ?? 0) + 1);
  const valid = r.inputs.filter((i) => isValidKind(i.kind));
  print('');
  print('chaos counts');
  print(
    `  inputs: ${r.inputs.length} notifications (${valid.length} valid, ${r.inputs.length - valid.length} invalid), ${r.counts.published} copies published, ${r.counts.republished} re-published after the restart`,
  );
  print(
    `  decisions: ${r.observed.decisions.length}; rollback records: ${r.observed.rollbacks.length}; rollback rollouts in gcp-sim: ${r.observed.rollouts.length} over ${r.services.length} services`,
  );
  print(
    `  RollbackTarget calls: ${calls.length} (${real.filter((c) => c.code === 0).length} created a rollout, ${real.filter((c) => c.code !== 0).length} refused, ${calls.length - real.length} validate_only)`,
  );
  print(
    `  dead letters: ${r.observed.deadLetters.length}; worker exits: ${r.exits.length} (${[...byCause].map(([c, n]) => `${n} ${c}`).join(', ') || 'none'}), ${r.randomKills} of them random kills by the suite`,
  );
  print(`  Pub/Sub emulator restart: ${r.restartMs} ms; run took ${(r.durationMs / 1000).toFixed(1)} s`);
  print('');
  for (const result of r.results) {
    print(`${result.passed ? 'PASS' : 'FAIL'} ${result.name}: ${result.summary}`);
    for (const v of result.violations) print(`     - ${v}`);
  }
  const failed = r.results.filter((x) => !x.passed).length;
  if (failed > 0) {
    // The folder does not outlive a CI machine: each worker's last warnings and errors, here.
    print(`worker logs: ${r.logDir}; their last warnings and errors:`);
    for (const file of readdirSync(r.logDir)
      .filter((f) => f.endsWith('.log'))
      .sort())
      for (const line of troubleLines(file.replace(/\.log$/, ''), readFileSync(join(r.logDir, file), 'utf8'), 15)) print(`  ${line}`);
  }
  print(`chaos: ${r.results.length - failed} passed, ${failed} failed`);
}
