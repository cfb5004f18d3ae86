import fc from 'fast-check';
import type { DecisionRecord } from '@burnback/contracts';
import { decisionDifferences, jsonDifferences, sameJson } from './compare.js';

describe('sameJson', () => {
  it('compares JSON values structurally, ignoring key order and undefined members', () => {
    expect(sameJson({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBe(true);
    expect(sameJson({ a: 1, u: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ a: 1, b: 2 }, { a: 1 })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson([1], { 0: 1 })).toBe(false);
    expect(sameJson({ 0: 1 }, [1])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson({ a: null }, { a: null })).toBe(true);
    expect(sameJson({ a: 0.1 + 0.2 }, { a: 0.3 })).toBe(false);
  });
});

describe('jsonDifferences', () => {
  it('names the first differing place down each branch, in key order', () => {
    expect(jsonDifferences({ a: 1, b: { c: 2, d: [1, 2] } }, { a: 1, b: { c: 2, d: [1, 2] } })).toEqual([]);
    expect(jsonDifferences({ b: { d: [1, 2], c: 2 }, a: 1 }, { a: 2, b: { c: 3, d: [1, 5, 6] } })).toEqual(['a', 'b.c', 'b.d.1', 'b.d.2']);
    // Numeric order for array indices (10 after 9), not text order.
    const many = Array.from({ length: 11 }, (_, i) => i);
    expect(
      jsonDifferences(
        many,
        many.map((v) => (v === 9 || v === 10 ? -v : v)),
      ),
    ).toEqual(['9', '10']);
  });

  it('counts an undefined member as absent, and a change of kind as a difference at that place', () => {
    expect(jsonDifferences({ a: 1, b: undefined }, { a: 1 })).toEqual([]);
    expect(jsonDifferences({ a: { x: 1 } }, { a: null })).toEqual(['a']);
    expect(jsonDifferences({ a: [1] }, { a: { 0: 1 } })).toEqual(['a']);
    expect(jsonDifferences({ a: 1 }, {})).toEqual(['a']);
    expect(jsonDifferences(1, 2)).toEqual(['(the whole value)']);
  });
});

describe('sameJson and jsonDifferences agree with the JSON they compare', () => {
  /** JSON as stored: objects, arrays, strings, finite numbers, booleans, null. */
  const json = fc.jsonValue({ maxDepth: 3 });
  /** The same value with every object's keys in another order. */
  const reordered = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reordered)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reordered(x)]),
          )
        : v;
  /** Canonical text: keys sorted at every level. */
  const canonical = (v: unknown): string =>
    JSON.stringify(v, (_k, x: unknown) =>
      x !== null && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : x,
    );

  it('a value equals itself in any key order, and differs nowhere from it', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(sameJson(v, reordered(v))).toBe(true);
        expect(jsonDifferences(v, reordered(v))).toEqual([]);
      }),
    );
  });

  it('two values are the same exactly when their canonical JSON is, and then (only then) no path differs', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const same = canonical(a) === canonical(b);
        expect(sameJson(a, b)).toBe(same);
        expect(sameJson(b, a)).toBe(same);
        expect(jsonDifferences(a, b).length === 0).toBe(same);
      }),
    );
  });
});

describe('decisionDifferences (replay --through-pipeline)', () => {
  const base = {
    action: 'escalate',
    verdicts: [
      { rule: 'incident-open', passed: true, detail: 'open' },
      { rule: 'confidence', passed: false, detail: 'low' },
    ],
    cause: { releaseId: 'rel-001', servingSince: '2026-11-26T10:00:00.000Z' },
    rollbackId: null,
    reason: 'escalate: at 10:00',
    evidence: { alert: { receivedAt: '2026-11-26T10:00:01.000Z' }, target: { serving: { releaseId: 'rel-001', since: 'S' } }, state: {} },
  };
  const record = (change: Record<string, unknown> = {}) => ({ ...base, ...change }) as unknown as DecisionRecord;

  it('finds none in a reproduction, whatever the reason text says', () => {
    expect(decisionDifferences(record(), record({ reason: 'escalate: at 10:01' }))).toEqual([]);
  });

  it('names the action, the rule outcomes, the blamed release and the rollback', () => {
    const verdicts = base.verdicts.map((v) => ({ ...v, passed: true, detail: 'other words' }));
    expect(decisionDifferences(record(), record({ action: 'rollback', verdicts, cause: null, rollbackId: 'rb-1' }))).toEqual([
      'action',
      'verdicts',
      'cause (rel-001 recorded, none now)',
      'rollback',
    ]);
    // A detail's words alone are not a difference in outcome.
    expect(decisionDifferences(record(), record({ verdicts: base.verdicts.map((v) => ({ ...v, detail: 'x' })) }))).toEqual([]);
  });

  it('names where what it read differs, three paths and a count of the rest', () => {
    const evidence = (target: unknown, alert = base.evidence.alert) => ({ ...base.evidence, alert, target });
    expect(decisionDifferences(record(), record({ evidence: evidence({ serving: { releaseId: 'rel-001', since: 'T' } }) }))).toEqual([
      'what it read (target.serving.since)',
    ]);
    const elsewhere = evidence({ serving: { releaseId: 'rel-002', since: 'T' }, previous: {}, lastRollout: {} }, { receivedAt: 'later' });
    expect(decisionDifferences(record(), record({ evidence: elsewhere }))).toEqual([
      'what it read (alert.receivedAt, target.lastRollout, target.previous and 2 more)',
    ]);
  });

  it("does not count when the target's history was last read, only what was read", () => {
    const target = (extra: Record<string, unknown>) => ({ ...base.evidence, target: { ...base.evidence.target, ...extra } });
    const at = (t: string) => target({ historyReadAt: t, updatedAt: t });
    expect(decisionDifferences(record({ evidence: at('10:00') }), record({ evidence: at('10:02') }))).toEqual([]);
    // The same read time over another history is a difference, and so is any other field of the same name elsewhere.
    expect(
      decisionDifferences(
        record({ evidence: target({ historyReadAt: 'T', timeline: ['a'] }) }),
        record({ evidence: target({ historyReadAt: 'T', timeline: ['b'] }) }),
      ),
    ).toEqual(['what it read (target.timeline.0)']);
    const alertAt = (t: string) => ({ ...base.evidence, alert: { ...base.evidence.alert, updatedAt: t } });
    expect(decisionDifferences(record({ evidence: alertAt('1') }), record({ evidence: alertAt('2') }))).toEqual([
      'what it read (alert.updatedAt)',
    ]);
  });
});
