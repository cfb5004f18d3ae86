/**
 * `burnback dev`'s compiler (src/dev-build.ts, src/dev-compiler.ts) on a tiny
 * repository of its own: it builds what is missing, then, as sources change,
 * names exactly the services whose compiled code changed (a shared package: each
 * service that loads it; one service's own code: that one), printing tsc's errors.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startServiceCompiler, type ServiceCompiler } from '../src/dev-build';

const tsconfig = (references: string[] = []) =>
  JSON.stringify({
    compilerOptions: { composite: true, rootDir: 'src', outDir: 'dist', module: 'commonjs', target: 'es2022', types: [], strict: true },
    include: ['src'],
    references: references.map((path) => ({ path })),
  });

/** packages/lib; services/a loads it, services/b does not. */
function tinyRepo(): string {
  const root = mkdtempSync(join(tmpdir(), 'burnback-dev-build-'));
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ private: true, workspaces: ['packages/lib', 'services/a', 'services/b'] }),
    'packages/lib/package.json': JSON.stringify({ name: '@t/lib' }),
    'packages/lib/tsconfig.json': tsconfig(),
    'packages/lib/src/index.ts': 'export const greeting = (who: string): string => `hello ${who}`;\n',
    'services/a/package.json': JSON.stringify({ name: '@t/a', dependencies: { '@t/lib': '0.0.0' } }),
    'services/a/tsconfig.json': tsconfig(['../../packages/lib']),
    'services/a/src/main.ts': "import { greeting } from '../../../packages/lib/src/index';\nexport const main = () => greeting('a');\n",
    'services/b/package.json': JSON.stringify({ name: '@t/b' }),
    'services/b/tsconfig.json': tsconfig(),
    'services/b/src/main.ts': 'export const main = () => 1;\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("burnback dev's compiler", () => {
  let root: string;
  let compiler: ServiceCompiler;
  const output: string[] = [];
  const changes: string[][] = [];
  /** The next onChange after `edit`, within the time a rebuild takes on a slow machine. */
  const changeAfter = async (edit: () => void): Promise<string[]> => {
    const seen = changes.length;
    edit();
    const deadline = Date.now() + 30_000;
    while (changes.length === seen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return changes[seen] ?? [];
  };

  beforeAll(async () => {
    root = tinyRepo();
    compiler = startServiceCompiler({ root, services: ['a', 'b'], print: (l) => output.push(l), onChange: (s) => changes.push(s) });
    expect(await compiler.firstBuild).toMatchObject({ errors: 0 });
  }, 60_000);

  afterAll(async () => {
    await compiler?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('builds every project the services need before saying the first build is done, and reports no change for it', () => {
    for (const file of ['packages/lib/dist/index.js', 'services/a/dist/main.js', 'services/b/dist/main.js'])
      expect({ file, built: existsSync(join(root, file)) }).toEqual({ file, built: true });
    expect(changes).toEqual([]);
  });

  it('names the services that load a shared package when it changes, and only the service whose own code changed', async () => {
    expect(
      await changeAfter(() =>
        writeFileSync(join(root, 'packages/lib/src/index.ts'), 'export const greeting = (who: string): string => `hi ${who}`;\n'),
      ),
    ).toEqual(['a']);
    expect(await changeAfter(() => writeFileSync(join(root, 'services/b/src/main.ts'), 'export const main = () => 2;\n'))).toEqual(['b']);
  }, 60_000);

  it('prints what tsc reports, and names the service tsc still emitted for', async () => {
    expect(
      await changeAfter(() => writeFileSync(join(root, 'services/b/src/main.ts'), 'export const main = (): number => "three";\n')),
    ).toEqual(['b']);
    expect(output.join('\n')).toMatch(
      /^tsc {7}services\/b\/src\/main\.ts\(1,\d+\): error TS2322: Type 'string' is not assignable to type 'number'\./m,
    );
  }, 60_000);

  it('stops when asked: a later change is no longer compiled', async () => {
    await compiler.stop();
    const before = changes.length;
    writeFileSync(join(root, 'services/b/src/main.ts'), 'export const main = () => 4;\n');
    await new Promise((r) => setTimeout(r, 1500));
    expect(changes).toHaveLength(before);
    expect(output.join('\n')).not.toMatch(/the compiler exited/);
  }, 30_000);
});
