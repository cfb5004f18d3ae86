import { ReplayClock } from '../src/replay/clock';

/** The recorded timeline a replay through the pipeline runs on. */
describe('ReplayClock', () => {
  const at = (iso: string) => new Date(iso);
  let wall = 1_000_000;
  const clock = () => new ReplayClock(at('2026-11-26T10:00:00.000Z'), () => wall);

  beforeEach(() => {
    wall = 1_000_000;
  });

  it('stands at the recorded start however much wall time passes', () => {
    const c = clock();
    expect(c.now().toISOString()).toBe('2026-11-26T10:00:00.000Z');
    wall += 1_500;
    expect(c.now().toISOString()).toBe('2026-11-26T10:00:00.000Z');
  });

  it('moves to a recorded time, and stands there until the next move', () => {
    const c = clock();
    wall += 100;
    c.moveTo(at('2026-11-26T10:30:00.000Z'));
    expect(c.now().toISOString()).toBe('2026-11-26T10:30:00.000Z');
    wall += 250;
    expect(c.now().toISOString()).toBe('2026-11-26T10:30:00.000Z');
    c.moveTo(at('2026-11-26T10:30:00.001Z'));
    expect(c.now().toISOString()).toBe('2026-11-26T10:30:00.001Z');
  });

  it('moves back to an earlier recorded time (a report stamped before the decision replayed last)', () => {
    const c = clock();
    c.moveTo(at('2026-11-26T10:00:05.000Z'));
    wall += 10;
    c.moveTo(at('2026-11-26T10:00:02.000Z'));
    expect(c.now().toISOString()).toBe('2026-11-26T10:00:02.000Z');
    expect(c.at(new Date(wall - 5)).toISOString()).toBe('2026-11-26T10:00:05.000Z');
  });

  it('maps a wall time onto the recorded time in force then, so a message published before a move keeps its time', () => {
    const c = clock();
    wall += 200;
    const published = new Date(wall);
    wall += 100;
    c.moveTo(at('2026-11-26T11:00:00.000Z'));
    const after = new Date(wall);
    wall += 50;
    c.moveTo(at('2026-11-26T11:00:01.000Z'));
    expect(c.at(published).toISOString()).toBe('2026-11-26T10:00:00.000Z');
    expect(c.at(after).toISOString()).toBe('2026-11-26T11:00:00.000Z');
    expect(c.at(new Date(wall)).toISOString()).toBe('2026-11-26T11:00:01.000Z');
    // Before the replay started: its start.
    expect(c.at(new Date(1_000_000 - 1_000)).toISOString()).toBe('2026-11-26T10:00:00.000Z');
  });

  it('two moves in the same millisecond: the later one holds', () => {
    const c = clock();
    c.moveTo(at('2026-11-26T10:10:00.000Z'));
    c.moveTo(at('2026-11-26T10:20:00.000Z'));
    expect(c.now().toISOString()).toBe('2026-11-26T10:20:00.000Z');
    expect(c.at(new Date(wall)).toISOString()).toBe('2026-11-26T10:20:00.000Z');
  });
});
