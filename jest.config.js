/**
 * Two projects: `unit` (pure, fast, no emulators) and `integration` (`*.int.test.ts`,
 * on the real Pub/Sub + Firestore emulators and gcp-sim, started or reused by globalSetup).
 *
 * We stay CommonJS and let @swc/jest transform TypeScript and the ESM-only
 * dependencies (p-retry and its is-network-error) so jest's CJS module registry can load them.
 */
const esmOnly = ['p-retry', 'is-network-error'];
const shared = {
  testEnvironment: 'node',
  // Resolve @burnback/* workspaces to their TypeScript sources, as tsx and tsc do.
  testEnvironmentOptions: { customExportConditions: ['@burnback/source', 'node', 'require', 'default'] },
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // NodeNext sources import './x.js'; jest resolves that to ./x.ts.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/.stryker-tmp/'],
  // StrykerJS's sandboxes hold a copy of every workspace package: never resolve into them.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
};

module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services,infra,chaos}/**/*.test.ts'],
      testPathIgnorePatterns: [...shared.testPathIgnorePatterns, '\\.int\\.test\\.ts$'],
      // fast-check with a seed fixed per commit (FC_SEED overrides it): the same cases on every run.
      setupFiles: ['<rootDir>/packages/testkit/jest/fast-check.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services}/**/*.int.test.ts'],
      globalSetup: '<rootDir>/packages/testkit/jest/global-setup.ts',
      globalTeardown: '<rootDir>/packages/testkit/jest/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/packages/testkit/jest/integration-setup.ts'],
    },
  ],
};
