import { Collections, Topics, type AlertEvent, type DecisionRecord, type OutboxEntry, type Redecision } from '@burnback/contracts';
import { startGcpSim, type GcpSim } from '@burnback/gcp-sim';
import { createMonitoringClient, PubSubPublisher, type MonitoringPort, type ServiceConfig } from '@burnback/platform';
import { alertCloudEvent, createTestEnvironment, ManualClock, type TestEnvironment } from '@burnback/testkit';
import { createDeciderHandler } from '../src/index.js';
import { shipped } from './shipped.js';

const UNAVAILABLE = 14;

/** The fixtures' burns are observed at 10:05; the decider evaluates each as if it had just arrived. */
const clock = new ManualClock('2026-11-26T10:05:01.000Z');

/**
 * The decider confirms a burn with Cloud Monitoring before it rolls back: the
 * real MetricServiceClient against gcp-sim's MetricService, on the Firestore
 * emulator. Both figures go into the decision; a recovered service is held; an
 * unanswered read is asked again for monitoringRetryMinutes, then escalates,
 * holds or decides without it, as the service's config says.
 */
describe('the decider asks Cloud Monitoring before a rollback', () => {
  let env: TestEnvironment;
  let sim: GcpSim;
  let monitoring: MonitoringPort;
  let publisher: PubSubPublisher;
  let slo: string;

  beforeEach(async () => {
    clock.set('2026-11-26T10:05:01.000Z');
    env = await createTestEnvironment(expect.getState().currentTestName ?? 'decider-monitoring');
    sim = await startGcpSim({ projectId: env.projectId, port: 0 });
    monitoring = createMonitoringClient({ projectId: env.projectId, cloudMonitoringEndpoint: sim.address }, { timeoutMs: 3000 });
    publisher = new PubSubPublisher(env.pubsub);
    slo = `projects/${env.projectId}/services/api-backend/serviceLevelObjectives/availability`;
    // rel-002 has served production since 10 min before the burn started.
    await shipped(env, 'rel-002', '2026-11-26T09:50:00.000Z');
  });
  afterEach(async () => {
    await monitoring.close();
    await publisher.close();
    await sim.stop();
    await env.close();
  });

  const handlerFor = (overrides: Partial<ServiceConfig>) => {
    const services = new Map(env.config().services);
    services.set('api-backend', { ...services.get('api-backend')!, slo, ...overrides });
    return createDeciderHandler({ db: env.db, services, publisher, logger: env.logger, monitoring, clock });
  };
  /** A fast-burn alert (1 h over 14.4×, confirmed by 5 min) at 20×, that started at 10:00. */
  const burn = (incidentId: string, overrides: Partial<AlertEvent> = {}) =>
    alertCloudEvent(incidentId, {
      signal: 'burn-rate',
      observedValue: 20,
      thresholdValue: 14.4,
      lookbackSeconds: 3600,
      burnPolicy: 'fast',
      burnPolicySource: 'policy-label',
      burnWindows: { longSeconds: 3600, shortSeconds: 300, threshold: 14.4 },
      sloName: slo,
      sloSelector: 'select_slo_burn_rate',
      ...overrides,
    });
  /** Burn figures hold from 5 min ago, so Monitoring's newest point (sampled each minute) already carries them. */
  const since = () => new Date(Date.now() - 5 * 60_000);
  const commandFor = async (rollbackId: string | null) =>
    rollbackId === null
      ? undefined
      : ((await env.db.collection(Collections.outbox).doc(rollbackId).get()).data() as OutboxEntry | undefined);
  const stored = async (decisionId: string) =>
    (await env.db.collection(Collections.decisions).doc(decisionId).get()).data() as DecisionRecord;

  it('still burning on both windows: rollback, with both figures and a full monitoring factor in the record', async () => {
    sim.monitoring.setBurn(slo, 3600, 18.5, since());
    sim.monitoring.setBurn(slo, 300, 26, since());
    const outcome = await handlerFor({})(burn('0.mon-burning'));
    expect(outcome.kind).toBe('decided');
    const record = await stored(outcome.decision.decisionId);
    expect(record.action).toBe('rollback');
    expect(record.monitoring).toMatchObject({
      status: 'read',
      slo,
      longWindowSeconds: 3600,
      shortWindowSeconds: 300,
      threshold: 14.4,
      long: 18.5,
      short: 26,
    });
    expect(record.confidence!.factors.find((f) => f.name === 'monitoring')).toMatchObject({ value: 1 });
    expect(record.cause).toEqual({ releaseId: 'rel-002', servingSince: '2026-11-26T09:50:00.000Z' });
    expect((await commandFor(record.rollbackId))?.topic).toBe(Topics.commands);
    // The real client asked for both windows of the fast policy.
    const filters = sim.monitoring.calls.map((c) => (c.request as { filter?: string }).filter);
    expect(filters).toEqual(expect.arrayContaining([`select_slo_burn_rate("${slo}", "3600s")`, `select_slo_burn_rate("${slo}", "300s")`]));
  });

  it('recovered by the time the notification arrives: hold, saying so, and no command', async () => {
    sim.monitoring.setBurn(slo, 3600, 16, since());
    sim.monitoring.setBurn(slo, 300, 0.2, since());
    const outcome = await handlerFor({})(burn('0.mon-recovered'));
    const record = await stored(outcome.decision.decisionId);
    expect(record.action).toBe('hold');
    expect(record.reason).toMatch(
      /^no rollback: Cloud Monitoring reads 16× over 3600 s and 0\.2× over 300 s at .* \(bar 14\.4×\): the service has recovered$/,
    );
    expect(record.rollbackId).toBeNull();
    expect(record.monitoring).toMatchObject({ status: 'read', long: 16, short: 0.2 });
  });

  it('Cloud Monitoring unavailable: held and asked again for monitoringRetryMinutes, then escalated (the default)', async () => {
    sim.monitoring.failNextCalls('ListTimeSeries', UNAVAILABLE, 100);
    const handle = handlerFor({});
    const first = await stored((await handle(burn('0.mon-down'))).decision.decisionId);
    expect(first.action).toBe('hold');
    expect(first.reason).toMatch(
      /^no rollback: Cloud Monitoring could not answer \(.+\) since 2026-11-26T10:05:01.000Z: asking again until 2026-11-26T10:10:01.000Z .*then onMonitoringUnavailable: escalate applies$/,
    );
    expect(first.monitoring).toMatchObject({ status: 'unavailable', onUnavailable: 'escalate', since: '2026-11-26T10:05:01.000Z' });
    expect(first.redecideAt).toEqual({ at: '2026-11-26T10:05:16.000Z', rule: 'burning-now', detail: expect.any(String) });
    expect(first.rollbackId).toBeNull();
    // The incident is scheduled to be decided again, 15 s on.
    const scheduled = (await env.db.collection(Collections.redecisions).doc('0.mon-down').get()).data() as Redecision;
    expect(scheduled).toMatchObject({ afterDecisionId: first.decisionId, dueAt: '2026-11-26T10:05:16.000Z', trigger: 'lapsed' });
    // Five minutes on, Monitoring still silent: the burn cannot be confirmed, a human hears of it.
    clock.set('2026-11-26T10:10:02.000Z');
    const later = await stored(
      (await handle(burn('0.mon-down', { notificationId: 'ntf-0.mon-down-2', observedAt: '2026-11-26T10:10:01.000Z' }))).decision
        .decisionId,
    );
    expect(later.action).toBe('escalate');
    expect(later.reason).toMatch(
      /could not answer \(.+\) for 5 min: the burn cannot be confirmed, a human must look \(onMonitoringUnavailable: escalate\)$/,
    );
  });

  it('Cloud Monitoring unavailable with hold: held, and asked again after the retry window too', async () => {
    sim.monitoring.failNextCalls('ListTimeSeries', UNAVAILABLE, 100);
    const handle = handlerFor({ onMonitoringUnavailable: 'hold' });
    await handle(burn('0.mon-down-hold'));
    clock.set('2026-11-26T10:11:00.000Z');
    const record = await stored(
      (await handle(burn('0.mon-down-hold', { notificationId: 'ntf-2', observedAt: '2026-11-26T10:10:59.000Z' }))).decision.decisionId,
    );
    expect(record.action).toBe('hold');
    expect(record.reason).toMatch(
      /^no rollback: Cloud Monitoring could not answer \(.+\) for 6 min: held \(onMonitoringUnavailable: hold\)$/,
    );
    expect(record.redecideAt).toMatchObject({ at: '2026-11-26T10:16:00.000Z' });
  });

  it('Cloud Monitoring unavailable and decide-without: after the retry window, rollback on the other evidence, saying Monitoring was not read', async () => {
    sim.monitoring.failNextCalls('ListTimeSeries', UNAVAILABLE, 100);
    const handle = handlerFor({ onMonitoringUnavailable: 'decide-without' });
    // 30×, twice the bar: without Monitoring (0.5) and with the previous release unknown (0.5), confidence is 0.85.
    expect((await handle(burn('0.mon-down-decide', { observedValue: 30 }))).decision.action).toBe('hold');
    clock.set('2026-11-26T10:10:30.000Z');
    const outcome = await handle(
      burn('0.mon-down-decide', { observedValue: 30, notificationId: 'ntf-2', observedAt: '2026-11-26T10:10:29.000Z' }),
    );
    const record = await stored(outcome.decision.decisionId);
    expect(record.action).toBe('rollback');
    expect(record.verdicts.find((v) => v.rule === 'burning-now')!.detail).toMatch(
      /decided without it \(onMonitoringUnavailable: decide-without\)/,
    );
    expect(record.confidence!.factors.find((f) => f.name === 'monitoring')).toMatchObject({ value: 0.5 });
  });

  it('no current point for the SLO counts as unanswered', async () => {
    const outcome = await handlerFor({})(burn('0.mon-nodata'));
    const record = await stored(outcome.decision.decisionId);
    expect(record.action).toBe('hold');
    expect(record.monitoring).toMatchObject({ status: 'unavailable', error: 'no current burn-rate point for the 3600 s window' });
  });

  it('an alert that cannot roll back (closed) is decided without asking Monitoring', async () => {
    sim.monitoring.setBurn(slo, 3600, 30, since());
    sim.monitoring.setBurn(slo, 300, 30, since());
    const outcome = await handlerFor({})(burn('0.mon-closed', { state: 'closed', endedAt: '2026-11-26T10:20:00.000Z' }));
    const record = await stored(outcome.decision.decisionId);
    expect(record.action).toBe('hold');
    expect(record.monitoring).toBeNull();
    // Positive control: the sim does record calls, and none was made for this decision.
    await monitoring.readBurnRate(slo, 3600);
    expect(sim.monitoring.calls).toHaveLength(1);
  });
});
