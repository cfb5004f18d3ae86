import { DEFAULT_POLICY, ProgressStages, type AlertEvent } from '@burnback/contracts';
import { alertEvent } from '@burnback/testkit/fixtures';
import { mayTouchBreaker, openOverItsBar, releasesBreaker } from './gates.js';

const service = { policy: DEFAULT_POLICY }; // error ratio bar 1 %
const alert = (overrides: Partial<AlertEvent>) => alertEvent('0.gates', overrides);

describe('the gates before a decision', () => {
  it.each([
    ['an open error ratio over its bar', {}, true],
    ['just over the bar', { observedValue: 0.010001, signalValue: 0.010001 }, true],
    ['at the bar (not over it)', { observedValue: 0.01, signalValue: 0.01 }, false],
    ['under the bar', { observedValue: 0.005, signalValue: 0.005 }, false],
    ['closed, though over the bar', { state: 'closed' }, false],
    ['with no value', { observedValue: null, signalValue: null }, false],
    ['a budget alert (no bar: it never rolls back)', { signal: 'budget' }, false],
    ['an unsupported signal', { signal: 'unsupported', unsupportedReason: 'CPU' }, false],
  ] as const)('openOverItsBar: %s → %s', (_what, overrides, expected) => {
    expect(openOverItsBar(alert(overrides as Partial<AlertEvent>), service)).toBe(expected);
  });

  it('a manual request touches the breaker whatever it measures; an alert only when open over its bar', () => {
    const manual = { requestedBy: 'carol', reason: 'bad deploy', force: false, releaseId: null };
    expect(mayTouchBreaker(alert({ manual, state: 'closed', observedValue: null, signalValue: null }), service)).toBe(true);
    expect(mayTouchBreaker(alert({}), service)).toBe(true);
    expect(mayTouchBreaker(alert({ observedValue: 0.005, signalValue: 0.005 }), service)).toBe(false);
    expect(mayTouchBreaker(alert({ manual: null }), service)).toBe(true);
    expect(mayTouchBreaker(alert({ manual: null, state: 'closed' }), service)).toBe(false);
  });

  it('only the end of a real rollback releases its place under the breaker', () => {
    for (const stage of Object.values(ProgressStages)) {
      // 'validated' is final too: a validate-only rollback's end, which never held a place (validateOnly is true with it).
      const final = ['succeeded', 'failed', 'superseded', 'validated'].includes(stage);
      expect({ stage, released: releasesBreaker({ stage, validateOnly: false }) }).toEqual({ stage, released: final });
      expect(releasesBreaker({ stage, validateOnly: true })).toBe(false);
    }
  });
});
