import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { PubSub } from '@google-cloud/pubsub';
import {
  EMULATORS,
  ensureEmulator,
  ensureTopology,
  killEmulatorNow,
  stopEmulator,
  waitFor,
  type RunningEmulator,
} from '@burnback/emulators';
import { servicesFromConfigFile, startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { createLogger, serviceNodeOptions } from '@burnback/platform';
import { assertPortsFree } from './processes.js';
import { formatLogLine } from './human-log.js';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const DEFAULT_PROJECT = 'burnback-local';
/** Local-only webhook token; real deployments take it from Secret Manager. */
export const LOCAL_WEBHOOK_TOKEN = 'local-dev-webhook-token';
/** The management routes' bearer token of a local stack (never the webhook's). */
export const LOCAL_MANAGEMENT_TOKEN = 'local-dev-management-token';

export const LOCAL_PORTS = { ingest: 8080, decider: 8081, executor: 8082, notifier: 8083, gcpSim: 8087 } as const;
/** gcp-sim's control endpoint (HTTP, 127.0.0.1 only) in `npm start`; not a container port: docker compose does not publish it. */
export const LOCAL_GCP_SIM_CONTROL_PORT = 8088;

/**
 * The ports a local stack uses: the defaults, or BURNBACK_DEV_PORT_BASE (ingest;
 * decider, executor and notifier follow), GCP_SIM_PORT and GCP_SIM_CONTROL_PORT, so a
 * second stack (a test) can run beside a developer's `npm start`.
 */
export function localPorts(env: NodeJS.ProcessEnv): {
  ingest: number;
  decider: number;
  executor: number;
  notifier: number;
  gcpSim: number;
  gcpSimControl: number;
} {
  const parse = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65_533) throw new Error(`${name} must be a port number, got '${raw}'`);
    return n;
  };
  const base = parse('BURNBACK_DEV_PORT_BASE', LOCAL_PORTS.ingest);
  return {
    ingest: base,
    decider: base + 1,
    executor: base + 2,
    notifier: base + 3,
    gcpSim: parse('GCP_SIM_PORT', LOCAL_PORTS.gcpSim),
    gcpSimControl: parse('GCP_SIM_CONTROL_PORT', LOCAL_GCP_SIM_CONTROL_PORT),
  };
}

export const SERVICES = ['ingest', 'decider', 'executor', 'notifier'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface LocalStackOptions {
  projectId: string;
  env: NodeJS.ProcessEnv;
  /** Writes one line of output (service logs, status). */
  print: (line: string) => void;
  /** Human log lines (the default, piped or not); false prints the services' JSON as it is. */
  pretty: boolean;
  /** Colour the severities (a terminal). */
  colour?: boolean;
  rolloutStepMs?: number;
  /**
   * Run the services from their compiled JavaScript (`dist/main.js`, after `npm run build`), as the containers do,
   * instead of from source through tsx (`npm start`). The benchmarks use it: memory and CPU as in production.
   */
  compiled?: boolean;
  /**
   * Give each service the Node flags of its container image (ServiceRuntime[service].nodeOptions from
   * @burnback/platform, as NODE_OPTIONS, followed by any NODE_OPTIONS of `env`): its heap bounded as in production.
   */
  heapBound?: boolean;
  /**
   * What the services need before they start (`burnback dev`: compiling them). Begun once the ports are
   * checked, alongside the emulators and gcp-sim; the services spawn once it resolves, and the start fails if it rejects.
   */
  prepare?: () => Promise<void>;
}

export interface LocalStack {
  emulators: RunningEmulator[];
  sim: GcpSim;
  children: Map<ServiceName, ChildProcess>;
  endpoints: Record<string, string>;
  /** Resolves when a service that was up exits on its own (a crash): the stack is then unhealthy. */
  crashed: Promise<{ service: ServiceName; code: number | null }>;
  /**
   * Stops a service (SIGTERM, so it drains) and starts it again, as it was started; resolves once it answers
   * /healthz. Rejects if the new process exits first: that is no crash of the stack, the next restart may succeed.
   */
  restart(service: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

/** A stream of JSON log lines printed as the services' are (human, or raw with --json). */
function linesTo(component: string, opts: LocalStackOptions): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) opts.print(formatLogLine(component, line, opts.pretty, opts.colour ?? false));
      done();
    },
  });
}

/** SIGTERM (the service drains), then SIGKILL if it has not exited within 12 s; resolves once it is gone. */
function terminate(child: ChildProcess): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

function spawnService(service: ServiceName, env: NodeJS.ProcessEnv, opts: LocalStackOptions): ChildProcess {
  const child = spawn(
    process.execPath,
    opts.compiled
      ? [resolve(REPO_ROOT, `services/${service}/dist/main.js`)]
      : ['--conditions=@burnback/source', '--import', 'tsx', resolve(REPO_ROOT, `services/${service}/src/main.ts`)],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C reaches only `burnback dev`, which then drains each
      // service with one SIGTERM (a second signal would make a service exit at once).
      detached: true,
    },
  );
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => opts.print(formatLogLine(service, line, opts.pretty, opts.colour ?? false)));
  }
  return child;
}

/** Waits until `url` answers 2xx; fails at once if the service's process exits first. */
async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const outcome = await waitFor(
    async () => {
      // Killed by a signal counts as exited too (exitCode stays null then).
      if (child.exitCode !== null || child.signalCode !== null) return { exited: child.exitCode ?? child.signalCode };
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      return res.ok ? { exited: null } : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `${url} to become healthy` },
  );
  if (outcome.exited !== null) throw new Error(`${url} exited (${outcome.exited}) before it became healthy`);
}

/**
 * Starts the whole system locally: the gcloud emulators (or reuses running ones),
 * Burnback's topics and subscriptions, gcp-sim, and the four services as
 * their own processes, each running its `main.ts` as in production (from source
 * through tsx by default; `compiled` and `heapBound` run them as their containers do).
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = (line: string) => opts.print(`burnback  ${line}`);
  const emulators: RunningEmulator[] = [];
  const children = new Map<ServiceName, ChildProcess>();
  /** Processes told to stop (a restart, the stack's stop): their exit is no crash. */
  const stopped = new WeakSet<ChildProcess>();
  let stopping = false;
  let onCrash: (crash: { service: ServiceName; code: number | null }) => void = () => undefined;
  const crashed = new Promise<{ service: ServiceName; code: number | null }>((resolveCrash) => (onCrash = resolveCrash));
  /** Once a service is up, its exit unasked for is a crash (also one that came while its health was being read). */
  const watchForCrash = (service: ServiceName, child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (!stopped.has(child)) onCrash({ service, code: child.exitCode });
      return;
    }
    child.once('exit', (code) => {
      if (!stopped.has(child)) onCrash({ service, code });
    });
  };
  let sim: GcpSim | undefined;
  // The services and the emulators we started run in their own process groups; never leave them behind if this
  // process exits abruptly (an uncaught error, a closed pipe on its output): an emulator left running is reused by
  // the next start with all its state, and measured slower for it.
  const killChildren = () => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const emulator of emulators) killEmulatorNow(emulator);
  };
  process.once('exit', killChildren);

  const stop = async () => {
    stopping = true;
    process.removeListener('exit', killChildren);
    for (const child of children.values()) stopped.add(child);
    await Promise.all([...children.values()].map(terminate));
    await sim?.stop();
    await Promise.all(emulators.map((e) => stopEmulator(e)));
  };

  try {
    // Before anything starts: a taken port is reported with what holds it, not as a service dying on EADDRINUSE.
    const wanted = localPorts(opts.env);
    await assertPortsFree({
      ingest: { port: wanted.ingest, envVar: 'BURNBACK_DEV_PORT_BASE' },
      decider: { port: wanted.decider, envVar: 'BURNBACK_DEV_PORT_BASE' },
      executor: { port: wanted.executor, envVar: 'BURNBACK_DEV_PORT_BASE' },
      notifier: { port: wanted.notifier, envVar: 'BURNBACK_DEV_PORT_BASE' },
      'gcp-sim': { port: wanted.gcpSim, envVar: 'GCP_SIM_PORT' },
      'gcp-sim control': { port: wanted.gcpSimControl, envVar: 'GCP_SIM_CONTROL_PORT' },
    });
    const prepared = opts.prepare?.();
    // Awaited below, after the emulators: a failure meanwhile must not go unhandled.
    prepared?.catch(() => undefined);
    for (const spec of [EMULATORS.pubsub, EMULATORS.firestore]) {
      const running = await ensureEmulator(spec, { host: opts.env[spec.envVar] || spec.host, projectId: opts.projectId, log });
      if (!running.startedByUs) log(`reusing the ${spec.name} emulator on ${running.host}`);
      emulators.push(running);
    }
    const [pubsubHost, firestoreHost] = [emulators[0]!.host, emulators[1]!.host];
    process.env.PUBSUB_EMULATOR_HOST = pubsubHost;
    const pubsub = new PubSub({ projectId: opts.projectId });
    await ensureTopology(pubsub);
    await pubsub.close();
    log(`topics and subscriptions ready in project ${opts.projectId}`);

    const ports = localPorts(opts.env);
    // Every configured service (the same config the services read) gets its pipeline and history;
    // Cloud Deploy's notifications go to the emulator.
    sim = await startGcpSim({
      projectId: opts.projectId,
      port: ports.gcpSim,
      host: '127.0.0.1',
      rolloutStepMs: opts.rolloutStepMs ?? 1000,
      services: servicesFromConfigFile(opts.env.BURNBACK_CONFIG ?? resolve(REPO_ROOT, 'config/local.yaml')),
      notifications: { projectId: opts.projectId },
      // `burnback simulate`'s fail steps reach gcp-sim here; what they set and clear is logged like the services' lines.
      control: { port: ports.gcpSimControl, logger: createLogger('gcp-sim', { stream: linesTo('gcp-sim', opts) }) },
    });
    sim.deploy.onRolloutChange((rollout, previous) => {
      if (previous) log(`gcp-sim: rollout ${rollout.name} ${previous} -> ${rollout.state}`);
    });

    const baseEnv: NodeJS.ProcessEnv = {
      ...opts.env,
      METADATA_SERVER_DETECTION: 'none',
      GOOGLE_CLOUD_PROJECT: opts.projectId,
      PUBSUB_EMULATOR_HOST: pubsubHost,
      FIRESTORE_EMULATOR_HOST: firestoreHost,
      CLOUD_DEPLOY_ENDPOINT: sim.address,
      BURNBACK_CONFIG: opts.env.BURNBACK_CONFIG ?? resolve(REPO_ROOT, 'config/local.yaml'),
      BURNBACK_WEBHOOK_TOKEN: opts.env.BURNBACK_WEBHOOK_TOKEN ?? LOCAL_WEBHOOK_TOKEN,
      BURNBACK_MANAGEMENT_TOKEN: opts.env.BURNBACK_MANAGEMENT_TOKEN ?? LOCAL_MANAGEMENT_TOKEN,
      // Local only: the Pub/Sub emulator's push subscriptions send no OIDC token (ingest warns at start).
      BURNBACK_PUSH_ALLOW_UNSIGNED: opts.env.BURNBACK_PUSH_ALLOW_UNSIGNED ?? 'true',
      BURNBACK_POLL_INTERVAL_MS: opts.env.BURNBACK_POLL_INTERVAL_MS ?? '500',
    };
    const envOf = (service: ServiceName): NodeJS.ProcessEnv => ({
      ...baseEnv,
      PORT: String(ports[service]),
      ...(opts.heapBound ? { NODE_OPTIONS: serviceNodeOptions(service, opts.env.NODE_OPTIONS) } : {}),
    });
    /** Spawns a service and resolves once it answers /healthz; from then on its exit is a crash. */
    const startService = async (service: ServiceName): Promise<void> => {
      if (stopping) throw new Error(`the stack is stopping: ${service} is not started again`);
      const child = spawnService(service, envOf(service), opts);
      children.set(service, child);
      await waitForHealth(`http://127.0.0.1:${ports[service]}/healthz`, child);
      watchForCrash(service, child);
    };
    await prepared;
    await Promise.all(SERVICES.map(startService));

    return {
      emulators,
      sim,
      children,
      endpoints: {
        'Pub/Sub emulator': pubsubHost,
        'Firestore emulator': firestoreHost,
        'gcp-sim (Cloud Deploy gRPC)': sim.address,
        'gcp-sim control (HTTP)': sim.control!.url,
        'ingest (HTTP front door)': `http://127.0.0.1:${ports.ingest}`,
        'decider (health, metrics)': `http://127.0.0.1:${ports.decider}`,
        'executor (health, metrics)': `http://127.0.0.1:${ports.executor}`,
        'notifier (health, metrics)': `http://127.0.0.1:${ports.notifier}`,
      },
      crashed,
      restart: async (service) => {
        const old = children.get(service);
        if (old) {
          stopped.add(old);
          await terminate(old);
        }
        await startService(service);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
