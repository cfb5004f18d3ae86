import { DEFAULT_POLICY, type DeployHistory, type RollbackCommand } from '@burnback/contracts';
import { FIXTURE_PIPELINE, historyRollout } from '@burnback/testkit/fixtures';
import { controlChangeReason, worldChange } from './world-checks.js';

const rollout = (release: string) => `${FIXTURE_PIPELINE}/releases/${release}/rollouts/${release}-to-production-0001`;
const command = (overrides: Partial<RollbackCommand> = {}): RollbackCommand => ({
  rollbackId: 'rb-1',
  decisionId: 'dec-1',
  incidentId: '0.world',
  service: 'api-backend',
  project: 'burnback-local',
  region: 'us-central1',
  pipeline: 'api-backend-pipeline',
  target: 'production',
  rolloutId: 'burnback-rb-1',
  releaseId: null,
  reason: 'test',
  requestedAt: '2026-11-26T10:05:00.000Z',
  blamedReleaseId: 'rel-002',
  servingRollout: rollout('rel-002'),
  evaluatedAt: '2026-11-26T10:05:01.000Z',
  ...overrides,
});
const history = (...rollouts: DeployHistory['rollouts']): DeployHistory => ({ releases: [], rollouts });
const shipped = [
  historyRollout('rel-001', '2026-11-24T10:00:00.000Z', 'SUCCEEDED'),
  historyRollout('rel-002', '2026-11-26T09:50:00.000Z', 'SUCCEEDED'),
];

describe('whether the world still matches a command', () => {
  it('the rollout the decision saw still serves: nothing changed', () => {
    expect(worldChange(command(), history(...shipped))).toBeNull();
  });

  it('a command from a decider that predates servingRollout is not checked', () => {
    expect(worldChange(command({ servingRollout: null }), history())).toBeNull();
    expect(worldChange(command({ servingRollout: undefined }), history())).toBeNull();
  });

  it('a hotfix shipped since: superseded, naming what serves now and what the decision blamed', () => {
    const hotfix = historyRollout('rel-003', '2026-11-26T10:06:00.000Z', 'SUCCEEDED');
    expect(worldChange(command(), history(...shipped, hotfix))).toBe(
      `superseded: rel-003 serves production now (rollout ${rollout('rel-003')}, since 2026-11-26T10:06:00.000Z), not rollout ${rollout('rel-002')} of rel-002, which the decision blamed; the world changed since the decision, so nothing was rolled back and the incident is decided again`,
    );
  });

  it('a release in its canary since: the phase is named; without a blamed release the reason does not invent one', () => {
    const canary = historyRollout('rel-004', '2026-11-26T10:06:00.000Z', 'IN_PROGRESS', { phase: 'canary-25' });
    expect(worldChange(command({ blamedReleaseId: null }), history(...shipped, canary))).toBe(
      `superseded: rel-004 serves production now (rollout ${rollout('rel-004')}, in canary-25, since 2026-11-26T10:06:00.000Z), not rollout ${rollout('rel-002')}; the world changed since the decision, so nothing was rolled back and the incident is decided again`,
    );
  });

  it('nothing serves the target any more', () => {
    expect(worldChange(command(), history())).toMatch(/^superseded: nothing serves production now, not rollout /);
  });

  describe('an approval whose recommendation recorded no rollout: the release it blamed must still serve', () => {
    const approved = (overrides: Partial<RollbackCommand> = {}) =>
      command({ servingRollout: null, manual: { force: false, requestedBy: 'alice', approves: 'dec-rec' }, ...overrides });
    const hotfix = historyRollout('rel-003', '2026-11-26T10:06:00.000Z', 'SUCCEEDED');

    it('the blamed release still serves: nothing changed', () => {
      expect(worldChange(approved(), history(...shipped))).toBeNull();
    });

    it('a hotfix shipped since: superseded, never rolled back', () => {
      expect(worldChange(approved(), history(...shipped, hotfix))).toBe(
        `superseded: rel-003 serves production now (rollout ${rollout('rel-003')}, since 2026-11-26T10:06:00.000Z), not rel-002, the release the approved recommendation blamed (it recorded no rollout); the world changed since the decision, so nothing was rolled back and the incident is decided again`,
      );
      expect(worldChange(approved({ servingRollout: undefined }), history(...shipped, hotfix))).toMatch(/^superseded: rel-003 serves/);
      expect(worldChange(approved(), history())).toMatch(/^superseded: nothing serves production now, not rel-002, /);
    });

    it('nor a release to compare with: superseded', () => {
      expect(worldChange(approved({ blamedReleaseId: null }), history(...shipped))).toBe(
        'superseded: the approved recommendation recorded neither the rollout serving production nor a release it blamed, so what serves now cannot be matched to what was approved; nothing was rolled back',
      );
    });
  });
});

describe('whether a control set since the decision stops the command', () => {
  const at = Date.parse('2026-11-26T10:10:00.000Z');
  const pause = { until: '2026-11-26T11:00:00.000Z', reason: 'db migration', by: 'alice', at: '2026-11-26T10:06:00.000Z' };

  it('no control: the command goes ahead', () => {
    expect(controlChangeReason(command(), at, { pause: null, acknowledgement: null }, DEFAULT_POLICY)).toBeNull();
  });

  it('a pause in force stops it, naming the pause and the decision time', () => {
    expect(controlChangeReason(command(), at, { pause, acknowledgement: null }, null)).toBe(
      'superseded: api-backend was paused until 2026-11-26T11:00:00.000Z by alice at 2026-11-26T10:06:00.000Z (db migration) since the decision (2026-11-26T10:05:01.000Z); nothing was rolled back',
    );
  });

  it('a command without a decision time says so without one; a mode other than auto stops it too', () => {
    expect(
      controlChangeReason(
        command({ evaluatedAt: undefined }),
        at,
        { pause: null, acknowledgement: null },
        { ...DEFAULT_POLICY, mode: 'observe' },
      ),
    ).toBe('superseded: api-backend is in mode observe since the decision; nothing was rolled back');
  });
});
