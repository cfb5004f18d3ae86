import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/local-stack';
import { loadScenario, parseScenario } from '../src/simulate/scenario';

const SCENARIOS = join(REPO_ROOT, 'scenarios');
const withSteps = (...steps: unknown[]) => ({ description: 'a test', steps });

describe('scenario files', () => {
  it.each(readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml')))('scenarios/%s is valid', (file) => {
    expect(() => loadScenario(join(SCENARIOS, file))).not.toThrow();
  });

  it('rollback-fails fails the rollback with a reason, expects that reason, and expects the escalation after it', () => {
    const { steps } = loadScenario(join(SCENARIOS, 'rollback-fails.yaml'));
    const kinds = steps.map((s) => Object.keys(s)[0]);
    expect(kinds.indexOf('fail')).toBeGreaterThan(-1);
    expect(kinds.indexOf('fail')).toBeLessThan(kinds.indexOf('burn'));
    expect(steps).toContainEqual({ fail: { rollback: 'rollout', reason: expect.any(String), count: 1 } });
    expect(steps).toContainEqual({ expect: expect.objectContaining({ rollback: 'failed', reason: expect.any(String) }) });
    expect(steps).toContainEqual({
      expect: expect.objectContaining({ decision: 'escalate', reason: 'a failed rollback is never retried automatically' }),
    });
  });

  it('cooldown continues burn, which the trigger plays', () => {
    expect(loadScenario(join(SCENARIOS, 'cooldown.yaml')).continues).toBe('burn');
  });
});

describe('the fail step', () => {
  it.each([
    [
      { rollback: 'rollout', reason: 'startup probe failed' },
      { rollback: 'rollout', reason: 'startup probe failed', count: 1 },
    ],
    [
      { rollback: 'refused', reason: '  locked  ', count: 3 },
      { rollback: 'refused', reason: 'locked', count: 3 },
    ],
  ])('takes %j', (fail, parsed) => {
    expect(parseScenario(withSteps({ fail }), 'mine.yaml').steps).toEqual([{ fail: parsed }]);
  });

  it.each([
    [
      'an unknown way to fail',
      { fail: { rollback: 'slow', reason: 'x' } },
      'steps.0.fail.rollback: Invalid option: expected one of "rollout"|"refused"',
    ],
    ['no reason', { fail: { rollback: 'rollout' } }, 'steps.0.fail.reason: Invalid input: expected string, received undefined'],
    ['a blank reason', { fail: { rollback: 'rollout', reason: ' ' } }, 'steps.0.fail.reason: give the reason the rollback fails with'],
    ['a count of 0', { fail: { rollback: 'rollout', reason: 'x', count: 0 } }, 'steps.0.fail.count: Too small: expected number to be >=1'],
    [
      'a count over 100',
      { fail: { rollback: 'rollout', reason: 'x', count: 101 } },
      'steps.0.fail.count: Too big: expected number to be <=100',
    ],
    [
      'a key it does not know',
      { fail: { rollback: 'rollout', reason: 'x', cause: 'EXECUTION_FAILED' } },
      'steps.0.fail: Unrecognized key: "cause"',
    ],
    [
      'a second step in the same item',
      { fail: { rollback: 'rollout', reason: 'x' }, ship: 'rel-003' },
      "steps.0: one step per list item (this one has ship and fail); start each with '- '",
    ],
  ])('refuses %s, naming the key', (_what, step, message) => {
    expect(() => parseScenario(withSteps({ ship: 'rel-003' }, step), 'mine.yaml')).toThrow(
      `scenario mine.yaml: ${message.replace('steps.0', 'steps.1')}`,
    );
  });
});

describe('what a scenario file is told when it is wrong', () => {
  it.each([
    [
      'a step of a kind that does not exist',
      withSteps({ deploy: 'rel-003' }),
      'steps.0: a step is one of ship, abandon, burn, storm, close, fail, expect (got deploy)',
    ],
    [
      'a step that is not an object',
      withSteps('ship rel-003'),
      'steps.0: a step is one of ship, abandon, burn, storm, close, fail, expect (got "ship rel-003")',
    ],
    [
      'an expect of a kind that does not exist',
      withSteps({ expect: { outcome: 'rollback' } }),
      'steps.0.expect: an expect names one of decision, rollback, rollbacks (got outcome)',
    ],
    [
      "an expected rollback's reason that is not a regular expression",
      withSteps({ expect: { rollback: 'failed', incident: 'x', reason: 'ended (FAILED' } }),
      'steps.0.expect.reason: expected a regular expression',
    ],
    [
      'an expected stage that does not exist',
      withSteps({ expect: { rollback: 'exploded', incident: 'x' } }),
      'steps.0.expect.rollback: Invalid option',
    ],
    ['a burn with a typo', withSteps({ burn: { incident: 'x', errorRatoi: 0.1 } }), 'steps.0.burn: Unrecognized key: "errorRatoi"'],
    ['continues naming no scenario', { ...withSteps({ ship: 'rel-003' }), continues: 'Burn Again' }, 'continues: names are lowercase'],
    ['no steps', withSteps(), 'steps: Too small'],
  ])('%s', (_what, raw, message) => {
    expect(() => parseScenario(raw, 'mine.yaml')).toThrow(`scenario mine.yaml: ${message}`);
  });

  it('a step of the right kind with an error deep inside is reported at that key, not as "Invalid input"', () => {
    expect(() =>
      parseScenario(withSteps({ ship: 'rel-003' }, { expect: { decision: 'rollback', incident: 'x', within: 'soon' } }), 'mine.yaml'),
    ).toThrow('scenario mine.yaml: steps.1.expect.within: expected a duration such as 30s, 15m or 3h');
  });
});
