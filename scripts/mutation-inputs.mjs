// What a shard's incremental baseline (stryker.incremental.<shard>.json) silently depends on.
//
// StrykerJS's incremental mode re-tests a mutant when its own code or a test that covers it
// changed. It does not see the rest of what decides whether a test kills a mutant: helpers and
// fixtures outside the test files (testkit, a suite's fixtures.ts), which files are gated, the
// jest and StrykerJS configuration, and the versions of the tools and libraries that run them. scripts/mutation.mjs records the hashes of all those in stryker.inputs.<shard>.json
// when a shard's run finishes, and forces a full run of the shard (--force) when they differ.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARDS } from '../stryker.config.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** A mutate pattern (a path, or one ending in a double-star directory and `*.ts`) as a regular expression over paths. */
const patternRegex = (pattern) =>
  new RegExp(
    `^${pattern
      .split('**/')
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
      .join('(?:.*/)?')}$`,
  );
/** Whether a file is one the shard mutates (its tests and index files are not). */
export const inShard = (shard, file) =>
  !file.endsWith('.test.ts') && !file.endsWith('/index.ts') && SHARDS[shard].some((p) => patternRegex(p).test(file));

/** StrykerJS's options for a shard, without what names the shard (its files, reports, baseline, sandbox). */
export const strykerOptionsOf = async (shard) => {
  process.env.BURNBACK_MUTATION_SHARD = shard;
  const { default: options } = await import(`../stryker.config.mjs?shard=${shard}`);
  const rest = { ...options };
  for (const key of ['mutate', 'htmlReporter', 'jsonReporter', 'incrementalFile', 'tempDirName']) delete rest[key];
  return rest;
};

/**
 * The configuration every shard's run reads. jest.mutation.config.js is taken without its
 * testMatch (StrykerJS sees which tests exist itself: a new gated test re-tests the mutants it
 * covers); stryker.config.mjs by its options, not its shard lists (a newly gated file has no
 * baseline, so all its mutants are tested anyway; one no longer gated is dropped by the gate).
 */
const CONFIG_FILES = ['jest.config.js', 'jest.mutation.config.js', 'packages/testkit/jest/fast-check.ts'];
const withoutTestMatch = (text) => text.replace(/testMatch:\s*\[[^\]]*\]/, 'testMatch: […]');
/** The tools and libraries whose version changes what a run kills. */
const TOOLS = [
  '@stryker-mutator/core',
  '@stryker-mutator/jest-runner',
  '@stryker-mutator/instrumenter',
  'jest',
  '@swc/jest',
  '@swc/core',
  'fast-check',
  'zod',
  'yaml',
];

const sha = (text) => createHash('sha256').update(text).digest('hex');
const isFile = (path) => existsSync(path) && statSync(path).isFile();

/** The mutation config's test globs as regular expressions over repository paths. */
function testPatterns(read, jestConfig) {
  const text = read(jestConfig);
  const globs = [...text.matchAll(/'<rootDir>\/([^']+\.test\.ts)'/g)].map((m) => m[1]);
  return globs.map(
    (g) =>
      new RegExp(
        `^${g
          .split('**/')
          .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
          .join('(?:.*/)?')}$`,
      ),
  );
}

/** Resolves an import specifier from `from` to a repository TypeScript file, or null (a library: see TOOLS). */
function resolveImport(specifier, from, exists) {
  const candidates = [];
  if (specifier.startsWith('.')) {
    const base = resolve(dirname(join(ROOT, from)), specifier.replace(/\.js$/, ''));
    candidates.push(`${base}.ts`, join(base, 'index.ts'), base);
  } else if (specifier === '@burnback/testkit/fixtures') candidates.push(join(ROOT, 'packages/testkit/src/fixtures.ts'));
  else if (specifier === '@burnback/gcp-sim/notifications')
    candidates.push(join(ROOT, 'packages/gcp-sim/src/cloud-monitoring/notifications.ts'));
  else if (specifier.startsWith('@burnback/')) {
    const name = specifier.slice('@burnback/'.length);
    candidates.push(join(ROOT, 'packages', name, 'src/index.ts'), join(ROOT, 'services', name, 'src/index.ts'));
  }
  const found = candidates.map((c) => relative(ROOT, c)).find(exists);
  return found ?? null;
}

/** The repository files the gated tests reach through their imports (the tests included). */
function reachedFrom(tests, read, exists) {
  const seen = new Set();
  const queue = [...tests];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = read(file);
    if (text === null) continue;
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*|jest\.mock\(\s*)'([^']+)'/g)) {
      const target = resolveImport(m[1], file, exists);
      if (target && !seen.has(target)) queue.push(target);
    }
  }
  return seen;
}

/** The repository's files (tracked, and new ones not ignored), repository-relative. */
export const listRepositoryFiles = () =>
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f && isFile(join(ROOT, f)));

/** The gated test files: every `*.test.ts` the shard's jest config's testMatch names. */
function gatedTests(files, read, jestConfig) {
  const patterns = testPatterns(read, jestConfig);
  return files.filter((f) => patterns.some((p) => p.test(f)));
}

/** A file that exists for the tests: the test kit, a suite's helpers and fixtures, and the notifications gcp-sim builds for them. */
const isTestHelper = (file) =>
  !file.endsWith('.test.ts') &&
  (file.startsWith('packages/testkit/') ||
    /^(packages|services)\/[^/]+\/test\//.test(file) ||
    file === 'packages/gcp-sim/src/cloud-monitoring/notifications.ts');

/**
 * The inputs of `shard`, each with its hash: the configuration, the tools' versions, the
 * shard's file set (which files it mutates: adding one is a change), and every test helper
 * or fixture the gated tests import (StrykerJS diffs the tests and the mutated files
 * themselves, not these).
 */
export function inputsOf(shard, { listFiles, inShard, read = (f) => readFileSync(join(ROOT, f), 'utf8'), strykerOptions }) {
  const all = listFiles();
  const present = new Set(all);
  // A shard may run its own jest setup (the contracts shard: jest.mutation.contracts.config.js, a subset of the tests).
  const jestConfig = strykerOptions?.jest?.configFile ?? 'jest.mutation.config.js';
  const tests = gatedTests(all, read, jestConfig);
  const files = {};
  const configs = CONFIG_FILES.includes(jestConfig) ? CONFIG_FILES : [...CONFIG_FILES, jestConfig];
  for (const file of [...configs, ...[...reachedFrom(tests, read, (f) => present.has(f))].filter(isTestHelper)].sort()) {
    const text = read(file);
    if (text !== null) files[file] = sha(file.startsWith('jest.mutation') ? withoutTestMatch(text) : text);
  }
  const lock = JSON.parse(read('package-lock.json'));
  const tools = Object.fromEntries(TOOLS.map((t) => [t, lock.packages?.[`node_modules/${t}`]?.version ?? null]));
  return { files, options: sha(JSON.stringify(strykerOptions)), mutated: all.filter((f) => inShard(shard, f)).sort(), tools };
}

/**
 * What differs between the recorded inputs and the current ones: `force` lists what makes the
 * baseline untrustworthy (a helper, fixture or configuration whose content changed, a tool's
 * version, the StrykerJS options), `notes` what StrykerJS handles itself (a newly used helper
 * comes with a changed test; a newly gated file has no results to reuse).
 */
export function inputChanges(recorded, current) {
  if (!recorded) return { force: ['no inputs recorded with the baseline'], notes: [] };
  const force = [];
  const notes = [];
  for (const [file, hash] of Object.entries(current.files))
    if (recorded.files?.[file] === undefined) notes.push(`${file}: newly used`);
    else if (recorded.files[file] !== hash) force.push(`${file}: changed`);
  for (const file of Object.keys(recorded.files ?? {})) if (current.files[file] === undefined) notes.push(`${file}: no longer used`);
  if (recorded.options !== current.options) force.push('stryker.config.mjs: its options changed');
  for (const [tool, version] of Object.entries(current.tools))
    if (recorded.tools?.[tool] !== version) force.push(`${tool}: ${recorded.tools?.[tool] ?? 'none'} → ${version}`);
  const before = new Set(recorded.mutated ?? []);
  const now = new Set(current.mutated);
  for (const file of now) if (!before.has(file)) notes.push(`${file}: newly gated`);
  for (const file of before) if (!now.has(file)) notes.push(`${file}: no longer gated`);
  return { force, notes };
}

export const inputsFileOf = (shard) => `stryker.inputs.${shard}.json`;
