import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

/** Runs a snippet as an ES module in the repository (the scripts are ESM; jest here is CommonJS). */
const esm = (code: string): unknown =>
  JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' }));

/** A StrykerJS JSON report with one file of `killed` killed and `survived` survived mutants. */
function report(files: Record<string, { killed: number; survived: number }>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'burnback-mutation-')), 'report.json');
  const mutants = (killed: number, survived: number) => [
    ...Array.from({ length: killed }, (_, i) => ({
      id: `k${i}`,
      mutatorName: 'X',
      replacement: 'y',
      status: 'Killed',
      location: { start: { line: i + 1, column: 1 } },
    })),
    ...Array.from({ length: survived }, (_, i) => ({
      id: `s${i}`,
      mutatorName: 'ConditionalExpression',
      replacement: 'true',
      status: 'Survived',
      location: { start: { line: 100 + i, column: 1 } },
    })),
  ];
  writeFileSync(
    path,
    JSON.stringify({ files: Object.fromEntries(Object.entries(files).map(([f, c]) => [f, { mutants: mutants(c.killed, c.survived) }])) }),
  );
  return path;
}
const gate = (...args: string[]) =>
  spawnSync(process.execPath, ['scripts/mutation-score.mjs', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, MUTATION_FILE_FLOOR: '', MUTATION_TOTAL_FLOOR: '' },
  });

describe('the mutation gate (scripts/mutation-score.mjs)', () => {
  it('fails when one file is under 90 % even though the total is over 93 %, naming the file and its survivors', () => {
    const path = report({
      'packages/policy/src/release-choice.ts': { killed: 17, survived: 3 },
      'packages/policy/src/decide.ts': { killed: 400, survived: 0 },
    });
    const run = gate(path, '--file-floor', '90', '--total-floor', '93');
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/release-choice\.ts/);
    expect(run.stdout + run.stderr).toMatch(/survived: ConditionalExpression at line 100/);
  });

  it('passes when every file is at 90 % or more and the total at 93 % or more', () => {
    const path = report({ 'a.ts': { killed: 9, survived: 1 }, 'b.ts': { killed: 100, survived: 0 } });
    expect(gate(path, '--file-floor', '90', '--total-floor', '93').status).toBe(0);
  });

  it('fails on the total alone', () => {
    const path = report({ 'a.ts': { killed: 91, survived: 9 } });
    expect(gate(path, '--file-floor', '90', '--total-floor', '93').status).toBe(1);
  });
});

describe("a shard's inputs (scripts/mutation-inputs.mjs)", () => {
  const changes = (recorded: unknown, current: unknown) =>
    esm(
      `import { inputChanges } from './scripts/mutation-inputs.mjs'; console.log(JSON.stringify(inputChanges(${JSON.stringify(recorded)}, ${JSON.stringify(current)})));`,
    ) as {
      force: string[];
      notes: string[];
    };
  const base = {
    files: { 'packages/testkit/src/fixtures.ts': 'aaa', 'jest.config.js': 'bbb' },
    options: 'ooo',
    mutated: ['packages/policy/src/decide.ts'],
    tools: { jest: '30.0.0' },
  };

  it('forces a full run when a fixture, a configuration, the options or a tool changed, or nothing was recorded', () => {
    expect(changes(base, base)).toEqual({ force: [], notes: [] });
    expect(changes(null, base).force).toEqual(['no inputs recorded with the baseline']);
    expect(changes(base, { ...base, files: { ...base.files, 'packages/testkit/src/fixtures.ts': 'ccc' } }).force).toEqual([
      'packages/testkit/src/fixtures.ts: changed',
    ]);
    expect(changes(base, { ...base, options: 'ppp' }).force).toEqual(['stryker.config.mjs: its options changed']);
    expect(changes(base, { ...base, tools: { jest: '30.1.0' } }).force).toEqual(['jest: 30.0.0 → 30.1.0']);
  });

  it('only notes what StrykerJS sees itself: a helper newly used, a file newly gated', () => {
    const later = {
      ...base,
      files: { ...base.files, 'services/x/test/fixtures.ts': 'ddd' },
      mutated: [...base.mutated, 'packages/policy/src/approval.ts'],
    };
    expect(changes(base, later)).toEqual({
      force: [],
      notes: ['services/x/test/fixtures.ts: newly used', 'packages/policy/src/approval.ts: newly gated'],
    });
  });

  it('records the fixtures the gated tests import, and jest.mutation.config.js without its test list', () => {
    const inputs = esm(
      `import { readFileSync } from 'node:fs';
       import { inputsOf, inShard, listRepositoryFiles, strykerOptionsOf } from './scripts/mutation-inputs.mjs';
       const strykerOptions = await strykerOptionsOf('decision');
       const read = (f) => readFileSync(f, 'utf8');
       const i = inputsOf('decision', { listFiles: listRepositoryFiles, inShard, strykerOptions, read });
       const moreTests = (f) => (f === 'jest.mutation.config.js' ? read(f).replace('testMatch: [', "testMatch: ['<rootDir>/x.test.ts', ") : read(f));
       const j = inputsOf('decision', { listFiles: listRepositoryFiles, inShard, strykerOptions, read: moreTests });
       console.log(JSON.stringify({ files: Object.keys(i.files), same: i.files['jest.mutation.config.js'] === j.files['jest.mutation.config.js'], mutated: i.mutated.includes('packages/policy/src/release-choice.ts') }));`,
    ) as { files: string[]; same: boolean; mutated: boolean };
    expect(inputs.files).toEqual(
      expect.arrayContaining(['jest.mutation.config.js', 'packages/testkit/src/fixtures.ts', 'packages/testkit/jest/fast-check.ts']),
    );
    expect(inputs.files.every((f) => !f.endsWith('.test.ts') && !f.startsWith('packages/policy/src/'))).toBe(true);
    expect(inputs.same).toBe(true);
    expect(inputs.mutated).toBe(true);
  });
});
