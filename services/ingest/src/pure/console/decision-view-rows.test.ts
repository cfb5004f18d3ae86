import { at, decisionRecord, MIN, T0 } from '../../../test/console-fixtures.js';
import { decisionPage } from './decision-view.js';

/**
 * What the decision page says of the alert and of the controls, row by row, for an alert that has every optional
 * field Monitoring may give (a burn policy, a reason it is not acted on, an end, a condition, an SLO, a link) and
 * controls that were in force (a pause and an acknowledgement).
 */
const NOW = T0 + 2 * MIN;
const base = decisionRecord();
const withAlert = (alert: Partial<NonNullable<typeof base.evidence>['alert']>) =>
  decisionRecord({ evidence: { ...base.evidence!, alert: { ...base.evidence!.alert, ...alert } } });

describe('the decision page, row by row', () => {
  it('names every field of the alert it has, in order, each in its own words', () => {
    const page = decisionPage(
      withAlert({
        state: 'closed',
        endedAt: at(90_000),
        burnPolicy: 'fast',
        burnPolicySource: 'policy-label',
        unsupportedReason: 'a 2xx share is not an error ratio',
        conditionName: 'projects/p/alertPolicies/1/conditions/2',
        sloName: 'projects/p/services/api/serviceLevelObjectives/availability',
        url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.burn',
      }),
      NOW,
    );
    expect(page.alert).toEqual([
      { label: 'source', value: 'pubsub' },
      { label: 'signal', value: 'error-ratio (fast burn, known from policy-label)' },
      { label: 'value', value: '2.5 % (bar 1 %)' },
      { label: 'why not acted on', value: 'a 2xx share is not an error ratio' },
      { label: 'incident', value: '0.burn (closed)' },
      { label: 'started', value: '2026-12-06 10:00:00 UTC' },
      { label: 'ended', value: '2026-12-06 10:01:30 UTC' },
      { label: 'observed', value: '2026-12-06 10:00:25 UTC' },
      { label: 'received', value: '2026-12-06 10:00:26 UTC' },
      { label: 'alert policy', value: 'api-backend error budget: error ratio > 1 % over 1 h' },
      { label: 'condition', value: 'projects/p/alertPolicies/1/conditions/2' },
      { label: 'SLO', value: 'projects/p/services/api/serviceLevelObjectives/availability' },
      {
        label: 'in Cloud Monitoring',
        value: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.burn',
        href: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.burn',
      },
    ]);
  });

  it('leaves out what the alert does not have, and shows a link that is not https as text only', () => {
    const page = decisionPage(withAlert({ conditionName: '', url: 'javascript:alert(1)', receivedAt: undefined }), NOW);
    expect(page.alert?.map((r) => r.label)).toEqual([
      'source',
      'signal',
      'value',
      'incident',
      'started',
      'observed',
      'alert policy',
      'in Cloud Monitoring',
    ]);
    expect(page.alert?.at(-1)).toEqual({ label: 'in Cloud Monitoring', value: 'javascript:alert(1)' });
  });

  it('says which pause and acknowledgement were in force, by whom and why, and when the decider read them', () => {
    const page = decisionPage(
      decisionRecord({
        controls: {
          pause: { until: at(3_600_000), by: 'ana', reason: 'deploy freeze drill', at: at(0) },
          acknowledgement: { incidentId: '0.burn', by: 'bo', at: at(10_000), reason: 'looking' },
          evaluatedAt: at(30_000),
        },
      }),
      NOW,
    );
    expect(page.controls).toEqual([
      { label: 'pause', value: 'until 2026-12-06 11:00:00 UTC by ana: deploy freeze drill' },
      { label: 'acknowledgement', value: 'by bo at 2026-12-06 10:00:10 UTC: looking' },
      { label: 'evaluated at (decider clock)', value: '2026-12-06 10:00:30 UTC' },
    ]);
    expect(decisionPage(base, NOW).controls).toEqual([
      { label: 'pause', value: 'none' },
      { label: 'acknowledgement', value: 'none' },
      { label: 'evaluated at (decider clock)', value: '2026-12-06 10:00:30 UTC' },
    ]);
  });
});
