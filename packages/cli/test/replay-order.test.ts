import { replayOrder } from '../src/replay/recorded-world';
import type { ExportLine } from '../src/replay/format';

/** The order a replay through the pipeline delivers an export's lines in. */
describe('replayOrder', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 10, 26, 10, 0, s)).toISOString();
  const notification = (id: string, at: number) => ({ kind: 'notification', at: t(at), id, data: { id } }) as unknown as ExportLine;
  const decision = (alertEventId: string, decidedAt: number, evaluatedAt?: number) =>
    ({
      kind: 'decision',
      at: t(decidedAt),
      id: `dec-${alertEventId}`,
      data: {
        alertEventId,
        decidedAt: t(decidedAt),
        controls: evaluatedAt === undefined ? null : { evaluatedAt: t(evaluatedAt) },
      },
    }) as unknown as ExportLine;
  const progress = (id: string, at: number, appliedAt?: number) =>
    ({ kind: 'progress', at: t(at), id, data: appliedAt === undefined ? {} : { appliedAt: t(appliedAt) } }) as unknown as ExportLine;
  const deployEvent = (id: string, at: number, appliedAt: number) =>
    ({ kind: 'deploy-event', at: t(at), id, data: { appliedAt: t(appliedAt) } }) as unknown as ExportLine;
  const ids = (lines: ExportLine[]) => replayOrder(lines).map((l) => l.id);

  it('delivers notifications in the order their decisions were evaluated, not the order they came', () => {
    const lines = [notification('a', 1), decision('a', 1, 5), notification('b', 2), decision('b', 2, 3)];
    expect(ids(lines)).toEqual(['b', 'dec-b', 'a', 'dec-a']);
  });

  it('puts an effect stamped before a decision was evaluated ahead of its notification', () => {
    const lines = [notification('a', 1), decision('a', 1, 4), progress('p', 2)];
    expect(ids(lines)).toEqual(['p', 'a', 'dec-a']);
    // Stamped after the evaluation: after it, as in the file.
    expect(ids([notification('a', 1), decision('a', 1, 4), progress('p', 5)])).toEqual(['a', 'dec-a', 'p']);
  });

  it('puts a report where the decider applied it, when the file says: after a decision it came too late for', () => {
    // Stamped at 2, before the decision evaluated at 4, but applied at 6: the decision had not seen it.
    expect(ids([notification('a', 1), progress('p', 2, 6), decision('a', 1, 4)])).toEqual(['a', 'dec-a', 'p']);
    expect(ids([deployEvent('d', 2, 6), notification('a', 3), decision('a', 3, 4)])).toEqual(['a', 'dec-a', 'd']);
    // Applied at 3, before the evaluation: first.
    expect(ids([notification('a', 1), progress('p', 2, 3), decision('a', 1, 4)])).toEqual(['p', 'a', 'dec-a']);
  });

  it('keeps the file order on equal times, and reads a decision with no controls at its decision time', () => {
    expect(ids([notification('a', 1), decision('a', 1), progress('p', 1)])).toEqual(['a', 'dec-a', 'p']);
    expect(ids([progress('p', 1), notification('a', 1), decision('a', 1)])).toEqual(['p', 'a', 'dec-a']);
  });

  it('leaves a notification no decision names at its receipt time', () => {
    expect(ids([notification('x', 3), notification('a', 1), decision('a', 1, 2)])).toEqual(['a', 'dec-a', 'x']);
  });
});
