import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { setTimeout as sleep } from 'node:timers/promises';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { Collections, Topics } from '@burnback/contracts';
import { startLocalStack, type LocalStack } from '@burnback/cli';
import { belowThresholdIncident, closedIncident, freePortRange, notificationBytes, openIncident } from '@burnback/testkit';

/**
 * The pipeline's figures, measured from outside on the real emulators with the
 * three services as their own processes (as `npm start` runs them) and gcp-sim:
 * alert → RollbackTarget latency against a floor measured in the same run, a
 * 10,000-notification storm, and a new burn while 100 slow rollouts are tracked.
 */

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;
const fmt = (p: Percentiles) => `p50 ${ms(p.p50)}, p95 ${ms(p.p95)}, p99 ${ms(p.p99)}`;

/** A Burnback config with `count` services, svc-000 … (each its own Cloud Run service, pipeline and production target). */
function configWith(count: number, dir: string, policy: Record<string, number> = {}): string {
  const local = parseYaml(readFileSync(join(__dirname, '../config/local.yaml'), 'utf8')) as { policy: Record<string, unknown> };
  const services: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const name = serviceName(i);
    services[name] = {
      region: 'us-central1',
      pipeline: `${name}-pipeline`,
      target: 'production',
      match: { resourceType: 'cloud_run_revision', resourceLabels: { service_name: name } },
      signals: { errorRatio: { metricTypes: ['run.googleapis.com/request_count'] } },
    };
  }
  const path = join(dir, `bench-${count}.yaml`);
  writeFileSync(path, stringifyYaml({ policy: { ...local.policy, ...policy }, services }));
  return path;
}

const serviceName = (i: number) => `svc-${String(i).padStart(3, '0')}`;

/** Peak resident set (VmHWM) of a process, in MiB; null when it cannot be read. */
function peakRssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.replace(/\D+/g, '')) / 1024 : null;
  } catch {
    return null;
  }
}

interface Stack {
  stack: LocalStack;
  pubsub: PubSub;
  db: Firestore;
  projectId: string;
  close(): Promise<void>;
}

/** `npm start`'s stack for `services` services on a project of its own, with the decider knowing what serves each target. */
async function startStack(label: string, services: number, options: { rolloutStepMs?: number; policy?: Record<string, number> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'burnback-bench-'));
  const projectId = `bench-${label}-${randomBytes(3).toString('hex')}`;
  const base = await freePortRange(3);
  const [simPort, controlPort] = [await freePortRange(1), await freePortRange(1)];
  // Many services burning at once would rightly trip the fleet breaker; these benches measure the pipeline, so it is
  // raised past the number of services.
  const policy = { breakerBurningServices: services + 1, breakerInFlightRollbacks: services + 1, ...options.policy };
  const env = {
    ...process.env,
    BURNBACK_CONFIG: configWith(services, dir, policy),
    BURNBACK_DEV_PORT_BASE: String(base),
    GCP_SIM_PORT: String(simPort),
    GCP_SIM_CONTROL_PORT: String(controlPort),
  };
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ projectId, env, print: () => undefined, pretty: false, rolloutStepMs: options.rolloutStepMs ?? 100 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  process.env.PUBSUB_EMULATOR_HOST = stack.emulators[0]!.host;
  process.env.FIRESTORE_EMULATOR_HOST = stack.emulators[1]!.host;
  const pubsub = new PubSub({ projectId });
  const db = new Firestore({ projectId });
  // Every target's serving release is known before the first burn (a burn before it would escalate).
  for (const deadline = Date.now() + 120_000; ; await sleep(250)) {
    const known = (await db.collection(Collections.targets).count().get()).data().count;
    if (known >= services) break;
    if (Date.now() > deadline) throw new Error(`the decider knew ${known} of ${services} targets after 120 s`);
  }
  const result: Stack = {
    stack,
    pubsub,
    db,
    projectId,
    async close() {
      await pubsub.close();
      await db.terminate();
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return result;
}

/** When gcp-sim first received RollbackTarget (validate_only or not) for a pipeline, after `since`. */
function rollbackTargetAt(stack: LocalStack, pipelineId: string, since: number, real = false): number | undefined {
  for (const call of stack.sim.deploy.callsTo('RollbackTarget')) {
    if (call.at.getTime() < since || !call.request.name.endsWith(`/deliveryPipelines/${pipelineId}`)) continue;
    if (real && call.request.validateOnly) continue;
    return call.at.getTime();
  }
  return undefined;
}

/** The floor: one bare publish → streaming-pull receive, and one bare Firestore transaction (a read, two writes). */
async function measureFloor(s: Stack, samples: number): Promise<{ hop: Percentiles; tx: Percentiles }> {
  const topicName = `bench-floor-${randomBytes(3).toString('hex')}`;
  const [topic] = await s.pubsub.createTopic(topicName);
  const [sub] = await topic.createSubscription(`${topicName}-sub`);
  const arrived = new Map<string, number>();
  sub.on('message', (m: Message) => {
    arrived.set(m.data.toString(), performance.now());
    m.ack();
  });
  const publisher = s.pubsub.topic(topicName, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
  const hops: number[] = [];
  for (let i = 0; i < samples + 10; i++) {
    const id = `m${i}`;
    const sent = performance.now();
    await publisher.publishMessage({ data: Buffer.from(id) });
    while (!arrived.has(id)) await sleep(1);
    if (i >= 10) hops.push(arrived.get(id)! - sent);
  }
  await sub.close();
  await sub.delete();
  await topic.delete();
  const txs: number[] = [];
  for (let i = 0; i < samples + 10; i++) {
    const sent = performance.now();
    await s.db.runTransaction(async (tx) => {
      const ref = s.db.collection('benchFloor').doc(`d${i % 10}`);
      await tx.get(ref);
      tx.set(ref, { i });
      tx.set(s.db.collection('benchFloorOutbox').doc(`o${i}`), { i });
    });
    if (i >= 10) txs.push(performance.now() - sent);
  }
  return { hop: percentiles(hops), tx: percentiles(txs) };
}

/** Publishes one notification at once (no batching delay), as Cloud Monitoring's channel does. */
async function publishNotification(s: Stack, notification: unknown) {
  await s.pubsub
    .topic(Topics.monitoringIncidents, { batching: { maxMessages: 1, maxMilliseconds: 0 } })
    .publishMessage({ data: notificationBytes(notification) });
}

/** Latency: alert published → RollbackTarget at gcp-sim, one incident at a time, each on its own service. */
export async function benchLatency(incidents: number): Promise<{ lines: string[]; floorPathMs: number }> {
  const s = await startStack('latency', incidents);
  try {
    const floor = await measureFloor(s, 200);
    const samples: number[] = [];
    const startedAt = Math.ceil(Date.now() / 1000) + 1;
    await sleep(1100);
    for (let i = 0; i < incidents; i++) {
      const name = serviceName(i);
      const sent = Date.now();
      await publishNotification(s, openIncident({ incidentId: `0.lat-${i}`, service: name, projectId: s.projectId, startedAt }));
      let at: number | undefined;
      for (const deadline = sent + 60_000; (at = rollbackTargetAt(s.stack, `${name}-pipeline`, sent)) === undefined; await sleep(2))
        if (Date.now() > deadline) throw new Error(`no RollbackTarget for ${name} within 60 s`);
      samples.push(at - sent);
    }
    const latency = percentiles(samples);
    const floorPath = 3 * floor.hop.p50 + floor.tx.p50;
    const ratio = latency.p50 / floorPath;
    const lines = [
      `latency: alert published → RollbackTarget received by gcp-sim, ${incidents} incidents (services as processes, as npm start runs them)`,
      `  ${fmt(latency)}`,
      `  floor: a bare publish → receive hop ${fmt(floor.hop)}; a bare Firestore transaction (a read, two writes) ${fmt(floor.tx)}`,
      `  floor path (3 hops + 1 transaction, at p50): ${ms(floorPath)}; p50 is ${ratio.toFixed(2)}× the floor path; target ≤ 1.3×: ${ratio <= 1.3 ? 'met' : 'NOT met'}`,
    ];
    return { lines, floorPathMs: floorPath };
  } finally {
    await s.close();
  }
}

/**
 * The storm: `total` notifications over `services` services, `burning` of them
 * with a real burn delivered 3 times, the rest below the threshold, closed, or
 * garbage; all published at once.
 */
export async function benchStorm(total: number, services: number, burning: number): Promise<string[]> {
  const s = await startStack('storm', services);
  try {
    const startedAt = Math.ceil(Date.now() / 1000) + 1;
    await sleep(1100);
    const messages: Array<{ bytes: Buffer; key: string | undefined }> = [];
    const validIds = new Set<string>();
    for (let i = 0; i < burning; i++) {
      const bytes = notificationBytes(
        openIncident({ incidentId: `0.burn-${i}`, service: serviceName(i), projectId: s.projectId, startedAt }),
      );
      validIds.add(`burn-${i}`);
      for (let d = 0; d < 3; d++) messages.push({ bytes, key: undefined });
    }
    for (let i = 0; messages.length < total; i++) {
      const service = serviceName(burning + (i % (services - burning)));
      const kind = i % 4;
      if (kind === 3) {
        messages.push({ bytes: Buffer.from(`{"garbage": ${i}`), key: undefined });
        continue;
      }
      const options = { incidentId: `0.calm-${i}`, service, projectId: s.projectId, startedAt };
      const n =
        kind === 0
          ? belowThresholdIncident(options)
          : kind === 1
            ? closedIncident(options)
            : openIncident({ ...options, observedValue: '0.005' });
      validIds.add(`calm-${i}`);
      messages.push({ bytes: notificationBytes(n), key: undefined });
    }
    const topic = s.pubsub.topic(Topics.monitoringIncidents, { batching: { maxMessages: 500, maxMilliseconds: 20 } });
    const t0 = Date.now();
    await Promise.all(messages.map((m) => topic.publishMessage({ data: m.bytes })));
    const published = Date.now() - t0;
    const pipelines = Array.from({ length: burning }, (_, i) => `${serviceName(i)}-pipeline`);
    let allStarted: number | undefined;
    let settled: number | undefined;
    for (const deadline = t0 + 15 * 60_000; settled === undefined; await sleep(200)) {
      if (allStarted === undefined && pipelines.every((p) => rollbackTargetAt(s.stack, p, t0, true) !== undefined))
        allStarted = Date.now() - t0;
      const decided = (await s.db.collection(Collections.decisions).count().get()).data().count;
      const finished = (await s.db.collection(Collections.rollbacks).where('status', 'in', ['succeeded', 'failed']).count().get()).data()
        .count;
      if (allStarted !== undefined && decided >= validIds.size && finished >= burning) settled = Date.now() - t0;
      if (Date.now() > deadline)
        throw new Error(
          `storm not settled after 15 min: ${decided} of ${validIds.size} decisions, ${finished} of ${burning} rollbacks finished`,
        );
    }
    const real = s.stack.sim.deploy.callsTo('RollbackTarget').filter((c) => !c.request.validateOnly && c.code === 0);
    const perPipeline = new Map<string, number>();
    for (const c of real) perPipeline.set(c.request.name, (perPipeline.get(c.request.name) ?? 0) + 1);
    const exactlyOne =
      pipelines.every((p) => [...perPipeline].some(([name, n]) => name.endsWith(`/${p}`) && n === 1)) && perPipeline.size === burning;
    const rss = ['ingest', 'decider', 'executor'].map(
      (name) => `${name} ${peakRssMb(s.stack.children.get(name as 'ingest')?.pid)?.toFixed(0) ?? '?'} MiB`,
    );
    const deciderRss = peakRssMb(s.stack.children.get('decider')?.pid);
    return [
      `storm: ${messages.length.toLocaleString('en')} notifications over ${services} services (${burning} burning, each delivered 3 times; below-threshold, closed and garbage mixed in), published in ${published} ms`,
      `  every burning service's rollback started (RollbackTarget) after ${((allStarted ?? 0) / 1000).toFixed(1)} s; target ≤ 60 s: ${(allStarted ?? Infinity) <= 60_000 ? 'met' : 'NOT met'}`,
      `  everything settled (${validIds.size.toLocaleString('en')} decisions, ${burning} rollbacks finished) after ${((settled ?? 0) / 1000).toFixed(1)} s`,
      `  peak RSS: ${rss.join(', ')}; target decider ≤ 150 MB: ${deciderRss !== null && deciderRss * 1.048576 <= 150 ? 'met' : 'NOT met'}`,
      `  rollbacks per burning service: ${exactlyOne ? 'exactly one each' : `NOT one each (${[...perPipeline.values()].join(', ')})`}`,
    ];
  } finally {
    await s.close();
  }
}

/** 100 slow rollbacks in flight (minutes each in gcp-sim), then a new burn: how soon its rollback starts. */
export async function benchSlowRollouts(inFlight: number, floorPathMs: number | null): Promise<string[]> {
  const s = await startStack('slow', inFlight + 1, { rolloutStepMs: 100 });
  try {
    const startedAt = Math.ceil(Date.now() / 1000) + 1;
    await sleep(1100);
    // From now on every step takes 60 s: a canary rollback takes minutes.
    s.stack.sim.deploy.setTimings({ startMs: 60_000, deployMs: 60_000, verifyMs: 60_000 });
    const t0 = Date.now();
    for (let i = 0; i < inFlight; i++)
      await publishNotification(s, openIncident({ incidentId: `0.slow-${i}`, service: serviceName(i), projectId: s.projectId, startedAt }));
    for (const deadline = t0 + 5 * 60_000; ; await sleep(200)) {
      const started = Array.from({ length: inFlight }, (_, i) => rollbackTargetAt(s.stack, `${serviceName(i)}-pipeline`, t0, true)).filter(
        (x) => x !== undefined,
      ).length;
      if (started === inFlight) break;
      if (Date.now() > deadline) throw new Error(`only ${started} of ${inFlight} slow rollbacks started within 5 min`);
    }
    const running = s.stack.sim.deploy.listRollouts().filter((r) => r.rollbackOfRollout && r.state !== 'SUCCEEDED').length;
    const name = serviceName(inFlight);
    const sent = Date.now();
    await publishNotification(s, openIncident({ incidentId: '0.new-burn', service: name, projectId: s.projectId, startedAt }));
    let at: number | undefined;
    for (const deadline = sent + 5 * 60_000; (at = rollbackTargetAt(s.stack, `${name}-pipeline`, sent)) === undefined; await sleep(2))
      if (Date.now() > deadline) throw new Error(`the new burn's rollback did not start within 5 min`);
    const latency = at - sent;
    return [
      `slow rollouts: ${inFlight} rollbacks in flight (${running} still running in gcp-sim, each step 60 s), then a new burn`,
      `  its RollbackTarget after ${ms(latency)}${floorPathMs !== null ? ` (${(latency / floorPathMs).toFixed(2)}× the floor path of the latency bench; target ≤ 1.3×: ${latency / floorPathMs <= 1.3 ? 'met' : 'NOT met'})` : ''}`,
    ];
  } finally {
    await s.close();
  }
}
