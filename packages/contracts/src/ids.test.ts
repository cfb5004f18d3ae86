import fc from 'fast-check';
import {
  approvalNotificationIdFor,
  CLOUD_DEPLOY_ID,
  decisionIdFor,
  recommendationIdFor,
  redecisionIdFor,
  rollbackIdFor,
  rolloutIdFor,
  targetDocIdFor,
} from './index.js';

describe('deterministic ids', () => {
  it('the same notification of an incident always gives the same decision id', () => {
    expect(decisionIdFor('0.abc', 'open', '2026-11-26T10:00:00.000Z', 'ntf-1')).toBe(
      decisionIdFor('0.abc', 'OPEN', '2026-11-26T10:00:00.000Z', 'ntf-1'),
    );
  });

  it('a different state, start time or notification gives a different decision id', () => {
    const base = decisionIdFor('0.abc', 'open', '2026-11-26T10:00:00.000Z', 'ntf-1');
    expect(decisionIdFor('0.abc', 'closed', '2026-11-26T10:00:00.000Z', 'ntf-1')).not.toBe(base);
    expect(decisionIdFor('0.abc', 'open', '2026-11-26T11:00:00.000Z', 'ntf-1')).not.toBe(base);
    expect(decisionIdFor('0.abc', 'open', '2026-11-26T10:00:00.000Z', 'ntf-2')).not.toBe(base);
  });

  it('ids cannot collide by moving text between fields', () => {
    expect(decisionIdFor('a', 'bopen', 't', 'n')).not.toBe(decisionIdFor('ab', 'open', 't', 'n'));
    expect(decisionIdFor('a', 'open', 'tn', 'x')).not.toBe(decisionIdFor('a', 'open', 't', 'nx'));
  });

  it('every rollout id is a valid Cloud Deploy resource id of at most 63 characters', () => {
    fc.assert(
      fc.property(fc.string(), (incident) => {
        const rollout = rolloutIdFor(rollbackIdFor(incident));
        expect(rollout).toMatch(CLOUD_DEPLOY_ID);
        expect(rollout.length).toBeLessThanOrEqual(63);
      }),
    );
  });

  it('an incident has one rollback id, whatever notification decided it', () => {
    expect(rolloutIdFor(rollbackIdFor('0.x'))).toBe(rolloutIdFor(rollbackIdFor('0.x')));
    expect(rollbackIdFor('0.x')).not.toBe(rollbackIdFor('0.y'));
  });

  it('a target document id names project, region, pipeline and target', () => {
    expect(targetDocIdFor({ project: 'p', region: 'us-central1', pipeline: 'api', target: 'production' })).toBe(
      'p~us-central1~api~production',
    );
  });
});

describe('id shapes', () => {
  it('each id has its prefix and length', () => {
    const d = decisionIdFor('0.x', 'open', '2026-01-01T00:00:00Z', 'ntf-1');
    expect(d).toMatch(/^dec-[0-9a-f]{24}$/);
    expect(rollbackIdFor('0.x')).toMatch(/^rb-[0-9a-f]{24}$/);
    expect(rolloutIdFor(rollbackIdFor('0.x'))).toMatch(/^burnback-rb-[0-9a-f]{20}$/);
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
  decision: 'dec-aa7a8fa2f02a5eefc796d2d1',
  rollback: 'rb-138029c7e3bb2d5479dffeb5',
  rollout: 'burnback-rb-f853328cfdf622499b88',
  recommendation: 'rv-51320102deca01653bf9c15a',
  redecision: 'dec-92f67954bb359c98a0d5af8a',
  secondAttempt: 'rb-1f09236cf57172def9cbb03c',
};

describe('ids are stable across releases', () => {
  // A notification redelivered after an upgrade must find the decision, rollback and
  // rollout an earlier release derived from it: once released, these values never change.
  it('derives the same ids as every earlier release of this scheme', () => {
    const d = decisionIdFor('0.nx8k2f1q7d3a', 'open', '2025-11-26T10:00:00.000Z', 'ntf-1');
    expect(decisionIdFor('0.nx8k2f1q7d3a', 'OPEN', '2025-11-26T10:00:00.000Z', 'ntf-1')).toBe(d);
    expect(d).toBe(GOLDEN.decision);
    expect(rollbackIdFor('0.nx8k2f1q7d3a')).toBe(GOLDEN.rollback);
    expect(rolloutIdFor(GOLDEN.rollback)).toBe(GOLDEN.rollout);
    expect(recommendationIdFor(GOLDEN.decision)).toBe(GOLDEN.recommendation);
    expect(redecisionIdFor(GOLDEN.decision)).toBe(GOLDEN.redecision);
    expect(rollbackIdFor('0.nx8k2f1q7d3a', 1)).toBe(GOLDEN.secondAttempt);
  });

  it("a recommendation's id is its decision's own: never the incident's rollback id, never another decision's", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        expect(recommendationIdFor(a)).toMatch(/^rv-[0-9a-f]{24}$/);
        expect(recommendationIdFor(a)).toBe(recommendationIdFor(a));
        if (a !== b) expect(recommendationIdFor(a)).not.toBe(recommendationIdFor(b));
        expect(recommendationIdFor(a).slice(3)).not.toBe(rollbackIdFor(a).slice(3));
      }),
    );
  });
});

describe('rollback attempts and re-decisions', () => {
  it("an incident's first rollback keeps the id every earlier release derived", () => {
    expect(rollbackIdFor('0.nx8k2f1q7d3a', 0)).toBe(GOLDEN.rollback);
  });

  it('each later attempt of one incident has an id of its own, and never another incident’s', () => {
    const ids = [0, 1, 2, 3].map((n) => rollbackIdFor('0.x', n));
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^rb-[0-9a-f]{24}$/);
    expect(rollbackIdFor('0.x', 1)).toBe(rollbackIdFor('0.x', 1));
    expect(rollbackIdFor('0.x', 1)).not.toBe(rollbackIdFor('0.y', 1));
    // The attempt is a field of its own: it cannot be spelled into the incident id.
    expect(rollbackIdFor('0.x1', 0)).not.toBe(rollbackIdFor('0.x', 1));
  });

  it('a re-decision has one id per decision it re-decides, unlike any notification decision', () => {
    const again = redecisionIdFor('dec-1');
    expect(again).toMatch(/^dec-[0-9a-f]{24}$/);
    expect(redecisionIdFor('dec-1')).toBe(again);
    expect(redecisionIdFor('dec-2')).not.toBe(again);
    expect(again).not.toBe(decisionIdFor('redecision', 'dec-1', '', ''));
  });
});

describe('approvals of a recommendation', () => {
  it('every approval of one recommendation is one notification id, derived from its decision id only', () => {
    // Golden: sha256 of the NUL-joined parts, computed by hand; once released, never changes.
    expect(approvalNotificationIdFor('dec-aa7a8fa2f02a5eefc796d2d1')).toBe('approval-e1b09a5febcd0627a72d66f9');
    expect(approvalNotificationIdFor('dec-aa7a8fa2f02a5eefc796d2d1', 0)).toBe('approval-e1b09a5febcd0627a72d66f9');
    expect(approvalNotificationIdFor('dec-aa7a8fa2f02a5eefc796d2d1', 1)).toBe('approval-b98ed77275adafbc9697976b');
    expect(approvalNotificationIdFor('dec-other')).not.toBe(approvalNotificationIdFor('dec-aa7a8fa2f02a5eefc796d2d1'));
  });
});
