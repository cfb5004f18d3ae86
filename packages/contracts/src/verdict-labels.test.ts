import { RuleName, RuleNames } from './documents.js';
import { VERDICT_LABELS, verdictFinding, verdictLabel } from './verdict-labels.js';

describe('the verdict marks say what was found', () => {
  // Every rule, as the terminal shows it passed and failed: a change of wording is a change of this table.
  const expected: Record<RuleName, [passed: string, failed: string]> = {
    'event-time': ['✓ event time read', '✗ event time unreadable'],
    enabled: ['✓ enabled', '✗ disabled'],
    'incident-open': ['✓ incident open', '✗ incident closed'],
    'error-ratio': ['✓ error ratio over its bar', '✗ error ratio not over its bar'],
    'one-rollback-per-incident': ['✓ no earlier rollback of the incident', '✗ incident had its one rollback'],
    'returned-release': ['✓ not a returned release', '✗ returned release'],
    'burning-now': ['✓ not recovered', '✗ burn not confirmed now'],
    confidence: ['✓ confident', '✗ not confident'],
    'rate-limit': ['✓ under rate limit', '✗ rate limit reached'],
    cooldown: ['✓ no cooldown', '✗ in cooldown'],
    'dry-run': ['✓ not dry run', '✗ dry run'],
    'manual-request': ['✓ manual request', '✗ manual request refused'],
    acknowledged: ['✓ not acknowledged', '✗ acknowledged'],
    paused: ['✓ not paused', '✗ paused'],
    freeze: ['✓ no freeze', '✗ frozen'],
    'fleet-breaker': ['✓ fleet breaker not tripped', '✗ fleet breaker tripped'],
    mode: ['✓ mode acts', '✗ mode does not act'],
    approval: ['✓ approved in time', '✗ approval spent or late'],
    'serving-unchanged': ['✓ serving unchanged', '✗ serving changed'],
    lane: ['✓ bulk lane', '✗ not bulk lane'],
  };

  it.each(RuleName.options)('%s: a passed and a failed verdict each name what was found', (rule) => {
    expect([verdictLabel({ rule, passed: true, detail: 'd' }), verdictLabel({ rule, passed: false, detail: 'd' })]).toEqual(expected[rule]);
  });

  it('labels every rule of the contracts, and only those', () => {
    expect(Object.keys(VERDICT_LABELS).sort()).toEqual([...RuleName.options].sort());
    expect(Object.keys(expected).sort()).toEqual([...RuleName.options].sort());
  });

  it('never labels a passed check with the words that would mean it failed', () => {
    for (const rule of RuleName.options) {
      const { passed, failed } = VERDICT_LABELS[rule];
      expect(passed).not.toBe(failed);
    }
    // The rules named by what makes them fail: a passed one must not read as its name.
    const namedByRefusal = [
      RuleNames.acknowledged,
      RuleNames.paused,
      RuleNames.cooldown,
      RuleNames.freeze,
      RuleNames.rateLimit,
      RuleNames.fleetBreaker,
      RuleNames.returnedRelease,
      RuleNames.dryRun,
    ];
    for (const rule of namedByRefusal) {
      expect(VERDICT_LABELS[rule].passed).not.toBe(rule.replaceAll('-', ' '));
      expect(VERDICT_LABELS[rule].passed).toMatch(/\b(not|no|under)\b/);
    }
  });

  it('shows a refusal a forced request passed over as what it was, forced', () => {
    const detail = 'bypassed by force (incident call): api-backend is paused until 2026-11-26T11:00:00.000Z by ops: deploy';
    expect(verdictLabel({ rule: RuleNames.paused, passed: true, detail })).toBe('✓ paused (forced)');
    expect(verdictLabel({ rule: RuleNames.cooldown, passed: true, detail: 'bypassed by force (x): within' })).toBe(
      '✓ in cooldown (forced)',
    );
  });

  it('shows a rule it does not know by its name, and a verdict without one as ?', () => {
    expect(verdictLabel({ rule: 'some-new-rule', passed: true })).toBe('✓ some-new-rule');
    expect(verdictLabel({ rule: 'some-new-rule', passed: false })).toBe('✗ some-new-rule');
    expect(verdictLabel({ rule: 'toString', passed: true })).toBe('✓ toString');
    expect(verdictLabel({ passed: false })).toBe('✗ ?');
    expect(verdictLabel({ passed: true })).toBe('✓ ?');
  });

  it('says what was found without the mark, for a page that shows the mark apart', () => {
    expect(verdictFinding({ rule: RuleNames.paused, passed: true, detail: 'api-backend is not paused' })).toBe('not paused');
    expect(verdictFinding({ rule: RuleNames.paused, passed: false, detail: 'api-backend is paused' })).toBe('paused');
    expect(verdictFinding({ rule: RuleNames.freeze, passed: true, detail: 'bypassed by force (x): frozen' })).toBe('frozen (forced)');
    // Only a passed verdict can have been forced past.
    expect(verdictFinding({ rule: RuleNames.freeze, passed: false, detail: 'bypassed by force (x): frozen' })).toBe('frozen');
    expect(verdictFinding({ rule: 'some-new-rule', passed: true, detail: 'bypassed by force' })).toBe('some-new-rule');
  });
});
