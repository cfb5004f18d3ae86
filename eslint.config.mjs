// @ts-check
/**
 * One style source: typescript-eslint (type-aware, so a lost `await` — a lost ack —
 * is an error) and the package boundaries of CONVENTIONS.md: a room imports only
 * the rooms below it, only through their index, and packages/policy stays pure.
 */
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const ours = (...allowed) => ({
  group: ['@burnback/*', ...allowed.map((a) => `!@burnback/${a}`)],
  message: `this package may import only ${allowed.length ? allowed.map((a) => `@burnback/${a}`).join(', ') : 'none of our packages'} (CONVENTIONS.md: the package graph is the architecture)`,
});
// `@burnback/testkit/fixtures` and `@burnback/gcp-sim/notifications` are published entry points (package.json
// "exports"), not deep imports: pure-core tests use the first so they do not load the Google clients the rest of
// testkit needs, and it takes its notification builders from the second for the same reason.
const noDeepImports = {
  group: ['@burnback/*/*', '!@burnback/testkit/fixtures', '!@burnback/gcp-sim/notifications'],
  message: 'use the package through its index.ts (or an entry its package.json exports), never its src/ or dist/',
};
const restrict = (files, ...patterns) => ({
  files,
  ignores: ['**/*.test.ts', '**/test/**'],
  rules: { 'no-restricted-imports': ['error', { patterns: [noDeepImports, ...patterns] }] },
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'reports/**', '.stryker-tmp/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    // tsconfig.tests.json holds every source and test file in one program.
    languageOptions: { parserOptions: { project: ['./tsconfig.tests.json'], tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],
      'import-x/no-cycle': 'error',
      'no-restricted-imports': ['error', { patterns: [noDeepImports] }],
      'no-restricted-syntax': [
        'error',
        {
          // Configured services are a Map (a name from outside never reaches Object.prototype); Object.keys/values/
          // entries of a Map is silently empty, so it is refused wherever the argument is called `services`.
          selector:
            "CallExpression[callee.object.name='Object'][callee.property.name=/^(keys|values|entries)$/]:matches([arguments.0.name='services'], [arguments.0.property.name='services'])",
          message: 'services is a Map: use services.keys(), .values() or .entries() (Object.* of a Map is empty)',
        },
      ],
    },
  },
  restrict(['packages/contracts/src/**'], ours()),
  restrict(['packages/platform/src/**'], ours('contracts')),
  restrict(['packages/gcp-sim/src/**'], ours('contracts')),
  restrict(['packages/emulators/src/**'], ours('contracts')),
  restrict(['packages/testkit/src/**'], ours('contracts', 'platform', 'gcp-sim', 'emulators')),
  // Ingest decides nothing; it only asks the policy which lane an alert goes to (so ingest and the decider agree on it), and
  // whether a freeze window is in force (so the console and the decider agree on it).
  {
    ...restrict(['services/ingest/src/**'], ours('contracts', 'platform', 'policy')),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [noDeepImports, ours('contracts', 'platform', 'policy')],
          paths: [
            {
              name: '@burnback/policy',
              allowImportNames: ['laneOf', 'freezeVerdict'],
              message:
                'ingest decides nothing: from @burnback/policy it may import only laneOf (which lane an alert goes to) and freezeVerdict (whether a freeze is in force, for the console)',
            },
          ],
        },
      ],
    },
  },
  // The notifier only reads events and talks HTTP: it never decides, so it never needs the policy.
  restrict(['services/notifier/src/**'], ours('contracts', 'platform')),
  // The decider decides with the policy; the executor reads Cloud Deploy's history with the same pure functions
  // (which release serves, which one to return to), so the two can never disagree on what serves.
  restrict(['services/decider/src/**', 'services/executor/src/**'], ours('contracts', 'platform', 'policy')),
  // The CLI ships (`npm start`, the cli image); the test kit does not. What the CLI needs from the emulators
  // (start, reuse, stop, topics) is @burnback/emulators, and the notifications it simulates are gcp-sim's.
  restrict(
    ['packages/cli/src/**'],
    ours('contracts', 'policy', 'platform', 'gcp-sim', 'emulators', 'ingest', 'decider', 'executor', 'notifier'),
    {
      group: ['@burnback/testkit', '@burnback/testkit/*'],
      message: 'the shipped CLI never imports the test kit: what it needs belongs in a package named for it (e.g. @burnback/emulators)',
    },
  ),
  {
    // Decisions are a pure function of (state, event): no I/O, no clock, no environment.
    files: ['packages/policy/src/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            noDeepImports,
            ours('contracts'),
            {
              group: ['@google-cloud/*', 'node:*', 'fs', 'http', 'https', 'net', 'child_process', 'crypto', 'os'],
              message: 'packages/policy is pure: no I/O and no Google clients',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'packages/policy is pure: no process.env' },
        { name: 'fetch', message: 'packages/policy is pure: no I/O' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'packages/policy is pure: use the event time, never the wall clock',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'packages/policy is pure: use the event time, never the wall clock',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'packages/policy is pure: no randomness',
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', 'packages/testkit/jest/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
