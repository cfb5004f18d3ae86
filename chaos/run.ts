import { runChaos, type ChaosOptions } from './suite.js';

/**
 * `npm run test:chaos`: the chaos suite (see docs/architecture.md, "The chaos
 * suite"). `-- --bounded` is the small run CI does after `npm test`; `--seed N`
 * repeats a run's inputs, copies and crash plan (the seed is printed).
 */
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const bounded = process.argv.includes('--bounded');
const seed = Number(arg('seed') ?? Math.floor(Math.random() * 2 ** 31));
const print = (line: string) => process.stdout.write(`${line}\n`);

const options: ChaosOptions = bounded
  ? {
      shape: { soleServices: 3, contendedServices: 1, burnsPerContended: 2, invalidInputs: 3, maxCopies: 3 },
      seed,
      deciders: 3,
      executors: 2,
      killsPerPoint: 1,
      maxCrashAt: 1,
      randomKills: 0,
      restartAtShare: 0.25,
      chaosAfterRestart: false,
      // A worker killed inside a Firestore transaction holds its document's lock until the emulator expires the
      // transaction (about 70 s measured): the rollback behind it waits that long, twice if two kills do that.
      settleTimeoutMs: 180_000,
      print,
    }
  : {
      shape: { soleServices: 9, contendedServices: 3, burnsPerContended: 3, invalidInputs: 6, maxCopies: 3 },
      seed,
      deciders: 3,
      executors: 2,
      killsPerPoint: 3,
      maxCrashAt: 3,
      randomKills: 4,
      restartAtShare: 0.5,
      chaosAfterRestart: true,
      settleTimeoutMs: 300_000,
      print,
    };

print(
  `chaos (${bounded ? 'bounded' : 'full'}), seed ${seed}: ${options.deciders} deciders, ${options.executors} executors and ingest as processes; ` +
    `${options.killsPerPoint} kill(s) wanted per crash point, ${options.randomKills} random kill(s); the Pub/Sub emulator restarted once`,
);
runChaos(options).then(
  (report) => process.exit(report.passed ? 0 : 1),
  (err: unknown) => {
    process.stderr.write(`chaos: the run itself failed: ${(err as Error).stack ?? String(err)}\n`);
    print('chaos: 0 passed, 1 failed');
    process.exit(1);
  },
);
