import { alertEvent } from '@burnback/testkit/fixtures';
import { at, decisionRecord, MIN, T0 } from '../../../test/console-fixtures.js';
import { burnText, decisionPage } from './decision-view.js';
import { decisionHref, rollbackHref } from './format.js';

const NOW = T0 + 2 * MIN;

describe('the decision page', () => {
  it('says what was decided, why, about what, and when', () => {
    const page = decisionPage(decisionRecord(), NOW);
    expect(page).toMatchObject({
      decisionId: 'dec-0123456789abcdef01234567',
      service: 'api-backend',
      serviceHref: '/console/services/api-backend',
      incidentId: '0.burn',
      incidentState: 'open',
      action: 'rollback',
      actionClass: 'action-rollback',
      actionMeaning: 'rolled back',
      decidedAt: '2026-12-06 10:00:30 UTC',
      decidedAgo: '1 min ago',
      cause: { releaseId: 'rel-002', servingSince: '2026-12-06 09:50:00 UTC' },
      monitoring: null,
      rollback: { rollbackId: 'rb-0123456789abcdef01234567', href: '/console/rollbacks/rb-0123456789abcdef01234567' },
      redecisionOf: null,
      redecideAt: null,
      approval: null,
      replay: {
        export: 'npm run burnback -- export --decision dec-0123456789abcdef01234567 --out dec-0123456789abcdef01234567.ndjson',
        replay: 'npm run burnback -- replay dec-0123456789abcdef01234567.ndjson',
      },
    });
    expect(page.reason).toMatch(/^roll back: error ratio 2\.5 % exceeds/);
  });

  it('lists every verdict in order and every factor with its weight', () => {
    const page = decisionPage(decisionRecord(), NOW);
    expect(page.verdicts.map((v) => [v.position, v.rule, v.outcome])).toEqual([
      [1, 'event-time', 'passed'],
      [2, 'incident-open', 'passed'],
      [3, 'error-ratio', 'passed'],
      [4, 'confidence', 'passed'],
      [5, 'cooldown', 'passed'],
    ]);
    expect(page.confidence!.factors.map((f) => [f.name, f.value, f.weight, f.contribution])).toEqual([
      ['burn', 1, 0.2, 0.2],
      ['timing', 1, 0.5, 0.5],
      ['previous-release', 1, 0.15, 0.15],
      ['monitoring', 0.5, 0.15, 0.075],
    ]);
    expect(page.confidence!.meetsBar).toBe(true);
  });

  it('shows the alert, the controls, the fleet and the evidence it read', () => {
    const page = decisionPage(decisionRecord(), NOW);
    expect(page.alert).toEqual(
      expect.arrayContaining([
        { label: 'source', value: 'pubsub' },
        { label: 'signal', value: 'error-ratio' },
        { label: 'value', value: '2.5 % (bar 1 %)' },
        { label: 'incident', value: '0.burn (open)' },
        { label: 'started', value: '2026-12-06 10:00:00 UTC' },
        { label: 'received', value: '2026-12-06 10:00:26 UTC' },
      ]),
    );
    expect(page.controls).toEqual([
      { label: 'pause', value: 'none' },
      { label: 'acknowledgement', value: 'none' },
      { label: 'evaluated at (decider clock)', value: '2026-12-06 10:00:30 UTC' },
    ]);
    expect(page.fleet).toEqual([
      { label: 'other services burning', value: 'none' },
      { label: 'rollbacks in flight', value: 'none' },
      { label: 'read at', value: '2026-12-06 10:00:30 UTC' },
    ]);
    expect(page.evidence!.rows).toEqual(
      expect.arrayContaining([
        { label: 'format version', value: '1' },
        { label: 'lane', value: 'fast' },
        { label: 'raw notification', value: 'notifications/ntf-0.burn' },
        {
          label: 'target as read',
          value: 'serving rel-002 since 2026-12-06 09:50:00 UTC; before it rel-001 until 2026-12-06 09:50:00 UTC',
        },
        { label: 'service state as read', value: '0 recent rollback(s)' },
      ]),
    );
    expect(JSON.parse(page.evidence!.json)).toEqual(JSON.parse(JSON.stringify(decisionRecord().evidence)));
  });

  it('links a Cloud Monitoring URL only when it is https', () => {
    const link = (url: string) =>
      decisionPage(decisionRecord({ evidence: { ...decisionRecord().evidence!, alert: alertEvent('0.burn', { url }) } }), NOW).alert!.find(
        (r) => r.label === 'in Cloud Monitoring',
      );
    expect(link('https://console.cloud.google.com/monitoring/alerting/incidents/0.burn')).toEqual({
      label: 'in Cloud Monitoring',
      value: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.burn',
      href: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.burn',
    });
    expect(link('javascript:alert(1)')).toEqual({ label: 'in Cloud Monitoring', value: 'javascript:alert(1)' });
    // An https URL inside another scheme's URL is still not a link.
    expect(link('javascript:open("https://console.cloud.google.com")')).toEqual({
      label: 'in Cloud Monitoring',
      value: 'javascript:open("https://console.cloud.google.com")',
    });
    expect(link('')).toBeUndefined();
  });

  it('says what a hold waits for, what it re-decides, and how to approve a recommendation in time', () => {
    const held = decisionPage(
      decisionRecord({
        action: 'hold',
        rollbackId: null,
        redecisionOf: 'dec-earlier',
        redecideAt: { at: at(30 * MIN), rule: 'cooldown', detail: 'the cooldown ends' },
        controls: null,
        fleet: null,
        evidence: null,
        confidence: null,
        cause: null,
      }),
      NOW,
    );
    expect(held).toMatchObject({
      rollback: null,
      redecisionOf: { decisionId: 'dec-earlier', href: '/console/decisions/dec-earlier' },
      redecideAt: { at: '2026-12-06 10:30:00 UTC', rule: 'cooldown', detail: 'the cooldown ends' },
      alert: null,
      evidence: null,
      fleet: null,
      confidence: null,
      cause: null,
      controls: [{ label: 'controls', value: expect.stringMatching(/^not read/) }],
    });
    const recommendation = decisionRecord({ action: 'recommend', approvableUntil: at(30 * MIN) });
    expect(decisionPage(recommendation, NOW).approval).toMatch(
      /^approve before 2026-12-06T10:30:00\.000Z to roll back: npm run burnback -- approve dec-/,
    );
    expect(decisionPage(recommendation, T0 + 30 * MIN).approval).toBeNull();
  });

  it('lists the incident’s decisions, this one marked, and adds it when the incident does not list it yet', () => {
    const page = decisionPage(decisionRecord(), NOW, ['dec-a', 'dec-0123456789abcdef01234567', 'dec-b']);
    expect(page.incidentDecisions).toEqual([
      { decisionId: 'dec-a', href: '/console/decisions/dec-a', current: false },
      { decisionId: 'dec-0123456789abcdef01234567', href: '/console/decisions/dec-0123456789abcdef01234567', current: true },
      { decisionId: 'dec-b', href: '/console/decisions/dec-b', current: false },
    ]);
    expect(decisionPage(decisionRecord(), NOW, ['dec-a']).incidentDecisions.map((d) => d.current)).toEqual([false, true]);
    expect(decisionPage(decisionRecord(), NOW).incidentDecisions).toEqual([
      { decisionId: 'dec-0123456789abcdef01234567', href: '/console/decisions/dec-0123456789abcdef01234567', current: true },
    ]);
  });

  it('prints a burn in its own measure with its bar, or the raw value, or nothing', () => {
    expect(burnText(alertEvent('i'))).toBe('2.5 % (bar 1 %)');
    expect(burnText(alertEvent('i', { signal: 'burn-rate', observedValue: 20, thresholdValue: 14.4 }))).toBe('20× (bar 14.4×)');
    expect(burnText(alertEvent('i', { signalThreshold: null }))).toBe('2.5 %');
    expect(burnText(alertEvent('i', { signal: 'unsupported', observedValue: 0.93 }))).toBe('0.93');
    expect(burnText(alertEvent('i', { signal: 'unsupported', observedValue: null }))).toBeNull();
  });

  it('percent-encodes ids in links', () => {
    expect(decisionHref('a/b')).toBe('/console/decisions/a%2Fb');
    expect(rollbackHref('a b')).toBe('/console/rollbacks/a%20b');
  });
});
