import type { CloudDeployClient } from '@google-cloud/deploy';
import { Collections, Topics, type DecisionRecord, type RollbackProgress, type RollbackRecord } from '@burnback/contracts';
import { startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { createDeployClient, PubSubPublisher, type Config } from '@burnback/platform';
import { createTestEnvironment, notificationBytes, tapTopic, type TestEnvironment, type TopicTap } from '@burnback/testkit';
import { startDeciderService, type DeciderService } from '@burnback/decider';
import { startExecutorService, type ExecutorService } from '@burnback/executor';
import { startIngestService, type IngestService } from '@burnback/ingest';

export const WEBHOOK_TOKEN = 'test-webhook-token-0123456789';

/** The whole Burnback pipeline on the emulators + gcp-sim, in this process, on a project of the test's own. */
export interface Pipeline {
  env: TestEnvironment;
  config: Config;
  sim: GcpSim;
  deployClient: CloudDeployClient;
  ingest: IngestService;
  decider: DeciderService;
  executor: ExecutorService;
  publisher: PubSubPublisher;
  progress: TopicTap;
  deadLetters: TopicTap;
  /** Publishes a notification to monitoring-incidents as Cloud Monitoring's Pub/Sub channel does. */
  notify(notification: unknown): Promise<string>;
  progressOf(rollbackId?: string): RollbackProgress[];
  decisions(): Promise<DecisionRecord[]>;
  rollbacks(): Promise<RollbackRecord[]>;
  close(): Promise<void>;
}

export async function startPipeline(
  suite: string,
  options: {
    rolloutStepMs?: number;
    /** Extra environment for loadConfig, e.g. a BURNBACK_CONFIG of the test's own. */ env?: Record<string, string>;
  } = {},
): Promise<Pipeline> {
  const env = await createTestEnvironment(suite);
  const sim = await startGcpSim({ projectId: env.projectId, rolloutStepMs: options.rolloutStepMs ?? 100, port: 0 });
  const config = env.config({ CLOUD_DEPLOY_ENDPOINT: sim.address, BURNBACK_WEBHOOK_TOKEN: WEBHOOK_TOKEN, ...options.env });
  const deployClient = createDeployClient(config);
  const progress = await tapTopic(env.pubsub, Topics.progress);
  const deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
  const ingest = await startIngestService({ config, pubsub: env.pubsub, db: env.db, logger: env.logger, host: '127.0.0.1' });
  const decider = await startDeciderService({ config, pubsub: env.pubsub, db: env.db, logger: env.logger, relayIntervalMs: 0 });
  const executor = await startExecutorService({
    pubsub: env.pubsub,
    db: env.db,
    deployClient,
    logger: env.logger,
    pollIntervalMs: 50,
    retry: { retries: 3, minTimeout: 20, maxTimeout: 100 },
  });
  const publisher = new PubSubPublisher(env.pubsub);
  const all = async <T>(collection: string) => (await env.db.collection(collection).get()).docs.map((d) => d.data() as T);
  return {
    env,
    config,
    sim,
    deployClient,
    ingest,
    decider,
    executor,
    publisher,
    progress,
    deadLetters,
    notify: (notification) =>
      publisher.publishRaw(
        Topics.monitoringIncidents,
        typeof notification === 'string' ? Buffer.from(notification) : notificationBytes(notification),
        {},
      ),
    progressOf: (rollbackId) =>
      progress.messages.map((m) => m.json<RollbackProgress>()).filter((p) => rollbackId === undefined || p.rollbackId === rollbackId),
    decisions: () => all<DecisionRecord>(Collections.decisions),
    rollbacks: () => all<RollbackRecord>(Collections.rollbacks),
    async close() {
      await ingest.close();
      await decider.close();
      await executor.close();
      await progress.close();
      await deadLetters.close();
      await publisher.close();
      await deployClient.close();
      await sim.stop();
      await env.close();
    },
  };
}
