/**
 * The jest setup of the contracts shard of `npm run test:mutation` (stryker.config.mjs):
 * jest.mutation.config.js with only the tests about the contracts, the config and
 * notification parsing. Every test of the pure core goes through the contracts (an event's
 * schema, an id's rule, a config's parse), so with all of them each contract mutant ran
 * nearly the whole suite (about 13 s a mutant; over four hours for the shard on two
 * cores). A contract's behaviour is held by these tests: a mutant only another module's
 * test would notice is counted as surviving, never as killed.
 */
const base = require('./jest.mutation.config.js');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/packages/contracts/src/**/*.test.ts',
    '<rootDir>/packages/platform/src/config.test.ts',
    '<rootDir>/packages/platform/src/notify-config.test.ts',
    '<rootDir>/services/ingest/test/parse*.test.ts',
    '<rootDir>/services/ingest/test/signal.test.ts',
  ],
};
