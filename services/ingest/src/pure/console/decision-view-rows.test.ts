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

describe('the decision page on a manual request, and on what the decider read', () => {
  it('says who asked for a rollback or approved a recommendation, and whether it was forced', () => {
    const requested = decisionPage(
      withAlert({ source: 'manual', manual: { requestedBy: 'ana', reason: 'the checkout is broken', force: true, releaseId: null } }),
      NOW,
    );
    expect(requested.alert?.find((r) => r.label === 'requested by')).toEqual({
      label: 'requested by',
      value: 'ana: the checkout is broken (force)',
    });
    const approved = decisionPage(
      withAlert({
        source: 'manual',
        manual: {
          requestedBy: 'bo',
          reason: 'rel-002 is at fault',
          force: false,
          releaseId: null,
          approves: { decisionId: 'dec-earlier', until: at(30 * MIN), cause: null, servingRollout: null },
        },
      }),
      NOW,
    );
    expect(approved.alert?.map((r) => r.label)).toEqual([
      'source',
      'signal',
      'value',
      'incident',
      'started',
      'observed',
      'received',
      'alert policy',
      'condition',
      'approved by',
    ]);
    expect(approved.alert?.at(-1)).toEqual({ label: 'approved by', value: 'bo: rel-002 is at fault' });
  });

  it('says a burn policy of unknown origin is so, and shows no value when the alert carries none', () => {
    const page = decisionPage(
      withAlert({
        signal: 'unsupported',
        signalValue: null,
        signalThreshold: null,
        observedValue: null,
        burnPolicy: 'slow',
        burnPolicySource: null,
      }),
      NOW,
    );
    expect(page.alert?.slice(0, 3)).toEqual([
      { label: 'source', value: 'pubsub' },
      { label: 'signal', value: 'unsupported (slow burn, known from unknown)' },
      { label: 'incident', value: '0.burn (open)' },
    ]);
  });

  it('says which other services burned and which rollbacks were in flight when the fleet was read', () => {
    const page = decisionPage(
      decisionRecord({ fleet: { burningServices: ['checkout', 'search'], inFlight: ['payments'], readAt: at(30_000) } }),
      NOW,
    );
    expect(page.fleet).toEqual([
      { label: 'other services burning', value: 'checkout, search' },
      { label: 'rollbacks in flight', value: 'payments' },
      { label: 'read at', value: '2026-12-06 10:00:30 UTC' },
    ]);
  });

  it('shows an acknowledgement given without a reason, and no decider clock when none was recorded', () => {
    const page = decisionPage(
      decisionRecord({
        controls: { pause: null, acknowledgement: { incidentId: '0.burn', by: 'bo', at: at(10_000), reason: '' }, evaluatedAt: null },
      }),
      NOW,
    );
    expect(page.controls).toEqual([
      { label: 'pause', value: 'none' },
      { label: 'acknowledgement', value: 'by bo at 2026-12-06 10:00:10 UTC' },
    ]);
  });

  it('lists the evidence row by row: the policy in force, the target and the service as read', () => {
    const ev = base.evidence!;
    expect(decisionPage(base, NOW).evidence?.rows).toEqual([
      { label: 'format version', value: '1' },
      { label: 'lane', value: 'fast' },
      { label: 'raw notification', value: 'notifications/ntf-0.burn' },
      { label: 'policy hash', value: ev.policyHash },
      { label: 'policy', value: 'mode auto; min confidence 0.8; cooldown 30 min; at most 3 rollbacks an hour' },
      { label: 'target as read', value: 'serving rel-002 since 2026-12-06 09:50:00 UTC; before it rel-001 until 2026-12-06 09:50:00 UTC' },
      { label: 'service state as read', value: '0 recent rollback(s)' },
    ]);
    const other = decisionPage(
      decisionRecord({
        evidence: {
          ...ev,
          policy: { ...ev.policy, enabled: false, mode: 'observe', minConfidence: 0.75, cooldownMinutes: 45, maxRollbacksPerHour: 1 },
          target: { ...ev.target!, serving: null, previous: null },
          state: {
            ...ev.state!,
            recentRollbacks: [
              { rollbackId: 'rb-older', decidedAt: at(-50 * MIN), outcome: 'succeeded', finishedAt: at(-49 * MIN) },
              { rollbackId: 'rb-newer', decidedAt: at(-20 * MIN), outcome: null, finishedAt: null },
            ],
          },
        },
      }),
      NOW,
    );
    expect(other.evidence?.rows.slice(4)).toEqual([
      { label: 'policy', value: 'mode observe (disabled); min confidence 0.75; cooldown 45 min; at most 1 rollbacks an hour' },
      { label: 'target as read', value: 'serving unknown' },
      { label: 'service state as read', value: '2 recent rollback(s), the latest rb-newer' },
    ]);
  });

  it('says the bulk lane read neither the target nor the service', () => {
    const page = decisionPage(decisionRecord({ evidence: { ...base.evidence!, lane: 'bulk', target: null, state: null } }), NOW);
    expect(page.evidence?.rows[1]).toEqual({ label: 'lane', value: 'bulk' });
    expect(page.evidence?.rows.slice(5)).toEqual([
      { label: 'target as read', value: 'not read' },
      { label: 'service state as read', value: 'not read' },
    ]);
  });
});
