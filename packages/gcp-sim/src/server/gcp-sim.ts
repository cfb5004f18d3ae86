import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Server, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { PubSub } from '@google-cloud/pubsub';
import type { DeploySeed } from '../cloud-deploy/resources.js';
import { defaultDeploySeed } from '../cloud-deploy/seed.js';
import {
  DeploySimulation,
  silentLogger,
  uniformTimings,
  type DeployNotifier,
  type DeploySim,
  type DeployTimings,
  type RolloutListener,
  type SimLogger,
} from '../cloud-deploy/simulation.js';
import { createCloudDeployHandlers } from '../cloud-deploy/service.js';
import { cloudDeployServiceDefinition, operationsServiceDefinition } from '../cloud-deploy/protos.js';
import { PubSubDeployNotifier, projectNumberOf } from '../cloud-deploy/notifications.js';
import { loadScenarioFile, seedFromScenario, type Scenario } from '../cloud-deploy/scenario.js';
import { worldFromServices, type WorldService } from '../cloud-deploy/world.js';
import { MonitoringSimulation, type MonitoringSim } from '../cloud-monitoring/simulation.js';
import { createMonitoringHandlers } from '../cloud-monitoring/service.js';
import { metricServiceDefinition } from '../cloud-monitoring/protos.js';
import { burnSeedFromScenario } from '../cloud-monitoring/scenario.js';
import type { BurnSeed } from '../cloud-monitoring/burn-rates.js';
import { startControlServer, type ControlServer } from '../control/server.js';

export interface GcpSimOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port (read it back from `GcpSim.port`). */
  port?: number;
  /** Default `GOOGLE_CLOUD_PROJECT`, else `burnback-local`. */
  projectId?: string;
  /** Default us-central1. */
  region?: string;
  /** Default: derived from the project id (notifications carry it as ProjectNumber). */
  projectNumber?: string;
  /** Every duration of `timings` not given there. Default 1000 ms. */
  rolloutStepMs?: number;
  /**
   * What Cloud Deploy's own times read (a rollout's create, deploy start and end
   * times): the wall clock by default. A replay gives a recorded timeline, so a
   * rollout it lets go deploys at the moment the recording said it did.
   */
  clock?: () => Date;
  /** How long renders, rollout starts, deploy and verify jobs, cancels and operations take; see DeployTimings. */
  timings?: Partial<DeployTimings>;
  /**
   * The world to start from (and `reset()` back to), first match wins: `seed`,
   * a scenario (a YAML file path or a parsed Scenario), `services` (one pipeline
   * and history per BURNBACK_CONFIG service), else `defaultDeploySeed`.
   */
  seed?: DeploySeed;
  scenario?: string | Scenario;
  services?: WorldService[];
  /**
   * Publish Cloud Deploy's Pub/Sub notifications (clouddeploy-operations,
   * -approvals, -advances, -resources) into this project, with this client or
   * `new PubSub({ projectId })` (PUBSUB_EMULATOR_HOST for the emulator). Off when unset.
   */
  notifications?: {
    projectId: string;
    pubsub?: PubSub;
    /**
     * Notifications it answers true for are not published: how a replay keeps
     * Cloud Deploy's notifications of Burnback's own rollouts out, and publishes
     * the recorded ones itself at the moment the recording saw them.
     */
    suppress?: (notification: { topic: string; attributes: Record<string, string> }) => boolean;
  };
  /**
   * Cloud Monitoring: SLO burn-rate timelines to start from (and `reset()` back
   * to), added to a scenario's `monitoring` section; and the seconds between the
   * points of a series (default 60).
   */
  monitoring?: { burnRates?: BurnSeed; sampleSeconds?: number };
  /**
   * Serve the control endpoint (HTTP, on 127.0.0.1 only: `src/control/server.ts`)
   * through which another process fails the next rollbacks on a pipeline's
   * target and clears that. `port` 0 (the default) takes any free port; its
   * logger defaults to `logger`. Off when unset.
   */
  control?: { port?: number; logger?: SimLogger };
  /** Default: silent. */
  logger?: SimLogger;
  /** Called on every rollout state change (also available as `sim.deploy.onRolloutChange`). */
  onRolloutChange?: RolloutListener;
}

export interface GcpSim {
  /** `host:port` the sim listens on. */
  address: string;
  port: number;
  projectId: string;
  region: string;
  projectNumber: string;
  deploy: DeploySim;
  /** Cloud Monitoring (MetricService.ListTimeSeries for select_slo_burn_rate): burn rates and faults. */
  monitoring: MonitoringSim;
  /** The control endpoint (`http://127.0.0.1:<port>`), when `control` was asked for; else null. */
  control: { url: string; port: number } | null;
  /** Stops the timers, flushes notifications and stops the gRPC server. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_ROLLOUT_STEP_MS = 1000;
/** How long stop() lets open calls finish before cutting connections. */
const SHUTDOWN_GRACE_MS = 2000;

function seedOf(options: GcpSimOptions, scenario: Scenario | undefined, projectId: string, region: string): DeploySeed {
  if (options.seed) return options.seed;
  if (scenario)
    return seedFromScenario(scenario, { projectId, region }, typeof options.scenario === 'string' ? options.scenario : 'scenario');
  if (options.services) return worldFromServices(options.services, { projectId, region });
  return defaultDeploySeed(projectId, region);
}

/** Starts the simulated Google APIs on one insecure gRPC port: Cloud Deploy (with its LRO service) and Cloud Monitoring. */
export async function startGcpSim(options: GcpSimOptions = {}): Promise<GcpSim> {
  const host = options.host ?? '127.0.0.1';
  const projectId = options.projectId ?? process.env.GOOGLE_CLOUD_PROJECT ?? 'burnback-local';
  const region = options.region ?? 'us-central1';
  const projectNumber = options.projectNumber ?? projectNumberOf(projectId);
  const logger = options.logger ?? silentLogger;
  const timings = uniformTimings(options.rolloutStepMs ?? DEFAULT_ROLLOUT_STEP_MS, options.timings);

  // A scenario is read once, before anything starts: a bad file fails here with a ScenarioError.
  const scenario = options.seed ? undefined : typeof options.scenario === 'string' ? loadScenarioFile(options.scenario) : options.scenario;
  let ownPubSub: PubSub | undefined;
  let notifier: DeployNotifier | undefined;
  if (options.notifications) {
    const pubsub = options.notifications.pubsub ?? (ownPubSub = new PubSub({ projectId: options.notifications.projectId }));
    notifier = new PubSubDeployNotifier(pubsub, projectNumber, logger, options.notifications.suppress);
  }

  const deploy = new DeploySimulation({
    seed: seedOf(options, scenario, projectId, region),
    timings,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(notifier ? { notifier } : {}),
  });
  if (options.onRolloutChange) deploy.onRolloutChange(options.onRolloutChange);

  const monitoring = new MonitoringSimulation({
    seed: [...burnSeedFromScenario(scenario?.monitoring, Date.now()), ...(options.monitoring?.burnRates ?? [])],
    ...(options.monitoring?.sampleSeconds !== undefined ? { sampleSeconds: options.monitoring.sampleSeconds } : {}),
  });

  const server = new Server();
  server.addService(cloudDeployServiceDefinition(), createCloudDeployHandlers(deploy, logger, 'deploy', { projectId, projectNumber }));
  server.addService(operationsServiceDefinition(), createCloudDeployHandlers(deploy, logger, 'operations'));
  server.addService(metricServiceDefinition(), createMonitoringHandlers(monitoring, logger));
  const hostPort = `${host.includes(':') ? `[${host}]` : host}`;
  const closeNotifier = async (): Promise<void> => {
    await notifier?.close();
    await ownPubSub?.close();
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${hostPort}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
  } catch (err) {
    deploy.stop();
    await closeNotifier();
    throw err;
  }
  let control: ControlServer | undefined;
  if (options.control) {
    try {
      control = await startControlServer(deploy, {
        ...(options.control.port !== undefined ? { port: options.control.port } : {}),
        projectId,
        region,
        logger: options.control.logger ?? logger,
      });
    } catch (err) {
      deploy.stop();
      server.forceShutdown();
      await closeNotifier();
      throw err;
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      deploy.stop();
      await control?.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await closeNotifier();
    })());

  return {
    address: `${hostPort}:${port}`,
    port,
    projectId,
    region,
    projectNumber,
    deploy,
    monitoring,
    control: control ? { url: control.url, port: control.port } : null,
    stop,
  };
}

/**
 * Options that point the real `CloudDeployClient` of @google-cloud/deploy at the
 * sim: insecure, no auth. The credentials come from the grpc-js copy that the
 * client's google-gax uses, because grpc-js checks them with instanceof.
 */
export function cloudDeployClientOptions(sim: Pick<GcpSim, 'address' | 'port' | 'projectId'>): LocalClientOptions {
  return clientOptionsFor('@google-cloud/deploy', sim);
}

/** Options that point the real `MetricServiceClient` of @google-cloud/monitoring at the sim (its own gax's grpc-js). */
export function monitoringClientOptions(sim: Pick<GcpSim, 'address' | 'port' | 'projectId'>): LocalClientOptions {
  return clientOptionsFor('@google-cloud/monitoring', sim);
}

/** A type literal, not an interface: the clients' ClientOptions has an index signature. */
export type LocalClientOptions = {
  apiEndpoint: string;
  port: number;
  sslCreds: ChannelCredentials;
  projectId: string;
};

function clientOptionsFor(clientPackage: string, sim: Pick<GcpSim, 'address' | 'port' | 'projectId'>): LocalClientOptions {
  const clientDir = dirname(require.resolve(`${clientPackage}/package.json`));
  const gax = createRequire(join(clientDir, 'package.json'))('google-gax') as {
    grpc: { credentials: { createInsecure(): ChannelCredentials } };
  };
  const host = sim.address.slice(0, sim.address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  // A wildcard listen address is not one a client can dial.
  const apiEndpoint = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return { apiEndpoint, port: sim.port, sslCreds: gax.grpc.credentials.createInsecure(), projectId: sim.projectId };
}
