import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { foldHistory, floorFold, generateHistory } from './decide.js';
import { machineLines } from './machine.js';
import { replayRecorded } from '@burnback/cli';
import { floorReplay, recordedExport } from './replay.js';
import { benchLatency, benchSlowRollouts, benchStorm } from './pipeline.js';

// Everything runs locally (emulators, gcp-sim): no client has credentials to look for on a metadata server.
process.env.METADATA_SERVER_DETECTION ??= 'none';
// Interrupted (Ctrl-C, a closed terminal, a kill): exit, so the stack's exit handler kills the services and the
// emulators the bench started. A signal's default action ends the process without it, and they ran on, detached.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const)
  process.once(signal, () => process.exit(code));

/**
 * `npm run bench`: Burnback's benchmarks, each printed with where it ran and a
 * floor measured in the same run. `--events N` changes the history's size.
 */
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

function time<T>(fn: () => T): { result: T; ms: number } {
  const start = process.hrtime.bigint();
  const result = fn();
  return { result, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

function benchDecide(): void {
  const events = arg('events', 1_000_000);
  const services = 100;
  const target = 200_000;
  const counts: Record<string, number> = {};
  for (const e of generateHistory(events, services)) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  // A warm-up pass, so the figures are the optimised code, not the JIT's first tier.
  foldHistory(generateHistory(50_000, services, 7));
  floorFold(generateHistory(50_000, services, 7));
  const floor = time(() => floorFold(generateHistory(events, services)));
  const run = time(() => foldHistory(generateHistory(events, services)));
  const perSecond = Math.round(events / (run.ms / 1000));
  const floorPerSecond = Math.round(events / (floor.ms / 1000));
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  process.stdout.write(
    [
      `decide(): ${events.toLocaleString('en')} events over ${services} services (${Object.entries(counts)
        .map(([k, v]) => `${v.toLocaleString('en')} ${k}`)
        .join(', ')})`,
      `  decisions: ${Object.entries(run.result.actions)
        .sort()
        .map(([k, v]) => `${k} ${v.toLocaleString('en')}`)
        .join(', ')}`,
      `  ${perSecond.toLocaleString('en')} events/s (${run.ms.toFixed(0)} ms); target ≥ ${target.toLocaleString('en')} events/s: ${perSecond >= target ? 'met' : 'NOT met'}`,
      `  floor (generating the same events, deriving and deduping decision ids, no rules): ${floorPerSecond.toLocaleString('en')} events/s (${floor.ms.toFixed(0)} ms); decide costs ${(run.ms / floor.ms).toFixed(1)}× the floor`,
      `  heap after: ${heapMb.toFixed(0)} MiB`,
      '',
    ].join('\n'),
  );
}

function benchReplay(): void {
  const events = arg('replay-events', 200_000);
  const target = 200_000;
  const lines = recordedExport(events, 100);
  replayRecorded(lines.slice(0, 20_000));
  floorReplay(lines.slice(0, 20_000));
  const floor = time(() => floorReplay(lines));
  const run = time(() => replayRecorded(lines));
  const differing = run.result.decisions.filter((d) => d.differences.length > 0).length;
  const perSecond = Math.round(lines.length / (run.ms / 1000));
  const floorPerSecond = Math.round(lines.length / (floor.ms / 1000));
  process.stdout.write(
    [
      `replay (in-process, from each decision's evidence): ${lines.length.toLocaleString('en')} recorded decisions from ${events.toLocaleString('en')} generated events; ${differing} differ`,
      `  ${perSecond.toLocaleString('en')} decisions/s (${run.ms.toFixed(0)} ms); target ≥ ${target.toLocaleString('en')} events/s: ${perSecond >= target ? 'met' : 'NOT met'}`,
      `  floor (the same walk, comparing each record with itself, no decide): ${floorPerSecond.toLocaleString('en')} decisions/s (${floor.ms.toFixed(0)} ms); replay costs ${(run.ms / floor.ms).toFixed(1)}× the floor`,
      '',
    ].join('\n'),
  );
}

/** `--only decide,replay,latency,storm,slow`: a subset (default: all, in that order). */
const only = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? new Set(process.argv[i + 1]!.split(',')) : null;
})();
const wanted = (name: string) => only === null || only.has(name);

async function main(): Promise<void> {
  process.stdout.write(`${machineLines().join('\n')}\n\n`);
  if (['latency', 'storm', 'slow'].some(wanted)) {
    // The pipeline benches run the services' compiled JavaScript, as the containers do.
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.json'], {
      cwd: join(__dirname, '..'),
      stdio: 'inherit',
    });
  }
  if (wanted('decide')) benchDecide();
  if (wanted('replay')) benchReplay();
  let floorPathMs: number | null = null;
  const print = (lines: string[]) => process.stdout.write(`${lines.join('\n')}\n\n`);
  if (wanted('latency')) {
    const latency = await benchLatency(arg('incidents', 200));
    floorPathMs = latency.floorPathMs;
    print(latency.lines);
  }
  // Every service burns once (delivered three times) unless --storm-burning says fewer.
  const stormServices = arg('storm-services', 100);
  if (wanted('storm')) print(await benchStorm(arg('storm', 10_000), stormServices, arg('storm-burning', stormServices)));
  if (wanted('slow')) print(await benchSlowRollouts(arg('slow', 100), floorPathMs));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
