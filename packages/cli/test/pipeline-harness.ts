import type { CloudDeployClient } from '@google-cloud/deploy';
import {
  Collections,
  EventTypes,
  TargetRecord,
  Subscriptions,
  Topics,
  type DecisionRecord,
  type RollbackProgress,
  type RollbackRecord,
} from '@burnback/contracts';
import { GcpSimControl, servicesFromConfigFile, startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import {
  CloudDeployHistory,
  createDeployClient,
  createMetrics,
  createMonitoringClient,
  PubSubPublisher,
  type Config,
} from '@burnback/platform';
import {
  createTestEnvironment,
  LOCAL_CONFIG_PATH,
  notificationBytes,
  type IncidentFixtureOptions,
  tapTopic,
  waitFor,
  type TappedMessage,
  type TestEnvironment,
  type TopicTap,
} from '@burnback/testkit';
import { startDeciderService, type DeciderService } from '@burnback/decider';
import { startExecutorService, type ExecutorService } from '@burnback/executor';
import { startIngestService, type IngestService } from '@burnback/ingest';

export const WEBHOOK_TOKEN = 'test-webhook-token-0123456789';
export const MANAGEMENT_TOKEN = 'test-management-token-0123456789';
/** Attribute of the marker messages drain() sends through the pipeline (they end in the dead-letter topic). */
export const MARKER_ATTRIBUTE = 'burnback-test-marker';

/** The whole Burnback pipeline on the emulators + gcp-sim, in this process, on a project of the test's own. */
export interface Pipeline {
  env: TestEnvironment;
  config: Config;
  sim: GcpSim;
  /** gcp-sim's control endpoint, as `burnback simulate` reaches it in a running stack. */
  control: GcpSimControl;
  deployClient: CloudDeployClient;
  ingest: IngestService;
  decider: DeciderService;
  /** The executor now running (null while stopped). */
  executor: ExecutorService | null;
  /** Starts the executor (again): commands published meanwhile wait in its subscription until then. */
  startExecutor(): Promise<ExecutorService>;
  /** Stops the executor: commands wait in its subscription until startExecutor. */
  stopExecutor(): Promise<void>;
  publisher: PubSubPublisher;
  progress: TopicTap;
  deadLetters: TopicTap;
  /**
   * Options for testkit's incident fixtures: this test's project, and a start
   * time after the seeded releases began serving (an incident that started
   * before the serving release blames something else and escalates).
   */
  fixture: Required<Pick<IncidentFixtureOptions, 'projectId' | 'startedAt'>>;
  /** What reached burnback-dead-letter, without drain()'s markers. */
  deadLettered(): TappedMessage[];
  /** Notifications ingest read but mapped to no configured service (burnback_notifications_unmapped_total), by project. */
  unmapped(): Promise<Record<string, number>>;
  /** Publishes a notification to monitoring-incidents as Cloud Monitoring's Pub/Sub channel does. */
  notify(notification: unknown, orderingKey?: string): Promise<string>;
  /**
   * The positive control before asserting that nothing else happened: waits until
   * ingest has settled every notification published so far, then sends a marker
   * through the decider and then through the executor, each on the service's
   * ordering key, and waits until each is dead-lettered, then one through
   * burnback-progress to the test's tap. Everything the earlier messages caused
   * on those keys was handled (and its progress received) before the markers.
   */
  drain(service?: string): Promise<void>;
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
    /** Start the executor with the rest (default); false: the test starts it (commands wait meanwhile). */
    executor?: boolean;
    /** gcp-sim's Cloud Monitoring sample interval, when a test moves burn rates within seconds. */
    monitoringSampleSeconds?: number;
  } = {},
): Promise<Pipeline> {
  const env = await createTestEnvironment(suite);
  // Cloud Deploy's notifications on: the decider learns from clouddeploy-operations what serves each target.
  // As npm start: a pipeline and history for every configured service, and the control endpoint.
  const sim = await startGcpSim({
    projectId: env.projectId,
    rolloutStepMs: options.rolloutStepMs ?? 100,
    port: 0,
    services: servicesFromConfigFile(options.env?.BURNBACK_CONFIG ?? LOCAL_CONFIG_PATH),
    notifications: { projectId: env.projectId, pubsub: env.pubsub },
    control: { port: 0 },
  });
  const config = env.config({
    CLOUD_DEPLOY_ENDPOINT: sim.address,
    BURNBACK_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
    BURNBACK_MANAGEMENT_TOKEN: MANAGEMENT_TOKEN,
    // As the local stack does: the Pub/Sub emulator's push subscriptions send no OIDC token.
    BURNBACK_PUSH_ALLOW_UNSIGNED: 'true',
    ...options.env,
  });
  const deployClient = createDeployClient(config);
  const monitoring = createMonitoringClient({ projectId: env.projectId, cloudMonitoringEndpoint: sim.address }, { timeoutMs: 3000 });
  const progress = await tapTopic(env.pubsub, Topics.progress);
  const deadLetters = await tapTopic(env.pubsub, Topics.deadLetter);
  const ingestMetrics = createMetrics('ingest');
  const ingest = await startIngestService({
    config,
    pubsub: env.pubsub,
    db: env.db,
    logger: env.logger,
    host: '127.0.0.1',
    metrics: ingestMetrics,
  });
  const decider = await startDeciderService({
    config,
    pubsub: env.pubsub,
    db: env.db,
    logger: env.logger,
    relayIntervalMs: 0,
    deploy: new CloudDeployHistory(deployClient),
    // Cloud Monitoring is gcp-sim's, for the services that name their SLO.
    monitoring,
    redecisions: { idleSweepMs: 500 },
  });
  const newExecutor = () =>
    startExecutorService({
      pubsub: env.pubsub,
      db: env.db,
      deployClient,
      logger: env.logger,
      pollIntervalMs: 50,
      retry: { retries: 3, minTimeout: 20, maxTimeout: 100 },
      services: config.services,
    });
  let executor: ExecutorService | null = options.executor === false ? null : await newExecutor();
  const publisher = new PubSubPublisher(env.pubsub);
  // What serves each target was shipped before the test: the decider read it from Cloud Deploy at start.
  await decider.ready;
  const servingSince = await waitFor(
    async () => {
      const docs = (await env.db.collection(Collections.targets).get()).docs.map((d) => TargetRecord.parse(d.data()));
      const known = [...config.services.values()].map((s) => docs.find((t) => t.pipeline === s.pipeline && t.target === s.target)?.serving);
      return known.every((k) => k) ? Math.max(...known.map((k) => Date.parse(k!.since))) : undefined;
    },
    { what: 'the decider to record what serves each target', timeoutMs: 30_000 },
  );
  const all = async <T>(collection: string) => (await env.db.collection(collection).get()).docs.map((d) => d.data() as T);
  let notified = 0;
  let markers = 0;
  /** Notifications ingest has finished with (acked or dead-lettered; a nack comes back). */
  const ingestSettled = async () =>
    (await ingestMetrics.messages.get()).values
      .filter((v) => v.labels.subscription === Subscriptions.ingest.name && v.labels.outcome !== 'nack')
      .reduce((sum, v) => sum + v.value, 0);
  /** An invalid event on `topic`, ordered behind everything of `service`: the consumer dead-letters it. */
  const sendMarker = async (topic: typeof Topics.alerts | typeof Topics.commands, type: string, service: string) => {
    const id = `marker-${++markers}`;
    const attributes = { 'ce-specversion': '1.0', 'ce-type': type, 'ce-id': id, 'ce-source': '//test/marker', [MARKER_ATTRIBUTE]: id };
    await publisher.publishRaw(topic, Buffer.from('marker'), attributes, service);
    await deadLetters.waitFor(1, (m) => m.attributes[MARKER_ATTRIBUTE] === id, 30_000);
  };
  return {
    env,
    config,
    sim,
    control: new GcpSimControl(sim.control!.url),
    deployClient,
    ingest,
    decider,
    get executor() {
      return executor;
    },
    async startExecutor() {
      if (!executor) executor = await newExecutor();
      return executor;
    },
    async stopExecutor() {
      await executor?.close();
      executor = null;
    },
    publisher,
    progress,
    deadLetters,
    fixture: { projectId: env.projectId, startedAt: Math.ceil(servingSince / 1000) },
    deadLettered: () => deadLetters.messages.filter((m) => !(MARKER_ATTRIBUTE in m.attributes)),
    unmapped: async () =>
      Object.fromEntries((await ingestMetrics.notificationsUnmapped.get()).values.map((v) => [String(v.labels.project), v.value])),
    notify: (notification, orderingKey) => {
      notified++;
      return publisher.publishRaw(
        Topics.monitoringIncidents,
        typeof notification === 'string' ? Buffer.from(notification) : notificationBytes(notification),
        {},
        orderingKey,
      );
    },
    async drain(service = 'api-backend') {
      await waitFor(async () => (await ingestSettled()) >= notified, {
        timeoutMs: 30_000,
        what: `ingest to settle ${notified} notification(s)`,
      });
      await sendMarker(Topics.alerts, EventTypes.alert, service);
      await sendMarker(Topics.commands, EventTypes.rollbackCommand, service);
      // The executor published progress before it took the marker; one more marker, read on our own ordered tap, lets it arrive.
      const id = `marker-${++markers}`;
      await publisher.publishRaw(Topics.progress, Buffer.from('{}'), { [MARKER_ATTRIBUTE]: id }, service);
      await progress.waitFor(1, (m) => m.attributes[MARKER_ATTRIBUTE] === id, 30_000);
    },
    progressOf: (rollbackId) =>
      progress.messages
        .filter((m) => !(MARKER_ATTRIBUTE in m.attributes))
        .map((m) => m.json<RollbackProgress>())
        .filter((p) => rollbackId === undefined || p.rollbackId === rollbackId),
    decisions: () => all<DecisionRecord>(Collections.decisions),
    rollbacks: () => all<RollbackRecord>(Collections.rollbacks),
    async close() {
      // Each part in turn; one that takes long is named on stderr while it is awaited, so a hung close says which.
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['ingest', () => ingest.close()],
        ['decider', () => decider.close()],
        ['executor', async () => executor?.close()],
        ['progress tap', () => progress.close()],
        ['dead-letter tap', () => deadLetters.close()],
        ['publisher', () => publisher.close()],
        ['Cloud Deploy client', () => deployClient.close()],
        ['Cloud Monitoring client', () => monitoring.close()],
        ['gcp-sim', () => sim.stop()],
        ['test environment', () => env.close()],
      ];
      for (const [part, stop] of steps) {
        const started = Date.now();
        const slow = setInterval(
          () =>
            process.stderr.write(
              `[pipeline ${suite}] closing ${part}: still waiting after ${Math.round((Date.now() - started) / 1000)} s\n`,
            ),
          10_000,
        );
        try {
          await stop();
        } finally {
          clearInterval(slow);
        }
      }
    },
  };
}
