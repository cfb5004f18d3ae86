/**
 * `burnback dev` compiles the services as their images are built (`tsc -b`,
 * incremental: only what changed since the last build) and keeps compiling
 * them as their sources change (`tsc -b --watch`), in a child process
 * (dev-compiler.ts). After each later build it names the services whose
 * compiled code changed, so that they are restarted.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { runtimeClosure, servicesToRestart, type CompilerMessage, type Workspace } from './dev-watch.js';
import { REPO_ROOT } from './local-stack.js';

/** The repository's workspaces (root package.json `workspaces`) with their dependencies (runtimeClosure follows those that are workspaces). */
export function readWorkspaces(root: string = REPO_ROOT): Workspace[] {
  const json = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8')) as Record<string, unknown>;
  return (json('package.json').workspaces as string[]).map((dir) => {
    const pkg = json(`${dir}/package.json`) as { name: string; dependencies?: Record<string, string> };
    return { dir, name: pkg.name, dependencies: Object.keys(pkg.dependencies ?? {}) };
  });
}

export interface ServiceCompiler {
  /** The first build: resolves once the services' dist/ is current, with its error count and how long it took. */
  firstBuild: Promise<{ errors: number; ms: number }>;
  stop(): Promise<void>;
}

/**
 * Forks the compiler over `services/<service>` of each service (tsc builds the
 * packages they reference first). Diagnostics are printed as `tsc` lines; after
 * each build but the first, `onChange` gets the services whose compiled code
 * (or a package's they load) changed.
 */
export function startServiceCompiler(opts: {
  services: readonly string[];
  print: (line: string) => void;
  onChange: (services: string[]) => void;
  /** The repository (default: this one). */
  root?: string;
}): ServiceCompiler {
  const root = opts.root ?? REPO_ROOT;
  const workspaces = readWorkspaces(root);
  const closures = Object.fromEntries(opts.services.map((s) => [s, runtimeClosure(workspaces, `services/${s}`)]));
  const started = Date.now();
  const tsc = (line: string) => opts.print(`tsc       ${line}`);
  // As this module runs: from source (npm start runs the CLI through tsx), the compiler needs tsx too.
  const entry = join(__dirname, `dev-compiler${extname(__filename)}`);
  const child: ChildProcess = fork(
    entry,
    opts.services.map((s) => `services/${s}`),
    {
      cwd: root,
      // tsx by path: the compiler's working directory is `root`, which need not hold node_modules.
      execArgv: entry.endsWith('.ts') ? ['--conditions=@burnback/source', '--import', pathToFileURL(require.resolve('tsx')).href] : [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Its own process group, like the services: Ctrl-C reaches only `burnback dev`, which stops it.
      detached: true,
    },
  );
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', tsc);
  let stopping = false;
  let first = true;
  const firstBuild = new Promise<{ errors: number; ms: number }>((resolveBuild, rejectBuild) => {
    child.on('message', (message: CompilerMessage) => {
      if (message.kind === 'diagnostic') {
        for (const line of message.text.split('\n')) tsc(line);
        return;
      }
      if (first) {
        first = false;
        resolveBuild({ errors: message.errors, ms: Date.now() - started });
        return;
      }
      const changed = message.changed.map((file) => relative(root, file));
      const services = servicesToRestart(changed, closures);
      if (services.length > 0) opts.onChange(services);
    });
    child.once('exit', (code, signal) => {
      if (first) rejectBuild(new Error(`the compiler exited (${code ?? signal}) before its first build`));
      else if (!stopping) opts.print(`burnback  the compiler exited (${code ?? signal}): changes are no longer picked up`);
    });
  });
  return {
    firstBuild,
    stop: () =>
      new Promise<void>((done) => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
