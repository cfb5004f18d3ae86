/**
 * The jest setup StrykerJS runs for `npm run test:mutation`: only the unit tests of
 * the pure core (policy, notification parsing, ids, CloudEvents, config parsing),
 * with the same transform as the main config. No emulators, no integration tests.
 */
const { projects } = require('./jest.config.js');

const unit = projects.find((p) => p.displayName === 'unit');

module.exports = {
  ...unit,
  displayName: 'mutation',
  rootDir: __dirname,
  // StrykerJS mutates a copy of the sources (its sandbox), but node_modules/@burnback/* are symlinks to the
  // original workspaces: a test importing '@burnback/contracts' would read the unmutated code, and every mutant
  // there would survive. Resolve the workspaces to the sources next to this file (the sandbox's own).
  moduleNameMapper: {
    ...unit.moduleNameMapper,
    '^@burnback/testkit/fixtures$': '<rootDir>/packages/testkit/src/fixtures.ts',
    '^@burnback/gcp-sim/notifications$': '<rootDir>/packages/gcp-sim/src/cloud-monitoring/notifications.ts',
    '^@burnback/(contracts|policy|platform|testkit)$': '<rootDir>/packages/$1/src/index.ts',
  },
  testMatch: [
    '<rootDir>/packages/policy/src/**/*.test.ts',
    '<rootDir>/packages/contracts/src/**/*.test.ts',
    '<rootDir>/services/ingest/test/parse*.test.ts',
    '<rootDir>/services/ingest/test/signal.test.ts',
    '<rootDir>/packages/platform/src/config.test.ts',
    '<rootDir>/packages/platform/src/notify-config.test.ts',
    '<rootDir>/services/decider/src/pure/**/*.test.ts',
    '<rootDir>/services/ingest/src/pure/**/*.test.ts',
    '<rootDir>/services/executor/src/pure/**/*.test.ts',
    '<rootDir>/services/notifier/src/pure/**/*.test.ts',
    '<rootDir>/packages/cli/src/replay/compare.test.ts',
  ],
};
