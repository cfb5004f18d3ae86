import fc from 'fast-check';
import { BREAKER_GROUP_FLEET_NAMES, BREAKER_GROUP_MAX, nextGroup, type Groupable } from './breaker-group.js';

const waiting = (n: number, fleetNames = 0, of: (i: number) => Partial<Groupable> = () => ({})): Groupable[] =>
  Array.from({ length: n }, (_, i) => ({ service: `svc-${i}`, incidentId: `0.i-${i}`, targetDocId: `t-${i}`, fleetNames, ...of(i) }));

describe('the next group under the breaker', () => {
  it('takes what waits, in order, up to BREAKER_GROUP_MAX', () => {
    expect(nextGroup([])).toEqual([]);
    expect(nextGroup(waiting(3))).toEqual([0, 1, 2]);
    expect(BREAKER_GROUP_MAX).toBe(50);
    expect(nextGroup(waiting(120))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it.each([
    ['service', (i: number) => ({ service: i === 2 ? 'svc-0' : `svc-${i}` })],
    ['incident', (i: number) => ({ incidentId: i === 2 ? '0.i-0' : `0.i-${i}` })],
    ['target', (i: number) => ({ targetDocId: i === 2 ? 't-0' : `t-${i}` })],
  ])('never two decisions of one %s: the later waits for the next turn, those after it still go', (_what, of) => {
    expect(nextGroup(waiting(4, 0, of))).toEqual([0, 1, 3]);
  });

  it('a group records at most BREAKER_GROUP_FLEET_NAMES fleet names between its decisions', () => {
    expect(BREAKER_GROUP_FLEET_NAMES).toBe(50_000);
    // The 100,000 storm's fleet: 2,000 names a decision, so 25 a group.
    expect(nextGroup(waiting(60, 2_000))).toHaveLength(25);
    // A small fleet's decisions (the 10,000 storm's: 200 names) still go 50 at a time.
    expect(nextGroup(waiting(60, 200))).toHaveLength(50);
    // Exactly at the budget is within it.
    expect(nextGroup(waiting(3, BREAKER_GROUP_FLEET_NAMES / 2))).toEqual([0, 1]);
    // A decision that would go over it waits; a smaller one after it still fits.
    const sizes = [30_000, 25_000, 20_000];
    expect(nextGroup(waiting(3, 0, (i) => ({ fleetNames: sizes[i]! })))).toEqual([0, 2]);
  });

  it('the first waiting decision always goes, however large its fleet', () => {
    expect(nextGroup(waiting(2, BREAKER_GROUP_FLEET_NAMES + 1))).toEqual([0]);
  });

  it('for any queue: the first goes, in order, no two share a key, within both bounds, and nothing that fits is left', () => {
    const entry = fc.record({
      service: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      incidentId: fc.constantFrom('1', '2', '3', '4', '5', '6', '7'),
      targetDocId: fc.constantFrom('x', 'y', 'z', 'w', 'v'),
      fleetNames: fc.integer({ min: 0, max: 30_000 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 80 }), (queue) => {
        const group = nextGroup(queue);
        if (queue.length > 0) expect(group[0]).toBe(0);
        expect([...group].sort((x, y) => x - y)).toEqual(group);
        expect(group.length).toBeLessThanOrEqual(BREAKER_GROUP_MAX);
        const taken = group.map((i) => queue[i]!);
        for (const key of ['service', 'incidentId', 'targetDocId'] as const)
          expect(new Set(taken.map((q) => q[key])).size).toBe(taken.length);
        const names = taken.reduce((sum, q) => sum + q.fleetNames, 0);
        if (taken.length > 1) expect(names).toBeLessThanOrEqual(BREAKER_GROUP_FLEET_NAMES);
        // Every decision left out conflicts with one taken before it, or would not fit (by count or by names).
        for (const [i, q] of queue.entries()) {
          if (group.includes(i)) continue;
          const before = group.filter((j) => j < i).map((j) => queue[j]!);
          const conflicts = before.some((t) => t.service === q.service || t.incidentId === q.incidentId || t.targetDocId === q.targetDocId);
          const namesBefore = before.reduce((sum, t) => sum + t.fleetNames, 0);
          expect(conflicts || before.length >= BREAKER_GROUP_MAX || namesBefore + q.fleetNames > BREAKER_GROUP_FLEET_NAMES).toBe(true);
        }
      }),
    );
  });
});
