/**
 * Standalone simulator: `node --conditions=@burnback/source --import tsx packages/gcp-sim/src/main.ts`.
 * Env: GCP_SIM_HOST (127.0.0.1), GCP_SIM_PORT (8087), GCP_SIM_CONTROL_PORT (the control endpoint on
 * 127.0.0.1, whatever GCP_SIM_HOST says; unset: none), GOOGLE_CLOUD_PROJECT (burnback-local),
 * GCP_SIM_REGION (us-central1), GCP_SIM_ROLLOUT_STEP_MS (1000), GCP_SIM_AUTO_ADVANCE (false),
 * GCP_SIM_SCENARIO (a scenario YAML), else BURNBACK_CONFIG (one pipeline per service), else the default world;
 * Cloud Deploy notifications go to GCP_SIM_NOTIFICATIONS_PROJECT (default: GOOGLE_CLOUD_PROJECT when
 * PUBSUB_EMULATOR_HOST is set; `none` turns them off). Nothing is announced at start: the decider reads
 * what serves each target from the rollouts themselves, as it does from Cloud Deploy.
 */
import { loadConfig } from './config.js';
import type { SimLogger } from './cloud-deploy/simulation.js';
import { ConfigError, ScenarioError } from './errors.js';
import { servicesFromConfigFile } from './cloud-deploy/world.js';
import { startGcpSim, type GcpSim } from './server/gcp-sim.js';

const line = (severity: 'INFO' | 'WARNING' | 'ERROR', message: string, meta?: object): void => {
  process.stdout.write(`${JSON.stringify({ severity, message, ...meta, 'logging.googleapis.com/labels': { service: 'gcp-sim' } })}\n`);
};
const logger: SimLogger = { info: (m, meta) => line('INFO', m, meta), warn: (m, meta) => line('WARNING', m, meta) };

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      line('ERROR', `invalid configuration: ${err.message}`, { key: err.key });
      process.exit(1);
    }
    throw err;
  }
  // Handlers go in before the (slow) start so a signal during startup still stops cleanly.
  const state: { sim: GcpSim | undefined; stopping: boolean } = { sim: undefined, stopping: false };
  const stop = (target: GcpSim): void => {
    target.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        line('ERROR', 'gcp-sim failed to stop cleanly', { error: String(err) });
        process.exit(1);
      },
    );
  };
  const shutdown = (signal: NodeJS.Signals): void => {
    if (state.stopping) return;
    state.stopping = true;
    line('INFO', 'gcp-sim stopping', { signal });
    if (state.sim) stop(state.sim);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  let world;
  try {
    world = config.scenarioPath
      ? { scenario: config.scenarioPath }
      : config.burnbackConfigPath
        ? { services: servicesFromConfigFile(config.burnbackConfigPath) }
        : {};
  } catch (err) {
    if (err instanceof ScenarioError) {
      line('ERROR', `invalid world: ${err.message}`, { at: err.at });
      process.exit(1);
    }
    throw err;
  }
  const sim = await startGcpSim({
    host: config.host,
    port: config.port,
    projectId: config.projectId,
    region: config.region,
    rolloutStepMs: config.rolloutStepMs,
    timings: { autoAdvance: config.autoAdvance },
    ...world,
    ...(config.notificationsProjectId ? { notifications: { projectId: config.notificationsProjectId } } : {}),
    ...(config.controlPort !== null ? { control: { port: config.controlPort } } : {}),
    logger,
  });
  state.sim = sim;
  if (state.stopping) return stop(sim);
  line('INFO', 'gcp-sim listening', {
    address: sim.address,
    projectId: sim.projectId,
    region: sim.region,
    rolloutStepMs: config.rolloutStepMs,
    notificationsProjectId: config.notificationsProjectId,
    control: sim.control?.url ?? null,
    services: ['google.cloud.deploy.v1.CloudDeploy', 'google.longrunning.Operations'],
  });
}

main().catch((err: unknown) => {
  line('ERROR', 'gcp-sim failed to start', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
