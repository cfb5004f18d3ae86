// Mutation testing of Burnback's pure core (`npm run test:mutation`, which runs
// scripts/mutation.mjs): the decision engine and the services' pure modules, and
// what reads input (notification parsing, derived ids, CloudEvents, config). A wrong
// rollback is the worst thing Burnback can do, so the tests of these modules must
// fail when their behaviour changes: scripts/mutation-score.mjs fails CI below 90 %
// for any file or 93 % in total.
//
// Three shards, each with its own committed incremental baseline: the decision (policy,
// the services' pure modules, replay's comparison), ingest's parsing, and the contracts
// with config. Every test loads the contracts, so mutating them (their schemas) makes
// every test slower: kept apart, the other shards run several times faster, and a change
// to one shard's code re-runs only that shard's mutants. BURNBACK_MUTATION_SHARD picks one.

/** The files each shard mutates, in the order `npm run test:mutation` runs them (the quickest first). */
export const SHARDS = {
  ingest: ['services/ingest/src/parse.ts', 'services/ingest/src/signal.ts', 'services/ingest/src/pure/**/*.ts'],
  decision: [
    'packages/policy/src/**/*.ts',
    'services/decider/src/pure/**/*.ts',
    'services/executor/src/pure/**/*.ts',
    'services/notifier/src/pure/**/*.ts',
    'packages/cli/src/replay/compare.ts',
  ],
  contracts: [
    'packages/contracts/src/ids.ts',
    'packages/contracts/src/rollout-name.ts',
    'packages/contracts/src/cloudevents.ts',
    'packages/contracts/src/monitoring.ts',
    'packages/contracts/src/policy-settings.ts',
    'packages/contracts/src/monitoring-filter.ts',
    'packages/contracts/src/bad-requests.ts',
    'packages/contracts/src/storable.ts',
    'packages/platform/src/config.ts',
    'packages/platform/src/config-env.ts',
    'packages/platform/src/notify-config.ts',
  ],
};

const shard = process.env.BURNBACK_MUTATION_SHARD ?? 'decision';
if (!(shard in SHARDS)) throw new Error(`BURNBACK_MUTATION_SHARD must be one of ${Object.keys(SHARDS).join(', ')} (got ${shard})`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  // The contracts shard runs only the tests about the contracts, the config and parsing (see that file's header).
  jest: { configFile: shard === 'contracts' ? 'jest.mutation.contracts.config.js' : 'jest.mutation.config.js' },
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant: a schema, a table of defaults) is reached by every test, so
  // StrykerJS runs the whole suite for each one. The behaviour those constants give is held by the tests
  // of the functions that read them.
  ignoreStatic: true,
  mutate: [...SHARDS[shard], '!**/*.test.ts', '!**/index.ts'],
  ignorePatterns: ['dist', 'coverage', 'reports', '.burnback', 'infra', '**/*.tfstate'],
  // The floors are enforced per file and in total by scripts/mutation-score.mjs over both shards.
  thresholds: { high: 95, low: 90, break: null },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${shard}/index.html` },
  jsonReporter: { fileName: `reports/mutation/${shard}.json` },
  incremental: true,
  // Committed, so CI on a clean clone re-tests only the mutants whose code or tests changed.
  incrementalFile: `stryker.incremental.${shard}.json`,
  tempDirName: `.stryker-tmp/${shard}`,
  concurrency: 2,
  timeoutMS: 20000,
};
