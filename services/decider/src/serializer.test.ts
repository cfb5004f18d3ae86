import { createSerializer } from './handler.js';

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
