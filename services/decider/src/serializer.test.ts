import { createSerializer } from './handler.js';
import { createKeyedSerializer } from './serializer.js';

describe('createSerializer (turns for the breaker document)', () => {
  it('runs tasks one at a time, in arrival order, even when an earlier one is slower', async () => {
    const turn = createSerializer();
    const log: string[] = [];
    const task = (name: string, ms: number) => async () => {
      log.push(`${name} start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([turn(task('a', 30)), turn(task('b', 1)), turn(task('c', 10))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });

  it('a failed task rejects its own caller only; the next one still gets its turn', async () => {
    const turn = createSerializer();
    const failed = turn(async () => {
      throw new Error('contention');
    });
    const next = turn(async () => 'ran');
    await expect(failed).rejects.toThrow('contention');
    await expect(next).resolves.toBe('ran');
  });
});

describe('createKeyedSerializer (turns per target document)', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('runs one key’s tasks one at a time in arrival order, while another key’s overlap them', async () => {
    const turn = createKeyedSerializer();
    const log: string[] = [];
    // a holds t1 until told: no timer decides the order.
    let releaseA!: () => void;
    const aHeld = new Promise<void>((resolve) => (releaseA = resolve));
    const a = turn('t1', async () => {
      log.push('a start');
      await aHeld;
      log.push('a end');
      return 'a';
    });
    const b = turn('t1', async () => {
      log.push('b start');
      log.push('b end');
      return 'b';
    });
    const x = turn('t2', async () => {
      log.push('x start');
      log.push('x end');
      return 'x';
    });
    // x (another key) started and ended while a held t1; b waits for a.
    await expect(x).resolves.toBe('x');
    expect(log).toEqual(['a start', 'x start', 'x end']);
    releaseA();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(log).toEqual(['a start', 'x start', 'x end', 'a end', 'b start', 'b end']);
  });

  it('a failed task rejects its own caller only; the key’s next task still runs, and a key used again later starts at once', async () => {
    const turn = createKeyedSerializer();
    const failed = turn('t1', async () => {
      throw new Error('lock timeout');
    });
    const next = turn('t1', async () => 'ran');
    await expect(failed).rejects.toThrow('lock timeout');
    await expect(next).resolves.toBe('ran');
    await sleep(0);
    let started = false;
    const later = turn('t1', async () => {
      started = true;
      return 'later';
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toBe(true);
    await expect(later).resolves.toBe('later');
  });
});
