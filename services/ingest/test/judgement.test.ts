import { DEFAULT_POLICY, type MonitoringNotification } from '@burnback/contracts';
import { decide, initialServiceState } from '@burnback/policy';
import {
  blamedTarget,
  burnRateIncident,
  cpuUtilisationIncident,
  latencyIncident,
  notificationBytes,
  openIncident,
  promqlBurnRateIncident,
  requestRateIncident,
  serviceConfig,
  slowBurnIncident,
  successRatioIncident,
  servicesOf,
} from '@burnback/testkit/fixtures';
import { parseNotification, toAlertEvent } from '../src/parse.js';

/**
 * The table, rule by rule, from the notification Cloud Monitoring sends
 * to the decision: ingest parses and classifies it, decide() judges it against
 * a target where rel-002 shipped 10 min before the incident started (unless the
 * row says otherwise). Realistic notifications, not hand-made AlertEvents.
 */
const STARTED = 1_764_151_200; // 2025-11-26T10:00:00Z, the fixtures' incident start
const apiBackend = serviceConfig('api-backend');
const judge = (notification: MonitoringNotification, options: { observedAt?: string; receivedAt?: string; servingSince?: string } = {}) => {
  const observedAt = new Date(options.observedAt ?? '2025-11-26T10:05:00.000Z');
  const event = toAlertEvent(parseNotification(notificationBytes(notification)), {
    services: servicesOf(apiBackend),
    source: 'pubsub',
    observedAt,
    notificationId: 'ntf-table',
  });
  const withReceipt = options.receivedAt ? { ...event, receivedAt: options.receivedAt } : event;
  const target = blamedTarget(event.startedAt);
  const serving = options.servingSince ? { ...target, serving: { ...target.serving!, since: options.servingSince } } : target;
  return decide(initialServiceState('api-backend'), withReceipt, DEFAULT_POLICY, null, serving);
};

describe('from notification to decision', () => {
  it.each<[string, MonitoringNotification, 'rollback' | 'ignore' | 'hold' | 'escalate', RegExp]>([
    ['CPU utilisation at 0.835', cpuUtilisationIncident(), 'ignore', /^ignore: the alert measures something Burnback does not act on: /],
    ['p99 latency', latencyIncident(), 'ignore', /^ignore: .*request_latencies/],
    ['requests per second', requestRateIncident(), 'ignore', /^ignore: .*request_count alone is not a ratio/],
    ['a PromQL burn rate of 3', promqlBurnRateIncident(), 'ignore', /^ignore: .*PromQL/],
    [
      'a success ratio of 97 % alerting below 99 % (COMPARISON_LT) is 3 % errors',
      successRatioIncident(),
      'rollback',
      /^roll back: error ratio 3 % exceeds the threshold of 1 %; caused by rel-002/,
    ],
    [
      'an error ratio of 2.5 % over 1 h',
      openIncident(),
      'rollback',
      /^roll back: error ratio 2\.5 % exceeds the threshold of 1 %; caused by rel-002 \(confidence 0\.925\)/,
    ],
    [
      'a fast burn of 20× over 1 h',
      burnRateIncident({ observedValue: '20' }),
      'rollback',
      /^roll back: burn rate 20× over 1 h .* exceeds the fast-burn threshold of 14\.4×/,
    ],
    [
      "the slow-burn policy's 30-minute confirmation at 7.1× is held to the slow bar of 6×",
      slowBurnIncident(),
      'rollback',
      /^roll back: burn rate 7\.1× over 30 min .* exceeds the slow-burn threshold of 6×/,
    ],
    [
      'a fast burn at 10× is under its bar',
      burnRateIncident({ observedValue: '10' }),
      'hold',
      /^no rollback: burn rate 10× over 1 h .* does not exceed the fast-burn threshold of 14\.4×/,
    ],
  ])('%s → %s', (_name, notification, action, reason) => {
    const d = judge(notification);
    expect(d.action).toBe(action);
    expect(d.reason).toMatch(reason);
    if (action === 'rollback') expect(d.cause?.releaseId).toBe('rel-002');
    if (action === 'ignore') expect(d.confidence).toBeNull();
  });

  it('a burn that began before the latest rollout escalates, naming why', () => {
    const d = judge(openIncident(), { servingSince: new Date((STARTED + 60) * 1000).toISOString() });
    expect(d.action).toBe('escalate');
    expect(d.cause).toBeNull();
    expect(d.confidence!.factors.find((f) => f.name === 'timing')).toMatchObject({ value: 0 });
  });

  it('a publish time in the year 2999 is clamped to the receipt time, says so, and still rolls back', () => {
    const d = judge(openIncident(), { observedAt: '2999-01-01T00:00:00.000Z', receivedAt: '2025-11-26T10:05:00.000Z' });
    expect(d.decidedAt).toBe('2025-11-26T10:05:00.000Z');
    expect(d.verdicts[0]!.detail).toBe(
      'observed time 2999-01-01T00:00:00.000Z is after the receipt time 2025-11-26T10:05:00.000Z: clamped to 2025-11-26T10:05:00.000Z',
    );
    expect(d.action).toBe('rollback');
  });
});
