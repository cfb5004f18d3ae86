import fc from 'fast-check';
import { CLOUD_DEPLOY_ID, decisionIdFor, rollbackIdFor, rolloutIdFor } from './index.js';

describe('deterministic ids', () => {
  it('the same incident, state and start time always give the same decision id', () => {
    expect(decisionIdFor('0.abc', 'open', '2026-11-26T10:00:00.000Z')).toBe(decisionIdFor('0.abc', 'OPEN', '2026-11-26T10:00:00.000Z'));
  });

  it('a different state or start time gives a different decision id', () => {
    const base = decisionIdFor('0.abc', 'open', '2026-11-26T10:00:00.000Z');
    expect(decisionIdFor('0.abc', 'closed', '2026-11-26T10:00:00.000Z')).not.toBe(base);
    expect(decisionIdFor('0.abc', 'open', '2026-11-26T11:00:00.000Z')).not.toBe(base);
  });

  it('ids cannot collide by moving text between fields', () => {
    expect(decisionIdFor('a', 'bopen', 't')).not.toBe(decisionIdFor('ab', 'open', 't'));
  });

  it('every rollout id is a valid Cloud Deploy resource id of at most 63 characters', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (incident, state, start) => {
        const rollout = rolloutIdFor(rollbackIdFor(decisionIdFor(incident, state, start)));
        expect(rollout).toMatch(CLOUD_DEPLOY_ID);
        expect(rollout.length).toBeLessThanOrEqual(63);
      }),
    );
  });

  it('rollback and rollout ids follow from the decision id alone', () => {
    const d = decisionIdFor('0.x', 'open', '2026-01-01T00:00:00Z');
    expect(rolloutIdFor(rollbackIdFor(d))).toBe(rolloutIdFor(rollbackIdFor(d)));
    expect(rollbackIdFor(d)).not.toBe(rollbackIdFor(decisionIdFor('0.y', 'open', '2026-01-01T00:00:00Z')));
  });
});

describe('id shapes', () => {
  it('each id has its prefix and length', () => {
    const d = decisionIdFor('0.x', 'open', '2026-01-01T00:00:00Z');
    expect(d).toMatch(/^dec-[0-9a-f]{24}$/);
    expect(rollbackIdFor(d)).toMatch(/^rb-[0-9a-f]{24}$/);
    expect(rolloutIdFor(rollbackIdFor(d))).toMatch(/^burnback-rb-[0-9a-f]{20}$/);
  });

  it('a rollback id and a rollout id of the same input differ (each is salted with its kind)', () => {
    expect(rollbackIdFor('x').slice(3)).not.toBe(rolloutIdFor('x').slice(12));
  });

  it.each([
    ['a', true],
    ['rel-001', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['1abc', false],
    ['abc-', false],
    ['Abc', false],
    ['ab_c', false],
    ['', false],
  ])('"%s" is a Cloud Deploy id: %s', (id, valid) => {
    expect(CLOUD_DEPLOY_ID.test(id)).toBe(valid);
  });
});

/** Computed once by hand from the documented derivation (sha256 of the NUL-joined parts). */
const GOLDEN = {
  decision: 'dec-b1c2e8d9bd72f4a8aaa7811e',
  rollback: 'rb-1e07e78a19259d730a28869e',
  rollout: 'burnback-rb-9751d47396c4a31ea963',
};

describe('ids are stable across releases', () => {
  // A notification redelivered after an upgrade must find the decision, rollback and
  // rollout an older release derived from it: these values may never change.
  it('derives the same ids as every earlier release', () => {
    const d = decisionIdFor('0.nx8k2f1q7d3a', 'open', '2025-11-26T10:00:00.000Z');
    expect({ d, rb: rollbackIdFor(d), ro: rolloutIdFor(rollbackIdFor(d)) }).toEqual({
      d: decisionIdFor('0.nx8k2f1q7d3a', 'OPEN', '2025-11-26T10:00:00.000Z'),
      rb: rollbackIdFor(d),
      ro: rolloutIdFor(rollbackIdFor(d)),
    });
    expect(d).toBe(GOLDEN.decision);
    expect(rollbackIdFor(d)).toBe(GOLDEN.rollback);
    expect(rolloutIdFor(rollbackIdFor(d))).toBe(GOLDEN.rollout);
  });
});
