import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { loadConfig, silentLogger, createLogger, type Config, type Logger } from '@burnback/platform';
import { ensureTopology } from '@burnback/emulators';

/** The committed local config: Cloud Run services `api-backend` and `checkout`, each → its own pipeline's production. */
export const LOCAL_CONFIG_PATH = resolve(__dirname, '../../../config/local.yaml');

export interface TestEnvironment {
  /** A project of this test's own: every topic, subscription and document is isolated under it. */
  projectId: string;
  pubsub: PubSub;
  db: Firestore;
  logger: Logger;
  /** loadConfig() over the committed local config for this project (override env as needed), notify: secrets read as the notifier reads them. */
  config(env?: Record<string, string>): Config;
  /** Deletes every document of this project (the emulator's reset endpoint). */
  clearFirestore(): Promise<void>;
  close(): Promise<void>;
}

/** A valid, unique project id `<suite>-<shortid>` (the emulators accept any project; so isolation is per project). */
export function uniqueProjectId(suite: string): string {
  const slug =
    suite
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 19) || 'test';
  return `t-${slug}-${randomBytes(3).toString('hex')}`.replace(/-+/g, '-');
}

function requireEmulator(envVar: 'PUBSUB_EMULATOR_HOST' | 'FIRESTORE_EMULATOR_HOST'): string {
  const host = process.env[envVar];
  if (!host) throw new Error(`${envVar} is not set: integration tests run on the emulators (jest's integration project starts them)`);
  return host;
}

/**
 * A per-test world on the emulators: its own project, with Burnback's topics and
 * subscriptions created and an empty Firestore. Set LOG_TESTS=1 to see service logs.
 */
export async function createTestEnvironment(suite: string, options: { topology?: boolean } = {}): Promise<TestEnvironment> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const firestoreHost = requireEmulator('FIRESTORE_EMULATOR_HOST');
  requireEmulator('PUBSUB_EMULATOR_HOST');
  const projectId = uniqueProjectId(suite);
  const pubsub = new PubSub({ projectId });
  const db = new Firestore({ projectId, ignoreUndefinedProperties: true });
  if (options.topology !== false) await ensureTopology(pubsub, { maxDeliveryAttempts: 5, retryPolicy: true });
  const logger = process.env.LOG_TESTS === '1' ? createLogger(suite, { level: 'debug' }) : silentLogger();
  const clearFirestore = async () => {
    const res = await fetch(`http://${firestoreHost}/emulator/v1/projects/${projectId}/databases/(default)/documents`, {
      method: 'DELETE',
    });
    if (!res.ok) throw new Error(`clearing Firestore for ${projectId} failed: ${res.status} ${await res.text()}`);
  };
  return {
    projectId,
    pubsub,
    db,
    logger,
    config: (env = {}) =>
      loadConfig(
        {
          GOOGLE_CLOUD_PROJECT: projectId,
          BURNBACK_CONFIG: LOCAL_CONFIG_PATH,
          PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
          FIRESTORE_EMULATOR_HOST: firestoreHost,
          PORT: '0',
          ...env,
        },
        { resolveNotify: true },
      ),
    clearFirestore,
    async close() {
      await clearFirestore().catch(() => undefined);
      await pubsub.close();
      await db.terminate();
    },
  };
}
