import type { FleetView } from '@burnback/contracts';
import { createFleetReads, FLEET_READS_AT_ONCE } from './fleet-reads.js';

/** A fleet query that answers only when told: each call is recorded with the `now` and window it was asked for. */
function heldQuery() {
  const calls: Array<{ now: Date; windowMinutes: number; answer: (view: FleetView) => void }> = [];
  const query = (now: Date, windowMinutes: number) =>
    new Promise<FleetView>((resolve) => calls.push({ now, windowMinutes, answer: resolve }));
  return { calls, query };
}
const view = (burning: string[]): FleetView => ({ burningServices: burning, inFlight: [], readAt: '2026-12-07T00:00:00.000Z' });
const at = (ms: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, 0, ms));
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('fleet reads shared by the decisions waiting for them', () => {
  it('decisions asking at once share one read, each view stamped with its own time', async () => {
    const { calls, query } = heldQuery();
    const read = createFleetReads(query);
    const views = [read(at(5), 10), read(at(3), 10), read(at(7), 10)];
    await tick();
    expect(calls.map((c) => c.now)).toEqual([at(3)]);
    calls[0]!.answer(view(['svc-a']));
    expect((await Promise.all(views)).map((v) => [v.burningServices, v.readAt])).toEqual([
      [['svc-a'], at(5).toISOString()],
      [['svc-a'], at(3).toISOString()],
      [['svc-a'], at(7).toISOString()],
    ]);
  });

  it('a read already running is never joined; with every turn taken, later decisions share the next read', async () => {
    const { calls, query } = heldQuery();
    const read = createFleetReads(query);
    const early: Array<Promise<FleetView>> = [];
    for (let i = 0; i < FLEET_READS_AT_ONCE; i++) {
      early.push(read(at(i), 10));
      await tick();
    }
    expect(calls).toHaveLength(FLEET_READS_AT_ONCE);
    const late = [read(at(20), 10), read(at(10), 10)];
    await tick();
    // Every turn is taken: the next read waits, however many join it.
    expect(calls).toHaveLength(FLEET_READS_AT_ONCE);
    calls[0]!.answer(view(['before']));
    await tick();
    expect(calls).toHaveLength(FLEET_READS_AT_ONCE + 1);
    expect(calls.at(-1)!.now).toEqual(at(10));
    calls.at(-1)!.answer(view(['before', 'after']));
    for (const v of await Promise.all(late)) expect(v.burningServices).toEqual(['before', 'after']);
    for (const c of calls.slice(1, FLEET_READS_AT_ONCE)) c.answer(view(['before']));
    for (const v of await Promise.all(early)) expect(v.burningServices).toEqual(['before']);
    // A decision asking now, with turns free again, starts a read of its own.
    const again = read(at(30), 10);
    await tick();
    expect(calls).toHaveLength(FLEET_READS_AT_ONCE + 2);
    calls.at(-1)!.answer(view([]));
    await again;
  });

  it('each breaker window has its own read; a failed read fails every decision sharing it, and the next read is fresh', async () => {
    const { calls, query } = heldQuery();
    let fail = true;
    const read = createFleetReads(async (now, windowMinutes) => {
      if (fail) throw new Error('Firestore unavailable');
      return query(now, windowMinutes);
    });
    await expect(Promise.all([read(at(0), 10), read(at(1), 10)])).rejects.toThrow('Firestore unavailable');
    fail = false;
    const ten = read(at(2), 10);
    const thirty = read(at(2), 30);
    await tick();
    expect(calls.map((c) => c.windowMinutes).sort()).toEqual([10, 30]);
    for (const c of calls) c.answer(view([`w${c.windowMinutes}`]));
    expect((await ten).burningServices).toEqual(['w10']);
    expect((await thirty).burningServices).toEqual(['w30']);
  });
});
