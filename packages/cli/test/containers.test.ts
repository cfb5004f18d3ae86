/**
 * Dockerfile, .dockerignore and docker-compose.yml against the code: the
 * compose stack must be the stack `npm start` runs (ports, environment,
 * emulators, project, token), and each image must hold and run what
 * `npm run build` emits. The truth comes from the code (LOCAL_PORTS,
 * EMULATORS, the config readers' source, tsc's own view of each tsconfig),
 * never from literals repeated here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix, relative } from 'node:path';
import ts from 'typescript';
import { DEFAULT_PROJECT, LOCAL_PORTS, LOCAL_WEBHOOK_TOKEN, REPO_ROOT } from '@burnback/cli';
import { ConfigError, heapBoundMiB, loadConfig, NON_HEAP_ALLOWANCE_MIB, ServiceRuntime, serviceNodeOptions } from '@burnback/platform';
import { EMULATORS } from '@burnback/emulators';
import {
  checkAddresses,
  checkBuildStage,
  checkCommands,
  checkComposeBuilds,
  checkDockerignore,
  checkEmulators,
  checkEnvKnown,
  checkNodeVersion,
  checkRuntimeStage,
  checkServiceEnv,
  checkServicePorts,
  checkServiceRuntime,
  checkServiceTargets,
  checkTopologyStep,
  composeMemoryMiB,
  containerEnv,
  imageFile,
  nodeScript,
  parseCompose,
  parseDockerfile,
  resolveStage,
  runnableStages,
  type ComposeService,
  type Dockerfile,
  type EmittedBy,
} from './containers-checks';

// ─────────────────────────── the truth, from the code ───────────────────────────

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const rel = (abs: string): string => relative(REPO_ROOT, abs).split('\\').join('/');
/** The variables one source text reads, by a pattern whose first non-empty group is the name. */
const namesIn = (text: string, pattern: RegExp): Set<string> => new Set([...text.matchAll(pattern)].map((m) => m.slice(1).find(Boolean)!));
/** `KEY:` lines of the object literal that follows `opening` in `text`. */
const objectKeys = (text: string, opening: string): string[] => {
  const start = text.indexOf(opening);
  if (start < 0) throw new Error(`cannot find \`${opening}\``);
  const rest = text.slice(start + opening.length);
  const body = rest.slice(0, rest.search(/\n\s*\}\)?;/));
  return [...body.matchAll(/^\s*([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
};
const filesUnder = (dir: string): string[] =>
  readdirSync(join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(posix.join(dir, e.name)) : [posix.join(dir, e.name)],
  );

interface RootPackage {
  engines: { node: string };
  workspaces: string[];
  scripts: Record<string, string>;
}
const rootPackage = JSON.parse(read('package.json')) as RootPackage;
const workspaces = rootPackage.workspaces.map((dir) => {
  const pkg = JSON.parse(read(`${dir}/package.json`)) as { name: string; exports: { '.': { default: string } } };
  return { dir, name: pkg.name, entry: pkg.exports['.'].default };
});

/** tsc's own answer to "which source becomes which .js", for every project `npm run build` (tsc -b) builds. */
function tscBuild(): { emitted: Map<string, string>; projects: string[]; configFiles: Set<string> } {
  const [, rootConfig = ''] = /\btsc -b (\S+)/.exec(rootPackage.scripts.build ?? '') ?? [];
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  };
  const emitted = new Map<string, string>();
  const configFiles = new Set<string>([rootConfig]);
  const projects: string[] = [];
  const queue = [join(REPO_ROOT, rootConfig)];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const parsed = ts.getParsedCommandLineOfConfigFile(file, {}, host)!;
    configFiles.add(rel(file));
    for (const extended of (parsed.options.configFile as ts.TsConfigSourceFile | undefined)?.extendedSourceFiles ?? [])
      configFiles.add(rel(extended));
    for (const ref of parsed.projectReferences ?? []) {
      const refFile = ref.path.endsWith('.json') ? ref.path : join(ref.path, 'tsconfig.json');
      if (!configFiles.has(rel(refFile)) && !queue.includes(refFile)) queue.push(refFile);
    }
    if (parsed.fileNames.length === 0) continue;
    projects.push(rel(dirname(file)));
    for (const source of parsed.fileNames)
      for (const out of ts.getOutputFileNames(parsed, source, !ts.sys.useCaseSensitiveFileNames))
        if (out.endsWith('.js')) emitted.set(rel(out), rel(source));
  }
  return { emitted, projects, configFiles };
}
const build = tscBuild();
const emittedBy: EmittedBy = (jsPath) => build.emitted.get(jsPath);

/** Every variable loadConfig() parses (the keys of its Env schema). */
const platformVars = objectKeys(read('packages/platform/src/config-env.ts'), 'export const Env = z.object({');
/** What gcp-sim's standalone main reads (env.X, or env plus a 'X' key). */
const simVars = namesIn(read('packages/gcp-sim/src/config.ts'), /\benv\.([A-Z][A-Z0-9_]*)|\benv, '([A-Z][A-Z0-9_]*)'/g);
/** What the burnback command reads. */
const cliVars = namesIn(filesUnder('packages/cli/src').map(read).join('\n'), /process\.env\.([A-Z][A-Z0-9_]*)/g);
/** What the Google clients' metadata-server detection (gcp-metadata, via google-auth-library) reads. */
const googleClientVars = (() => {
  // Resolved through the client we ship (npm may not hoist google-auth-library to the root).
  const fromPubSub = createRequire(createRequire(join(REPO_ROOT, 'packages/platform/package.json')).resolve('@google-cloud/pubsub'));
  const fromAuth = createRequire(fromPubSub.resolve('google-auth-library'));
  const text = readFileSync(fromAuth.resolve('gcp-metadata'), 'utf8');
  return namesIn(text, /process\.env\.(METADATA_SERVER_DETECTION)\b/g);
})();
/** Variables the code run by each image reads, keyed by the workspace folder of the script the image runs. */
const readByWorkspace = (dir: string): Set<string> =>
  dir.startsWith('services/')
    ? new Set([...platformVars, ...googleClientVars])
    : dir === 'packages/gcp-sim'
      ? simVars
      : dir === 'packages/cli'
        ? new Set([...cliVars, ...googleClientVars])
        : new Set();

const localStackText = read('packages/cli/src/local-stack.ts');
/** What startLocalStack() puts in each service's environment (its baseEnv, plus PORT). */
const localStackEnv = [
  ...objectKeys(localStackText, 'const baseEnv: NodeJS.ProcessEnv = {'),
  ...(/\bPORT: String\(/.test(localStackText) ? ['PORT'] : []),
];
/** The Burnback services (services/* workspaces), which npm start runs as their own processes. */
const serviceNames = rootPackage.workspaces.filter((w) => w.startsWith('services/')).map((w) => posix.basename(w));
/** Services whose code uses the webhook token. */
const webhookServices = serviceNames.filter((s) => filesUnder(`services/${s}/src`).some((f) => read(f).includes('webhookToken')));
/** LOCAL_PORTS under compose's service names (gcpSim → gcp-sim). */
const hostPorts: Record<string, number> = Object.fromEntries(
  Object.entries(LOCAL_PORTS).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v]),
);
const emulatorFacts = Object.fromEntries(
  Object.values(EMULATORS).map((spec) => [spec.name, { args: spec.args, port: Number(spec.host.split(':').pop()), envVar: spec.envVar }]),
);

const dockerfileText = read('Dockerfile');
const composeText = read('docker-compose.yml');
const dockerignore = read('.dockerignore').split('\n');
const dockerfile = parseDockerfile(dockerfileText);
const compose = parseCompose(composeText);

const targetOf = (s: ComposeService) => s.build?.target ?? '';
const workspaceOfTarget = (df: Dockerfile, target: string): string => {
  const stage = resolveStage(df, target);
  const file = stage && imageFile(df, target, posix.resolve(stage.workdir, nodeScript(stage.command) ?? ''));
  return file?.kind === 'context' ? file.path.replace(/\/dist\/.*$/, '') : '';
};
const readBy = (df: Dockerfile): Record<string, Set<string>> =>
  Object.fromEntries(runnableStages(df).map((s) => [s.name, readByWorkspace(workspaceOfTarget(df, s.name))]));
const listensOn = (service: ComposeService): number[] =>
  emulatorFacts[service.name]
    ? [emulatorFacts[service.name]!.port]
    : [containerEnv(service, dockerfile).PORT, containerEnv(service, dockerfile).GCP_SIM_PORT].filter(Boolean).map(Number);

/** The repo path an absolute path of an image comes from (e.g. BURNBACK_CONFIG=/app/config/local.yaml → config/local.yaml). */
const repoPathInImage = (target: string, path: string): string | null => {
  const file = imageFile(dockerfile, target, path);
  return file.kind === 'context' ? file.path : null;
};
/** A service container's environment as loadConfig() would see it in the image, with paths mapped back into the repo. */
const envForLoadConfig = (name: string): NodeJS.ProcessEnv => {
  const env = { ...containerEnv(compose[name]!, dockerfile) };
  const configPath = repoPathInImage(targetOf(compose[name]!), env.BURNBACK_CONFIG ?? '');
  if (configPath) env.BURNBACK_CONFIG = join(REPO_ROOT, configPath);
  return env;
};
const configErrorOf = (env: NodeJS.ProcessEnv): ConfigError | null => {
  try {
    loadConfig(env);
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
};

// ─────────────────────────────────── tests ───────────────────────────────────

describe('the truth these tests hold the container files to is found in the code', () => {
  it('finds what loadConfig, gcp-sim, the cli, the Google clients and the local stack read', () => {
    expect(platformVars).toEqual(expect.arrayContaining(['GOOGLE_CLOUD_PROJECT', 'BURNBACK_CONFIG', 'PORT']));
    expect([...simVars]).toEqual(expect.arrayContaining(['GCP_SIM_HOST', 'GCP_SIM_PORT', 'GOOGLE_CLOUD_PROJECT']));
    expect([...cliVars]).toEqual(expect.arrayContaining(['PUBSUB_EMULATOR_HOST', 'GOOGLE_CLOUD_PROJECT']));
    expect([...googleClientVars]).toEqual(['METADATA_SERVER_DETECTION']);
    expect(localStackEnv).toEqual(expect.arrayContaining(['GOOGLE_CLOUD_PROJECT', 'BURNBACK_CONFIG', 'PORT']));
    expect(serviceNames).toEqual(expect.arrayContaining(['ingest', 'decider', 'executor', 'notifier']));
    expect(webhookServices.length).toBeGreaterThan(0);
  });

  it('builds every workspace with npm run build and sees each Burnback service read its config through loadConfig', () => {
    expect(build.projects.sort()).toEqual([...rootPackage.workspaces].sort());
    for (const name of serviceNames)
      expect(read(`services/${name}/src/main.ts`)).toMatch(/import \{[^}]*\bloadConfig\b[^}]*\} from '@burnback\/platform'/);
  });
});

describe('the Dockerfile builds what npm run build emits and runs it as production', () => {
  it('uses the Node major of package.json engines', () => {
    expect(checkNodeVersion(dockerfile, rootPackage.engines.node)).toEqual([]);
  });

  it('installs from every workspace manifest before copying sources, then builds and prunes dev dependencies', () => {
    expect(checkBuildStage(dockerfile, rootPackage.workspaces, [...build.configFiles])).toEqual([]);
  });

  it('gives every image node_modules with the workspace links and every workspace package.json and compiled entry point', () => {
    const targets = runnableStages(dockerfile).map((s) => s.name);
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.flatMap((t) => checkRuntimeStage(dockerfile, t, workspaces, emittedBy))).toEqual([]);
  });

  it('runs in each target a dist/ file that tsc compiles from an existing src/ file', () => {
    expect(checkCommands(dockerfile, emittedBy)).toEqual([]);
    for (const stage of runnableStages(dockerfile)) {
      const source = emittedBy(repoPathInImage(stage.name, posix.resolve(stage.workdir, nodeScript(stage.command)!)) ?? '');
      expect(source && existsSync(join(REPO_ROOT, source))).toBeTruthy();
    }
  });

  it('has a target for each Burnback service, gcp-sim and the cli', () => {
    const scripts = runnableStages(dockerfile).map((s) => workspaceOfTarget(dockerfile, s.name));
    expect(scripts.sort()).toEqual([...serviceNames.map((s) => `services/${s}`), 'packages/gcp-sim', 'packages/cli'].sort());
  });

  it("names each Burnback service's target after it and runs that service's own dist/main.js there", () => {
    expect(checkServiceTargets(dockerfile, compose, serviceNames, emittedBy)).toEqual([]);
  });

  it('never sets METADATA_SERVER_DETECTION, which would stop Cloud Run finding its metadata server', () => {
    const set = dockerfile.stages.flatMap((s) =>
      s.instructions.filter((i) => /^(ENV|ARG)$/.test(i.op) && i.args.includes('METADATA_SERVER_DETECTION')),
    );
    expect(set).toEqual([]);
    expect(Object.keys(dockerfile.globalArgs)).not.toContain('METADATA_SERVER_DETECTION');
  });

  it('exposes the port each service listens on by default', () => {
    const defaultPort = loadConfig({ GOOGLE_CLOUD_PROJECT: DEFAULT_PROJECT, BURNBACK_CONFIG: join(REPO_ROOT, 'config/local.yaml') }).port;
    for (const stage of runnableStages(dockerfile)) {
      const ws = workspaceOfTarget(dockerfile, stage.name);
      if (ws.startsWith('services/')) expect({ [stage.name]: stage.expose }).toEqual({ [stage.name]: [String(defaultPort)] });
      if (ws === 'packages/gcp-sim') expect({ [stage.name]: stage.expose }).toEqual({ [stage.name]: [stage.env.GCP_SIM_PORT] });
    }
  });
});

/** What the build reads from its context: manifests, every tsconfig and source tsc -b compiles, config/. */
const contextNeeded = [
  'package.json',
  'package-lock.json',
  ...build.configFiles,
  ...rootPackage.workspaces.map((w) => `${w}/package.json`),
  ...build.emitted.values(),
  ...filesUnder('config'),
];
/** What must not reach the build: local installs, build output, git. */
const contextUnwanted = [
  'node_modules/yaml/package.json',
  '.git/HEAD',
  ...rootPackage.workspaces.flatMap((w) => [`${w}/dist/index.js`, `${w}/tsconfig.tsbuildinfo`, `${w}/node_modules/x/package.json`]),
];

describe('the build context holds what the build needs and nothing local', () => {
  it('lets in every source, manifest and tsconfig the build compiles, and the config, and keeps out node_modules and build output', () => {
    expect(checkDockerignore(dockerignore, contextNeeded, contextUnwanted)).toEqual([]);
  });

  it('copies from the build context only paths that exist in the repo', () => {
    const sources = dockerfile.stages.flatMap((s) =>
      resolveStage(dockerfile, s.name)!
        .copies.filter((c) => c.from === null)
        .flatMap((c) => c.sources),
    );
    expect(sources.filter((s) => !existsSync(join(REPO_ROOT, s)))).toEqual([]);
  });
});

describe('docker-compose.yml runs the stack npm start runs', () => {
  it('builds each of its images from a target the Dockerfile defines', () => {
    expect(checkComposeBuilds(compose, dockerfile)).toEqual([]);
  });

  it('runs every Burnback service npm start runs, each from the target of its own name', () => {
    const started = Object.keys(hostPorts).filter((name) => serviceNames.includes(name));
    expect(started.sort()).toEqual([...serviceNames].sort());
    for (const name of serviceNames) expect({ [name]: targetOf(compose[name]!) }).toEqual({ [name]: name });
  });

  it('runs the Pub/Sub and Firestore emulators as the local stack does, on the same ports, with a healthcheck', () => {
    expect(checkEmulators(compose, emulatorFacts, DEFAULT_PROJECT)).toEqual([]);
    for (const name of serviceNames)
      for (const [emulator, facts] of Object.entries(emulatorFacts))
        expect({ [name]: compose[name]?.environment[facts.envVar] }).toEqual({ [name]: `${emulator}:${facts.port}` });
  });

  it('publishes every service on its LOCAL_PORTS port, probing /healthz with node', () => {
    expect(checkServicePorts(compose, dockerfile, hostPorts)).toEqual([]);
  });

  it('sets in each container only variables that its code or the Google clients read', () => {
    expect(checkEnvKnown(compose, readBy(dockerfile))).toEqual([]);
  });

  it('gives each Burnback service the environment of startLocalStack, in DEFAULT_PROJECT, with LOCAL_WEBHOOK_TOKEN', () => {
    expect(
      checkServiceEnv(compose, serviceNames, {
        localStackEnv,
        projectId: DEFAULT_PROJECT,
        webhookToken: LOCAL_WEBHOOK_TOKEN,
        webhookServices,
      }),
    ).toEqual([]);
    for (const name of webhookServices) expect(compose[name]!.environment.BURNBACK_WEBHOOK_TOKEN).toBe(LOCAL_WEBHOOK_TOKEN);
    for (const name of serviceNames) expect(compose[name]!.environment.METADATA_SERVER_DETECTION).toBe('none');
  });

  it('has each Burnback service container listen on every interface (the servers default to loopback, which a published port cannot reach)', () => {
    // The default is loopback: without the setting a container would be unreachable from its published port and healthcheck.
    expect(loadConfig({ GOOGLE_CLOUD_PROJECT: DEFAULT_PROJECT, BURNBACK_CONFIG: join(REPO_ROOT, 'config/local.yaml') }).listenHost).toBe(
      '127.0.0.1',
    );
    for (const name of serviceNames) {
      expect({ [name]: compose[name]!.environment.BURNBACK_LISTEN_HOST }).toEqual({ [name]: '0.0.0.0' });
      // The image says so too (Cloud Run runs the image without compose), and loadConfig reads it.
      expect({ [name]: resolveStage(dockerfile, targetOf(compose[name]!))!.env.BURNBACK_LISTEN_HOST }).toEqual({ [name]: '0.0.0.0' });
      expect({ [name]: loadConfig(envForLoadConfig(name)).listenHost }).toEqual({ [name]: '0.0.0.0' });
    }
  });

  it('accepts unsigned Pub/Sub pushes only in the local front door, never in the image', () => {
    for (const name of serviceNames)
      expect({ [name]: compose[name]!.environment.BURNBACK_PUSH_ALLOW_UNSIGNED }).toEqual({
        [name]: webhookServices.includes(name) ? 'true' : undefined,
      });
    expect(dockerfileText).not.toContain('BURNBACK_PUSH_ALLOW_UNSIGNED');
  });

  it('satisfies loadConfig in every Burnback service container: each variable it requires is set and valid', () => {
    const problems = serviceNames.map((name) => [name, configErrorOf(envForLoadConfig(name))?.message ?? null]);
    expect(problems).toEqual(serviceNames.map((name) => [name, null]));
    // The required ones, found by taking each away: loadConfig must then name it.
    for (const name of serviceNames) {
      const env = envForLoadConfig(name);
      const required = Object.keys(env).filter((key) => configErrorOf({ ...env, [key]: undefined })?.key === key);
      expect(required).toEqual(expect.arrayContaining(['GOOGLE_CLOUD_PROJECT', 'BURNBACK_CONFIG']));
    }
  });

  it('points BURNBACK_CONFIG at the config file npm start uses, copied into the image', () => {
    const [, localConfig] = /BURNBACK_CONFIG: [^\n]*resolve\(REPO_ROOT, '([^']+)'\)/.exec(localStackText) ?? [];
    expect(localConfig).toBeDefined();
    for (const name of serviceNames) {
      const service = compose[name]!;
      expect({ [name]: repoPathInImage(targetOf(service), service.environment.BURNBACK_CONFIG ?? '') }).toEqual({ [name]: localConfig });
    }
    expect(existsSync(join(REPO_ROOT, localConfig!))).toBe(true);
  });

  it('gives every address a container uses as another service on a port it listens on, and waits for it to be healthy', () => {
    expect(checkAddresses(compose, listensOn)).toEqual([]);
  });

  it('creates the topics in a one-shot topology step that every Pub/Sub user waits for', () => {
    expect(checkTopologyStep(compose, targetOf(compose.topology!))).toEqual([]);
    expect(workspaceOfTarget(dockerfile, targetOf(compose.topology!))).toBe('packages/cli');
  });
});

describe('flat memory: each service runs with the heap bound and memory limit ServiceRuntime gives it, wherever it runs', () => {
  it('gives every Burnback service, and only those, a memory limit and Node flags', () => {
    expect(Object.keys(ServiceRuntime).sort()).toEqual([...serviceNames].sort());
  });

  it("bounds each service's heap so that the heap and what is not heap fit its memory limit", () => {
    for (const [name, limits] of Object.entries(ServiceRuntime)) {
      const heap = heapBoundMiB(limits.nodeOptions);
      expect({ name, oldSpace: heap.oldSpace, semiSpace: heap.semiSpace }).toEqual({
        name,
        oldSpace: expect.any(Number),
        semiSpace: expect.any(Number),
      });
      // e.g. 128 MiB old generation + 3 x 4 MiB young + 96 MiB that is not heap = 236 MiB, within 256 MiB.
      const heapAndRest = heap.total! + NON_HEAP_ALLOWANCE_MIB;
      expect({ name, heapAndRest, fits: heapAndRest <= limits.memoryMiB }).toEqual({ name, heapAndRest, fits: true });
    }
  });

  it('uses flags Node takes from NODE_OPTIONS, and they bound the heap where heapBoundMiB says', () => {
    for (const nodeOptions of new Set(Object.values(ServiceRuntime).map((r) => r.nodeOptions))) {
      const run = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit))'], {
        env: { PATH: process.env.PATH, NODE_OPTIONS: nodeOptions },
        encoding: 'utf8',
      });
      expect({ nodeOptions, status: run.status, stderr: run.stderr }).toEqual({ nodeOptions, status: 0, stderr: '' });
      expect(Number(run.stdout) / 2 ** 20).toBe(heapBoundMiB(nodeOptions).total);
    }
  });

  it("sets them in each service's image (NODE_OPTIONS) and limits each compose container to its Cloud Run memory", () => {
    expect(checkServiceRuntime(dockerfile, compose, ServiceRuntime)).toEqual([]);
    // gcp-sim and the cli are not services: their images are not bound.
    expect(['gcp-sim', 'cli'].map((t) => resolveStage(dockerfile, t)!.env.NODE_OPTIONS)).toEqual([undefined, undefined]);
    expect([composeMemoryMiB('256m'), composeMemoryMiB('1g'), composeMemoryMiB('268435456'), composeMemoryMiB('lots')]).toEqual([
      256,
      1024,
      256,
      null,
    ]);
  });

  it('gives burnback dev the same flags, with a NODE_OPTIONS the developer set after them (Node takes the last)', () => {
    expect(serviceNodeOptions('decider', undefined)).toBe(ServiceRuntime.decider.nodeOptions);
    expect(serviceNodeOptions('decider', ' --inspect ')).toBe(`${ServiceRuntime.decider.nodeOptions} --inspect`);
    expect(heapBoundMiB(serviceNodeOptions('ingest', '--max-old-space-size=200')).oldSpace).toBe(200);
  });
});

describe('the checks fail on drift, naming the problem', () => {
  const drift: Array<
    [string, (text: string) => string, (df: Dockerfile, c: Record<string, ComposeService>) => string[], 'Dockerfile' | 'compose', RegExp]
  > = [
    [
      'a workspace manifest the build stage forgets',
      (t) => t.replace(/^COPY services\/decider\/package\.json.*\n/m, ''),
      (df) => checkBuildStage(df, rootPackage.workspaces, [...build.configFiles]),
      'Dockerfile',
      /does not copy services\/decider\/package\.json before npm ci/,
    ],
    [
      'sources copied before npm ci',
      (t) => t.replace(/^RUN --mount=\S+ npm ci/m, 'COPY packages/ packages/\n$&'),
      (df) => checkBuildStage(df, rootPackage.workspaces, [...build.configFiles]),
      'Dockerfile',
      /copies packages\/ before npm ci/,
    ],
    [
      'a workspace the runtime image leaves out',
      (t) => t.replace(/^COPY --from=build \/app\/packages\/platform\/dist\/.*\n/m, ''),
      (df) => checkRuntimeStage(df, 'ingest', workspaces, emittedBy),
      'Dockerfile',
      /ingest lacks packages\/platform\/dist\/index\.js/,
    ],
    [
      'another Node major',
      (t) => t.replace(/node:20-/, 'node:22-'),
      (df) => checkNodeVersion(df, rootPackage.engines.node),
      'Dockerfile',
      /Node 22, package\.json engines .* Node 20/,
    ],
    [
      'a CMD with no source',
      (t) => t.replace('services/decider/dist/main.js', 'services/decider/dist/server.js'),
      (df) => checkCommands(df, emittedBy),
      'Dockerfile',
      /decider runs services\/decider\/dist\/server\.js, but no tsconfig compiles/,
    ],
    [
      "a service's compiled code the runtime image leaves out (the notifier's)",
      (t) => t.replace(/^COPY --from=build \/app\/services\/notifier\/dist\/.*\n/m, ''),
      (df) => checkRuntimeStage(df, 'notifier', workspaces, emittedBy),
      'Dockerfile',
      /notifier lacks services\/notifier\/dist\/index\.js, the compiled entry point of @burnback\/notifier/,
    ],
    [
      "a service target that runs another service's main",
      (t) => t.replace('CMD ["node", "services/notifier/dist/main.js"]', 'CMD ["node", "services/executor/dist/main.js"]'),
      (df, c) => checkServiceTargets(df, c, serviceNames, emittedBy),
      'Dockerfile',
      /the notifier target runs services\/executor\/dist\/main\.js, not services\/notifier\/dist\/main\.js/,
    ],
    [
      'a root image',
      (t) => t.replace(/^USER node$/m, 'USER root'),
      (df) => checkRuntimeStage(df, 'executor', workspaces, emittedBy),
      'Dockerfile',
      /executor runs as root/,
    ],
    [
      'a host port that is not LOCAL_PORTS',
      (t) => t.replace('127.0.0.1:8081:8080', '127.0.0.1:9081:8080'),
      (df, c) => checkServicePorts(c, df, hostPorts),
      'compose',
      /decider publishes 9081->8080; npm start serves it on 8081/,
    ],
    [
      'a misspelt variable',
      (t) => t.replace('FIRESTORE_EMULATOR_HOST: firestore', 'FIRESTORE_EMULATOR_HOTS: firestore'),
      (df, c) => checkEnvKnown(c, readBy(df)),
      'compose',
      /sets FIRESTORE_EMULATOR_HOTS, which nothing in the (ingest|decider|executor) image reads/,
    ],
    [
      'a target the Dockerfile lacks',
      (t) => t.replace('target: executor', 'target: exec'),
      (df, c) => checkComposeBuilds(c, df),
      'compose',
      /executor builds target exec, which the Dockerfile does not define/,
    ],
    [
      "a compose service that builds another service's target",
      (t) => t.replace('target: notifier', 'target: executor'),
      (df, c) => checkServiceTargets(df, c, serviceNames, emittedBy),
      'compose',
      /compose service notifier builds target executor, not the notifier target/,
    ],
    [
      'a service compose does not run',
      (t) => t.replace(/^ {2}notifier:\n(?: {4,}\S[^\n]*\n)+/m, ''),
      (df, c) => checkServiceTargets(df, c, serviceNames, emittedBy),
      'compose',
      /docker-compose\.yml has no notifier service/,
    ],
    [
      'an address to a service that is not there',
      (t) => t.replace('CLOUD_DEPLOY_ENDPOINT: gcp-sim:8087', 'CLOUD_DEPLOY_ENDPOINT: gcpsim:8087'),
      (_df, c) => checkAddresses(c, listensOn),
      'compose',
      /CLOUD_DEPLOY_ENDPOINT=gcpsim:8087 is not a compose service/,
    ],
    [
      'gcp-sim on loopback',
      (t) => t.replace('GCP_SIM_HOST: 0.0.0.0', 'GCP_SIM_HOST: 127.0.0.1'),
      (df, c) => checkServicePorts(c, df, hostPorts),
      'compose',
      /gcp-sim listens on 127\.0\.0\.1, which other containers cannot reach/,
    ],
    [
      'a service that does not wait for the topics',
      (t) => t.replace(/^ {2}topology:\n {4}condition: service_completed_successfully\n/m, ''),
      (_df, c) => checkTopologyStep(c, 'cli'),
      'compose',
      /uses Pub\/Sub but does not wait for topology/,
    ],
    [
      "a service image without its heap bound (the decider's)",
      (t) => t.replace(/(FROM runtime AS decider\n)ENV NODE_OPTIONS=[^\n]*\n/, '$1'),
      (df, c) => checkServiceRuntime(df, c, ServiceRuntime),
      'Dockerfile',
      /the decider target sets NODE_OPTIONS to nothing, not its runtime's "--max-old-space-size=\d+/,
    ],
    [
      'a compose container with another memory limit than Cloud Run (the executor)',
      (t) => t.replace(/(target: executor\n {4}init: true\n(?: {4}#[^\n]*\n)* {4}mem_limit: )256m/, '$1512m'),
      (df, c) => checkServiceRuntime(df, c, ServiceRuntime),
      'compose',
      /compose service executor has mem_limit 512m, not 256m \(its Cloud Run memory limit\)/,
    ],
    [
      "a compose container that overrides its image's heap bound (the notifier)",
      (t) =>
        t.replace(/(target: notifier\n[\s\S]*?environment:\n {6}<<: \*service-env\n)/, '$1      NODE_OPTIONS: --max-old-space-size=4096\n'),
      (df, c) => checkServiceRuntime(df, c, ServiceRuntime),
      'compose',
      /compose service notifier sets NODE_OPTIONS "--max-old-space-size=4096" over its image's/,
    ],
    [
      'another emulator port',
      (t) => t.replace('--host-port=0.0.0.0:8086', '--host-port=0.0.0.0:9086'),
      (_df, c) => checkEmulators(c, emulatorFacts, DEFAULT_PROJECT),
      'compose',
      /firestore runs `gcloud emulators firestore start --host-port=0\.0\.0\.0:9086`/,
    ],
  ];

  it.each(drift)('names %s', (_what, mutate, check, file, expected) => {
    const mutatedText = mutate(file === 'Dockerfile' ? dockerfileText : composeText);
    expect(mutatedText).not.toBe(file === 'Dockerfile' ? dockerfileText : composeText);
    const problems = file === 'Dockerfile' ? check(parseDockerfile(mutatedText), compose) : check(dockerfile, parseCompose(mutatedText));
    expect(problems.join('\n')).toMatch(expected);
  });

  it('names a new workspace the Dockerfile does not know', () => {
    const withNew = [...rootPackage.workspaces, 'packages/newcomer'];
    expect(checkBuildStage(dockerfile, withNew, [...build.configFiles]).join('\n')).toMatch(
      /does not copy packages\/newcomer\/package\.json before npm ci/,
    );
    const newcomer = { dir: 'packages/newcomer', name: '@burnback/newcomer', entry: './dist/index.js' };
    expect(checkRuntimeStage(dockerfile, 'ingest', [...workspaces, newcomer], emittedBy).join('\n')).toMatch(
      /ingest lacks packages\/newcomer\/package\.json[\s\S]*ingest lacks packages\/newcomer\/dist\/index\.js/,
    );
  });

  it('names what a .dockerignore pattern wrongly leaves out or lets in', () => {
    const problems = checkDockerignore([...dockerignore, 'tsconfig.base.json', '!**/dist'], contextNeeded, contextUnwanted).join('\n');
    expect(problems).toMatch(/leaves tsconfig\.base\.json out of the build context/);
    expect(problems).toMatch(/lets packages\/contracts\/dist\/index\.js into the build context/);
  });
});
