import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@burnback/cli';

const run = promisify(execFile);

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/** What the type-aware lint of a file under the repository root needs; the rules are the repository's own. */
const LINT_SETUP = ['eslint.config.mjs', 'tsconfig.base.json', 'tsconfig.tests.json', 'package.json'];

/**
 * Lints probe files at their would-be paths in a temporary copy of the lint setup
 * (node_modules linked, not copied), so the boundary rules apply to them as to real
 * sources and the source tree is never written. Returns the messages per probe.
 */
async function lintProbes(probes: Record<string, string>): Promise<Record<string, LintMessage[]>> {
  const root = mkdtempSync(join(tmpdir(), 'burnback-lint-probes-'));
  try {
    for (const file of LINT_SETUP) copyFileSync(join(REPO_ROOT, file), join(root, file));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    for (const [p, code] of Object.entries(probes)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), code);
    }
    const paths = Object.keys(probes).map((p) => join(root, p));
    const { stdout } = await run(join(REPO_ROOT, 'node_modules/.bin/eslint'), ['--format', 'json', '--no-warn-ignored', ...paths], {
      cwd: root,
    }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '[]' }));
    const results = JSON.parse(stdout) as Array<{ filePath: string; messages: LintMessage[] }>;
    return Object.fromEntries(Object.keys(probes).map((p) => [p, results.find((r) => r.filePath === join(root, p))?.messages ?? []]));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('the package boundaries are enforced by the linter', () => {
  let messages: Record<string, LintMessage[]>;
  beforeAll(async () => {
    messages = await lintProbes({
      'packages/policy/src/zz-probe-impure.ts': [
        "import { readFileSync } from 'node:fs';",
        "import { createLogger } from '@burnback/platform';",
        'export const probe = () => [readFileSync, createLogger, Date.now(), new Date(), process.env.X, Math.random()];',
        '',
      ].join('\n'),
      'services/ingest/src/zz-probe-service.ts': [
        "import { createDeciderHandler } from '@burnback/decider';",
        "import { decide, laneOf } from '@burnback/policy';",
        "import { loadConfig } from '@burnback/platform/src/config';",
        'export const probe = [createDeciderHandler, decide, laneOf, loadConfig];',
        '',
      ].join('\n'),
      'services/notifier/src/zz-probe-notifier.ts': [
        "import { laneOf } from '@burnback/policy';",
        'export const probe = [laneOf];',
        '',
      ].join('\n'),
      'packages/cli/src/zz-probe-testkit.ts': [
        "import { ensureEmulator } from '@burnback/testkit';",
        "import { openIncident } from '@burnback/testkit/fixtures';",
        "import { EMULATORS } from '@burnback/emulators';",
        "import { closedIncident } from '@burnback/gcp-sim';",
        'export const probe = [ensureEmulator, openIncident, EMULATORS, closedIncident];',
        '',
      ].join('\n'),
      'packages/contracts/src/zz-probe-floating.ts': [
        'async function ack(): Promise<void> {}',
        'export function probe(): void {',
        '  ack();',
        '}',
        '',
      ].join('\n'),
    });
  }, 120_000);

  const rules = (file: string) => messages[file]!.map((m) => `${m.ruleId}: ${m.message}`).join('\n');

  it('keeps packages/policy pure: no node:*, no platform, no clock, no env, no randomness', () => {
    const found = rules('packages/policy/src/zz-probe-impure.ts');
    expect(found).toMatch(/no-restricted-imports: .*'node:fs'.*pure/);
    expect(found).toMatch(/no-restricted-imports: .*@burnback\/platform.*only @burnback\/contracts/);
    expect(found).toMatch(/Date.now|wall clock/);
    expect(found.match(/wall clock/g)).toHaveLength(2);
    expect(found).toMatch(/no-restricted-globals: .*process/);
    expect(found).toMatch(/no randomness/);
  });

  it('keeps services apart: no other service, no policy outside the decider (ingest may ask only for the lane), no deep imports', () => {
    const found = rules('services/ingest/src/zz-probe-service.ts');
    expect(found).toMatch(/@burnback\/decider.*may import only @burnback\/contracts, @burnback\/platform/);
    expect(found).toMatch(/'decide' import from '@burnback\/policy' is restricted.*ingest decides nothing/);
    expect(found).not.toMatch(/'laneOf' import/);
    expect(rules('services/notifier/src/zz-probe-notifier.ts')).toMatch(
      /@burnback\/policy.*may import only @burnback\/contracts, @burnback\/platform/,
    );
    expect(found).toMatch(/@burnback\/platform\/src\/config.*through its index/);
  });

  it('keeps the test kit out of the shipped CLI: emulators and notifications come from their own packages', () => {
    const found = messages['packages/cli/src/zz-probe-testkit.ts']!;
    const about = (module: string) => found.filter((m) => m.message.includes(`'${module}'`)).map((m) => `${m.ruleId}: ${m.message}`);
    expect(about('@burnback/testkit').join('\n')).toMatch(/no-restricted-imports: .*the shipped CLI never imports the test kit/);
    expect(about('@burnback/testkit/fixtures').join('\n')).toMatch(/no-restricted-imports: .*the shipped CLI never imports the test kit/);
    expect(about('@burnback/emulators')).toEqual([]);
    expect(about('@burnback/gcp-sim')).toEqual([]);
  });

  it('flags a floating promise (a lost await is a lost ack)', () => {
    expect(rules('packages/contracts/src/zz-probe-floating.ts')).toMatch(/@typescript-eslint\/no-floating-promises/);
  });
});

describe('the shipped CLI does not depend on the test kit', () => {
  const json = (path: string) => JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as Record<string, unknown>;

  it('neither as a dependency nor as a TypeScript project reference', () => {
    const pkg = json('packages/cli/package.json') as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    expect(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })).not.toContain('@burnback/testkit');
    expect(Object.keys(pkg.dependencies ?? {})).toContain('@burnback/emulators');
    const tsconfig = json('packages/cli/tsconfig.json') as { references?: Array<{ path: string }> };
    expect((tsconfig.references ?? []).map((r) => r.path)).not.toContain('../testkit');
  });
});
