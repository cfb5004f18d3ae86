import { ConfigError } from './errors.js';

/** What `main.ts` reads from the environment. */
export interface SimConfig {
  host: string;
  port: number;
  /** The control endpoint's port on 127.0.0.1 (fail the next rollbacks, clear that); null = no control endpoint. */
  controlPort: number | null;
  projectId: string;
  region: string;
  rolloutStepMs: number;
  /** Start canary phases without AdvanceRollout (demos); Cloud Deploy waits for it. */
  autoAdvance: boolean;
  /** A scenario file (YAML) to start from. */
  scenarioPath: string | null;
  /** A Burnback config whose services get their pipelines (used when there is no scenario). */
  burnbackConfigPath: string | null;
  /** Project to publish Cloud Deploy's notifications into; null = none. */
  notificationsProjectId: string | null;
}

const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+\d+$/;

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(key, `expected an integer from ${min} to ${max}, got "${raw}"`);
  return value;
}

function matching(env: NodeJS.ProcessEnv, key: string, fallback: string, pattern: RegExp, what: string): string {
  const value = env[key] || fallback;
  if (!pattern.test(value)) throw new ConfigError(key, `expected ${what}, got "${value}"`);
  return value;
}

function flag(env: NodeJS.ProcessEnv, key: string): boolean {
  const raw = (env[key] ?? '').toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(key, `expected true or false, got "${env[key]}"`);
}

function notificationsProject(env: NodeJS.ProcessEnv): string | null {
  const explicit = env.GCP_SIM_NOTIFICATIONS_PROJECT;
  if (explicit === 'none') return null;
  if (explicit) return matching(env, 'GCP_SIM_NOTIFICATIONS_PROJECT', explicit, PROJECT_ID, 'a Google Cloud project id, or none');
  return env.PUBSUB_EMULATOR_HOST ? env.GOOGLE_CLOUD_PROJECT || 'burnback-local' : null;
}

/** Parses the standalone simulator's environment; throws one ConfigError naming the bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SimConfig {
  return {
    host: env.GCP_SIM_HOST || '127.0.0.1',
    port: integer(env, 'GCP_SIM_PORT', 8087, 0, 65535),
    controlPort: env.GCP_SIM_CONTROL_PORT ? integer(env, 'GCP_SIM_CONTROL_PORT', 0, 1, 65535) : null,
    projectId: matching(env, 'GOOGLE_CLOUD_PROJECT', 'burnback-local', PROJECT_ID, 'a Google Cloud project id'),
    region: matching(env, 'GCP_SIM_REGION', 'us-central1', REGION, 'a region such as us-central1'),
    rolloutStepMs: integer(env, 'GCP_SIM_ROLLOUT_STEP_MS', 1000, 0, 3_600_000),
    autoAdvance: flag(env, 'GCP_SIM_AUTO_ADVANCE'),
    scenarioPath: env.GCP_SIM_SCENARIO || null,
    burnbackConfigPath: env.BURNBACK_CONFIG || null,
    // With the Pub/Sub emulator, notifications go to the project the rest of the stack uses unless told otherwise.
    notificationsProjectId: notificationsProject(env),
  };
}
