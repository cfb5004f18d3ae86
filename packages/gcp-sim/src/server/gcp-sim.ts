import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Server, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { DeploySeed } from '../cloud-deploy/resources.js';
import { defaultDeploySeed } from '../cloud-deploy/seed.js';
import { DeploySimulation, silentLogger, type DeploySim, type RolloutListener, type SimLogger } from '../cloud-deploy/simulation.js';
import { createCloudDeployHandlers } from '../cloud-deploy/service.js';
import { cloudDeployServiceDefinition } from './protos.js';

export interface GcpSimOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port (read it back from `GcpSim.port`). */
  port?: number;
  /** Default `GOOGLE_CLOUD_PROJECT`, else `burnback-local`. */
  projectId?: string;
  /** Default us-central1. */
  region?: string;
  /** Time each rollout step (PENDING → IN_PROGRESS → SUCCEEDED/FAILED) takes. Default 1000 ms. */
  rolloutStepMs?: number;
  /** Default `defaultDeploySeed(projectId, region)`. */
  seed?: DeploySeed;
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
  deploy: DeploySim;
  /** Stops the rollout timers and the gRPC server. Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_ROLLOUT_STEP_MS = 1000;
/** How long stop() lets open calls finish before cutting connections. */
const SHUTDOWN_GRACE_MS = 2000;

export async function startGcpSim(options: GcpSimOptions = {}): Promise<GcpSim> {
  const host = options.host ?? '127.0.0.1';
  const projectId = options.projectId ?? process.env.GOOGLE_CLOUD_PROJECT ?? 'burnback-local';
  const region = options.region ?? 'us-central1';
  const logger = options.logger ?? silentLogger;
  const rolloutStepMs = options.rolloutStepMs ?? DEFAULT_ROLLOUT_STEP_MS;
  if (!Number.isFinite(rolloutStepMs) || rolloutStepMs < 0) throw new Error(`rolloutStepMs must be >= 0, got ${rolloutStepMs}`);

  const deploy = new DeploySimulation({
    seed: options.seed ?? defaultDeploySeed(projectId, region),
    rolloutStepMs,
    logger,
  });
  if (options.onRolloutChange) deploy.onRolloutChange(options.onRolloutChange);

  const server = new Server();
  server.addService(cloudDeployServiceDefinition(), createCloudDeployHandlers(deploy, logger));
  const hostPort = `${host.includes(':') ? `[${host}]` : host}`;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${hostPort}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
  } catch (err) {
    deploy.stop();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= new Promise<void>((resolve) => {
      deploy.stop();
      const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));

  return { address: `${hostPort}:${port}`, port, projectId, region, deploy, stop };
}

/**
 * Options that point the real `CloudDeployClient` of @google-cloud/deploy at the
 * sim: insecure, no auth. The credentials come from the grpc-js copy that the
 * client's google-gax uses, because grpc-js checks them with instanceof.
 */
export function cloudDeployClientOptions(sim: Pick<GcpSim, 'address' | 'port' | 'projectId'>): {
  apiEndpoint: string;
  port: number;
  sslCreds: ChannelCredentials;
  projectId: string;
} {
  const deployDir = dirname(require.resolve('@google-cloud/deploy/package.json'));
  const gax = createRequire(join(deployDir, 'package.json'))('google-gax') as {
    grpc: { credentials: { createInsecure(): ChannelCredentials } };
  };
  const host = sim.address.slice(0, sim.address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  // A wildcard listen address is not one a client can dial.
  const apiEndpoint = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return { apiEndpoint, port: sim.port, sslCreds: gax.grpc.credentials.createInsecure(), projectId: sim.projectId };
}
