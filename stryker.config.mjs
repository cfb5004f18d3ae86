// Mutation testing of Burnback's pure core (`npm run test:mutation`): the decision
// engine, notification parsing, derived ids, CloudEvents encoding and config parsing.
// A wrong rollback is the worst thing Burnback can do, so the tests of these modules
// must fail when their behaviour changes: the build breaks below 90 %.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { configFile: 'jest.mutation.config.js' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  coverageAnalysis: 'perTest',
  mutate: [
    'packages/policy/src/**/*.ts',
    'services/ingest/src/parse.ts',
    'services/ingest/src/signal.ts',
    'packages/contracts/src/ids.ts',
    'packages/contracts/src/rollout-name.ts',
    'packages/contracts/src/cloudevents.ts',
    'packages/contracts/src/monitoring.ts',
    'packages/contracts/src/policy-settings.ts',
    'packages/platform/src/config.ts',
    'packages/contracts/src/monitoring-filter.ts',
    'packages/contracts/src/bad-requests.ts',
    'packages/contracts/src/storable.ts',
    'services/decider/src/pure/**/*.ts',
    'services/ingest/src/pure/**/*.ts',
    '!**/*.test.ts',
    '!**/index.ts',
  ],
  ignorePatterns: ['dist', 'coverage', 'reports', '.burnback', 'infra', '**/*.tfstate'],
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incremental: true,
  // Committed, so CI on a clean clone re-tests only the mutants whose code or tests changed.
  incrementalFile: 'stryker.incremental.json',
  tempDirName: '.stryker-tmp',
  concurrency: 3,
  timeoutMS: 20000,
};
