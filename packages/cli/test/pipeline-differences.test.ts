import type { DecisionRecord } from '@burnback/contracts';
import { jsonDifferences } from '../src/replay/engine';
import { decisionDifferences } from '../src/replay/pipeline';

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
});
