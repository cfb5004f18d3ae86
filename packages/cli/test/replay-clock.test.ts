import { ReplayClock } from '../src/replay/clock';

/** The recorded timeline a replay through the pipeline runs on. */
describe('ReplayClock', () => {
  const at = (iso: string) => new Date(iso);
  let wall = 1_000_000;
  const clock = () => new ReplayClock(at('2026-11-26T10:00:00.000Z'), () => wall);

  beforeEach(() => {
    wall = 1_000_000;
  });

  it('starts at the recorded start and runs at the wall clock’s pace', () => {
    const c = clock();
    expect(c.now().toISOString()).toBe('2026-11-26T10:00:00.000Z');
    wall += 1_500;
    expect(c.now().toISOString()).toBe('2026-11-26T10:00:01.500Z');
  });

  it('moves forward to a recorded time, and keeps running from there', () => {
    const c = clock();
    wall += 100;
    expect(c.moveTo(at('2026-11-26T10:30:00.000Z')).toISOString()).toBe('2026-11-26T10:30:00.000Z');
    wall += 250;
    expect(c.now().toISOString()).toBe('2026-11-26T10:30:00.250Z');
  });

  it('never runs backwards: a recorded time already passed leaves it where it is', () => {
    const c = clock();
    wall += 5_000;
    expect(c.moveTo(at('2026-11-26T10:00:02.000Z')).toISOString()).toBe('2026-11-26T10:00:05.000Z');
    expect(c.now().toISOString()).toBe('2026-11-26T10:00:05.000Z');
  });

  it('maps a wall time onto the timeline in force then, so a message published before a move keeps its earlier time', () => {
    const c = clock();
    wall += 200;
    const published = new Date(wall); // 200 ms into the first stretch
    wall += 100;
    c.moveTo(at('2026-11-26T11:00:00.000Z'));
    wall += 50;
    expect(c.at(published).toISOString()).toBe('2026-11-26T10:00:00.200Z');
    expect(c.at(new Date(wall)).toISOString()).toBe('2026-11-26T11:00:00.050Z');
    // Before the replay started: counted back from the start.
    expect(c.at(new Date(1_000_000 - 1_000)).toISOString()).toBe('2026-11-26T09:59:59.000Z');
  });

  it('two moves in the same millisecond: the later one holds', () => {
    const c = clock();
    c.moveTo(at('2026-11-26T10:10:00.000Z'));
    c.moveTo(at('2026-11-26T10:20:00.000Z'));
    expect(c.now().toISOString()).toBe('2026-11-26T10:20:00.000Z');
  });

  it('frozen: stands at the recorded time until the next move, for a wall time inside the stretch too', () => {
    const c = clock();
    c.moveTo(at('2026-11-26T10:05:00.000Z'), { frozen: true });
    wall += 700;
    expect(c.now().toISOString()).toBe('2026-11-26T10:05:00.000Z');
    expect(c.at(new Date(wall - 100)).toISOString()).toBe('2026-11-26T10:05:00.000Z');
    c.moveTo(at('2026-11-26T10:06:00.000Z'));
    wall += 10;
    expect(c.now().toISOString()).toBe('2026-11-26T10:06:00.010Z');
  });
});
