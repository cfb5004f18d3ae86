import type { RollbackPage } from '@burnback/ingest';
import { formatRollback } from '../src/rollback-text';

const PIPELINE = 'projects/burnback-local/locations/us-central1/deliveryPipelines/api-backend-pipeline';

const page = (over: Partial<RollbackPage> = {}): RollbackPage => ({
  rollbackId: 'rb-01',
  service: 'api-backend',
  serviceHref: '/console/services/api-backend',
  incidentId: '0.burn',
  decisionId: 'dec-01',
  status: 'succeeded',
  statusClass: 'rollback-succeeded',
  finished: true,
  validateOnly: false,
  target: `${PIPELINE}/targets/production`,
  from: 'rel-002',
  to: 'rel-001',
  rollout: {
    name: `${PIPELINE}/releases/rel-001/rollouts/rb-01-to-production`,
    state: 'SUCCEEDED',
    rollsBack: `${PIPELINE}/releases/rel-002/rollouts/rel-002-to-production-0001`,
  },
  failureReason: null,
  supersededBy: null,
  requestedBy: null,
  durations: [
    { label: 'ordered → started', value: '2 s' },
    { label: 'ordered → succeeded', value: '4 s' },
  ],
  decision: {
    decisionId: 'dec-01',
    href: '/console/decisions/dec-01',
    action: 'rollback',
    actionClass: 'action-rollback',
    reason: 'roll back: burning',
  },
  steps: [
    {
      at: '2026-12-06 10:00:30 UTC',
      offset: '+0 s',
      kind: 'decision',
      stage: 'decided: rollback',
      detail: 'roll back: burning',
      className: '',
      href: null,
    },
    {
      at: '2026-12-06 10:00:31 UTC',
      offset: '+1 s',
      kind: 'audit',
      stage: 'accepted',
      detail: 'command received',
      className: '',
      href: null,
    },
    {
      at: '2026-12-06 10:00:34 UTC',
      offset: '+4 s',
      kind: 'deploy',
      stage: 'Cloud Deploy: Rollout Succeed',
      detail: `rollout ${PIPELINE}/releases/rel-001/rollouts/rb-01-to-production (release rel-001)`,
      className: '',
      href: null,
    },
  ],
  phases: [
    { id: 'stable', state: 'SUCCEEDED', deployJobState: 'SUCCEEDED' },
    { id: 'verify', state: 'SKIPPED', deployJobState: '' },
  ],
  audit: [],
  ...over,
});

describe('burnback rollback: one rollback for the terminal, as the console shows it', () => {
  it('prints the rollback, its facts, every step in order with its offset, and the phases', () => {
    expect(formatRollback(page()).split('\n')).toEqual([
      'rollback rb-01 of api-backend: succeeded (incident 0.burn)',
      `  target               ${PIPELINE}/targets/production`,
      '  releases             rel-002 → rel-001',
      '  rollout              api-backend-pipeline/rb-01-to-production SUCCEEDED (rolls back api-backend-pipeline/rel-002-to-production-0001)',
      '  ordered → started    2 s',
      '  ordered → succeeded  4 s',
      '  decision             dec-01 rollback: roll back: burning',
      '',
      'timeline',
      '  +0 s  2026-12-06 10:00:30 UTC  decided: rollback              roll back: burning',
      '  +1 s  2026-12-06 10:00:31 UTC  accepted                       command received',
      '  +4 s  2026-12-06 10:00:34 UTC  Cloud Deploy: Rollout Succeed  rollout api-backend-pipeline/rb-01-to-production (release rel-001)',
      '',
      'Cloud Deploy phases',
      '  phase   state      deploy job',
      '  stable  SUCCEEDED  SUCCEEDED',
      '  verify  SKIPPED    —',
      '  (as the decider last read the rollout from Cloud Deploy)',
    ]);
  });

  it('says what is not known yet, who asked, why it failed or was superseded, and a validation by its name', () => {
    const fresh = formatRollback(
      page({
        status: 'accepted',
        to: null,
        from: null,
        rollout: { name: null, state: null, rollsBack: null },
        durations: [],
        decision: null,
        steps: [],
        phases: [],
        requestedBy: 'carol (force)',
        validateOnly: true,
      }),
    );
    expect(fresh).toContain('validation rb-01 of api-backend: accepted (incident 0.burn)');
    expect(fresh).toContain('  releases  unknown → not chosen yet');
    expect(fresh).toContain('  rollout   not created yet');
    expect(fresh).toContain('  asked by  carol (force)');
    expect(fresh).toContain('  decision  dec-01 (not found)');
    expect(fresh).toContain('timeline\n  nothing recorded yet\n');
    expect(fresh).toMatch(/Cloud Deploy phases\n {2}not read from Cloud Deploy \(yet\)$/);

    const failed = formatRollback(page({ status: 'failed', failureReason: 'RollbackTarget: PERMISSION_DENIED' }));
    expect(failed).toContain('  why it failed        RollbackTarget: PERMISSION_DENIED\n');
    const superseded = formatRollback(page({ status: 'superseded', failureReason: 'rel-003 serves now', supersededBy: 'hotfix' }));
    expect(superseded).toContain('  superseded           rel-003 serves now (by a hotfix)\n');
    expect(formatRollback(page({ rollout: { name: `${PIPELINE}/releases/rel-001/rollouts/r1`, state: null, rollsBack: null } }))).toContain(
      '  rollout              api-backend-pipeline/r1\n',
    );
  });
});
