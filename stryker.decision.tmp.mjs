import base from './stryker.config.mjs';
export default {
  ...base,
  mutate: ['packages/policy/src/**/*.ts', '!**/*.test.ts', '!**/index.ts'],
  incrementalFile: 'stryker.incremental.decision.json',
  reporters: ['clear-text', 'json', 'progress'],
  jsonReporter: { fileName: 'reports/mutation/decision.json' },
};
