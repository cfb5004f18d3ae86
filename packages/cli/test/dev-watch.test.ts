/**
 * What `burnback dev` restarts after a change (src/dev-watch.ts): the compiled
 * code each service loads, which services a build's changed files concern, and
 * the debouncing and queueing that restart each service once, never twice at once.
 */
import { readWorkspaces } from '../src/dev-build';
import { debounceRestarts, restartQueue, runtimeClosure, servicesToRestart, type Timers, type Workspace } from '../src/dev-watch';

const ws = (dir: string, name: string, ...dependencies: string[]): Workspace => ({ dir, name, dependencies });
const WORKSPACES = [
  ws('packages/contracts', '@b/contracts'),
  ws('packages/policy', '@b/policy', '@b/contracts'),
  ws('packages/platform', '@b/platform', '@b/contracts'),
  ws('packages/gcp-sim', '@b/gcp-sim', '@b/contracts'),
  ws('services/ingest', '@b/ingest', '@b/contracts', '@b/platform'),
  ws('services/decider', '@b/decider', '@b/platform', '@b/policy'),
  ws('services/executor', '@b/executor', '@b/platform', '@b/policy'),
];
const CLOSURES = Object.fromEntries(['ingest', 'decider', 'executor'].map((s) => [s, runtimeClosure(WORKSPACES, `services/${s}`)]));

describe('the compiled code each service loads', () => {
  it('is its own and its @burnback dependencies’, transitively', () => {
    expect(runtimeClosure(WORKSPACES, 'services/decider').sort()).toEqual([
      'packages/contracts',
      'packages/platform',
      'packages/policy',
      'services/decider',
    ]);
    expect(runtimeClosure(WORKSPACES, 'services/ingest').sort()).toEqual(['packages/contracts', 'packages/platform', 'services/ingest']);
  });

  it('survives a dependency cycle and ignores packages that are not workspaces', () => {
    const cyclic = [ws('a', '@b/a', '@b/b', 'zod'), ws('b', '@b/b', '@b/a')];
    expect(runtimeClosure(cyclic, 'a').sort()).toEqual(['a', 'b']);
    expect(() => runtimeClosure(cyclic, 'c')).toThrow('c is not a workspace');
  });

  it("is read from this repository's package.json files: each service loads contracts and platform, never gcp-sim or another service", () => {
    const workspaces = readWorkspaces();
    for (const service of ['ingest', 'decider', 'executor', 'notifier']) {
      const closure = runtimeClosure(workspaces, `services/${service}`);
      expect(closure).toEqual(expect.arrayContaining([`services/${service}`, 'packages/contracts', 'packages/platform']));
      expect(closure.filter((dir) => dir.startsWith('services/') || dir === 'packages/gcp-sim')).toEqual([`services/${service}`]);
    }
    expect(runtimeClosure(workspaces, 'services/decider')).toContain('packages/policy');
  });
});

describe('the services a build concerns', () => {
  it('are those that load a changed JavaScript file', () => {
    expect(servicesToRestart(['services/decider/dist/main.js'], CLOSURES)).toEqual(['decider']);
    expect(servicesToRestart(['packages/policy/dist/index.js'], CLOSURES)).toEqual(['decider', 'executor']);
    expect(servicesToRestart(['packages/contracts/dist/names.js'], CLOSURES)).toEqual(['ingest', 'decider', 'executor']);
    expect(servicesToRestart(['services\\ingest\\dist\\handler.js'], CLOSURES)).toEqual(['ingest']);
  });

  it('are none for source maps, declarations, build info, sources, or packages no service loads', () => {
    expect(
      servicesToRestart(
        [
          'services/decider/dist/main.js.map',
          'packages/platform/dist/index.d.ts',
          'services/decider/tsconfig.tsbuildinfo',
          'services/decider/src/main.js',
          'packages/gcp-sim/dist/main.js',
          'services/deciderx/dist/main.js',
        ],
        CLOSURES,
      ),
    ).toEqual([]);
  });
});

/** Timers driven by hand: `advance(ms)` runs what is due. */
function manualTimers(): Timers & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let next = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    set: (fn, ms) => {
      due.set(++next, { at: now + ms, fn });
      return next;
    },
    clear: (handle) => void due.delete(handle as number),
    advance(ms) {
      now += ms;
      for (const [id, t] of [...due].sort((a, b) => a[1].at - b[1].at))
        if (t.at <= now) {
          due.delete(id);
          t.fn();
        }
    },
    pending: () => due.size,
  };
}

describe('debouncing restarts', () => {
  it('restarts each service once, after builds have been quiet for the delay', () => {
    const timers = manualTimers();
    const fired: string[][] = [];
    const debounced = debounceRestarts(300, (s) => fired.push(s), timers);
    debounced.add(['notifier', 'decider']);
    timers.advance(200);
    debounced.add(['decider', 'ingest']);
    timers.advance(299);
    expect(fired).toEqual([]);
    timers.advance(1);
    expect(fired).toEqual([['notifier', 'decider', 'ingest']]);
    debounced.add(['executor']);
    timers.advance(300);
    expect(fired).toEqual([['notifier', 'decider', 'ingest'], ['executor']]);
  });

  it('ignores a build that changed nothing a service loads, and forgets what is pending once cancelled', () => {
    const timers = manualTimers();
    const fired: string[][] = [];
    const debounced = debounceRestarts(300, (s) => fired.push(s), timers);
    debounced.add([]);
    expect(timers.pending()).toBe(0);
    debounced.add(['decider']);
    debounced.cancel();
    timers.advance(1000);
    expect(fired).toEqual([]);
    expect(timers.pending()).toBe(0);
  });
});

describe('the restart queue', () => {
  /** A restart that ends when the test says so. */
  function controlled() {
    const calls: Array<{ service: string; finish: (err?: Error) => void }> = [];
    const run = (service: string) =>
      new Promise<void>((resolve, reject) => calls.push({ service, finish: (err) => (err ? reject(err) : resolve()) }));
    return { calls, run };
  }
  const settle = () => new Promise((r) => setImmediate(r));

  it('never restarts a service twice at once, and restarts it once more for any requests made meanwhile', async () => {
    const { calls, run } = controlled();
    const done: string[] = [];
    const queue = restartQueue(run, (s, err) => done.push(`${s}: ${err?.message ?? 'ok'}`));
    queue.request('decider');
    queue.request('ingest');
    queue.request('decider');
    queue.request('decider');
    expect(calls.map((c) => c.service)).toEqual(['decider', 'ingest']);
    calls[0]!.finish();
    await settle();
    expect(calls.map((c) => c.service)).toEqual(['decider', 'ingest', 'decider']);
    calls[2]!.finish();
    calls[1]!.finish();
    await settle();
    expect(calls).toHaveLength(3);
    expect(done).toEqual(['decider: ok', 'decider: ok', 'ingest: ok']);
  });

  it('reports a restart that failed, and restarts that service on the next request', async () => {
    const { calls, run } = controlled();
    const done: string[] = [];
    const queue = restartQueue(run, (s, err) => done.push(`${s}: ${err?.message ?? 'ok'}`));
    queue.request('executor');
    calls[0]!.finish(new Error('exited (1) before it became healthy'));
    await settle();
    expect(done).toEqual(['executor: exited (1) before it became healthy']);
    queue.request('executor');
    expect(calls).toHaveLength(2);
  });
});
