/**
 * Small pure checks that keep the root Dockerfile, .dockerignore and
 * docker-compose.yml consistent with the code. containers.test.ts feeds them
 * the truth (LOCAL_PORTS, EMULATORS, what the config code reads, what tsc
 * emits); each check returns its problems as sentences, [] when consistent.
 *
 * The Dockerfile is modelled just far enough to answer "which file of the
 * build context ends up at this path of that image?" (FROM / WORKDIR / ENV /
 * USER / EXPOSE / COPY / RUN / CMD / ENTRYPOINT), without Docker.
 */
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';

// ───────────────────────────── Dockerfile ─────────────────────────────

export interface DockerInstruction {
  op: string;
  args: string;
  line: number;
}
export interface DockerStage {
  name: string;
  /** A base image (ARGs substituted) or an earlier stage's name. */
  from: string;
  instructions: DockerInstruction[];
}
export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: DockerStage[];
}

const substitute = (s: string, vars: Record<string, string>): string =>
  s.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a?: string, b?: string) => vars[(a ?? b)!] ?? whole);

export function parseDockerfile(text: string): Dockerfile {
  const logical: Array<{ text: string; line: number }> = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return; // comments and blank lines, also inside a continuation
    if (!pending) start = i + 1;
    if (trimmed.endsWith('\\')) pending += `${trimmed.slice(0, -1).trim()} `;
    else {
      logical.push({ text: pending + trimmed, line: start });
      pending = '';
    }
  });
  if (pending) logical.push({ text: pending.trim(), line: start });

  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const { text: instruction, line } of logical) {
    const [, rawOp = '', args = ''] = /^(\S+)\s*(.*)$/.exec(instruction) ?? [];
    const op = rawOp.toUpperCase();
    if (op === 'FROM') {
      const [, image = '', alias] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name: (alias ?? String(stages.length)).toLowerCase(), from: substitute(image, globalArgs), instructions: [] });
    } else if (stages.length === 0) {
      if (op === 'ARG') {
        const [key = '', ...value] = args.split('=');
        globalArgs[key.trim()] = value.join('=').trim();
      }
    } else stages[stages.length - 1]!.instructions.push({ op, args, line });
  }
  return { globalArgs, stages };
}

/** Exec form (JSON array) or shell form (run by /bin/sh -c). */
export function commandArgs(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return ['/bin/sh', '-c', trimmed];
}

export function parseEnv(args: string): Record<string, string> {
  const unquote = (v: string) => v.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  if (!/^\S+=/.test(args.trim())) {
    const [key = '', ...value] = args.trim().split(/\s+/);
    return { [key]: unquote(value.join(' ')) };
  }
  return Object.fromEntries([...args.matchAll(/([\w.-]+)=("[^"]*"|'[^']*'|\S*)/g)].map((m) => [m[1]!, unquote(m[2]!)]));
}

export interface CopyInstruction {
  /** `--from=` stage, or null for the build context. */
  from: string | null;
  sources: string[];
  /** Absolute path in the image. */
  dest: string;
  line: number;
}

function parseCopy(instruction: DockerInstruction, workdir: string): CopyInstruction {
  const words = instruction.args.trim().startsWith('[') ? (JSON.parse(instruction.args) as string[]) : instruction.args.trim().split(/\s+/);
  let from: string | null = null;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--from=')) from = flag.slice('--from='.length).toLowerCase();
  }
  const dest = words.pop() ?? '';
  const absolute = dest.startsWith('/') ? dest : posix.join(workdir, dest);
  return { from, sources: words, dest: dest.endsWith('/') && !absolute.endsWith('/') ? `${absolute}/` : absolute, line: instruction.line };
}

/** A stage with everything it inherits from the stages it is built on. */
export interface ResolvedStage {
  name: string;
  /** The stages it is built on, root first, itself last. */
  chain: string[];
  baseImage: string;
  workdir: string;
  env: Record<string, string>;
  user: string | null;
  expose: string[];
  /** ENTRYPOINT + CMD, as the container runs them. */
  command: string[];
  copies: CopyInstruction[];
  runs: DockerInstruction[];
}

export function resolveStage(dockerfile: Dockerfile, name: string): ResolvedStage | null {
  const chain: DockerStage[] = [];
  let stage = dockerfile.stages.find((s) => s.name === name);
  while (stage && !chain.includes(stage)) {
    chain.unshift(stage);
    const base = stage.from.toLowerCase();
    stage = dockerfile.stages.find((s) => s.name === base);
  }
  if (chain.length === 0) return null;
  const resolved: ResolvedStage = {
    name,
    chain: chain.map((s) => s.name),
    baseImage: chain[0]!.from,
    workdir: '/',
    env: {},
    user: null,
    expose: [],
    command: [],
    copies: [],
    runs: [],
  };
  let entrypoint: string[] = [];
  let cmd: string[] = [];
  for (const stage of chain) {
    for (const instruction of stage.instructions) {
      switch (instruction.op) {
        case 'WORKDIR':
          resolved.workdir = posix.resolve(resolved.workdir, substitute(instruction.args, resolved.env));
          break;
        case 'ENV':
          Object.assign(resolved.env, parseEnv(instruction.args));
          break;
        case 'USER':
          resolved.user = instruction.args.trim();
          break;
        case 'EXPOSE':
          resolved.expose.push(
            ...instruction.args
              .trim()
              .split(/\s+/)
              .map((p) => p.replace(/\/tcp$/, '')),
          );
          break;
        case 'COPY':
        case 'ADD':
          resolved.copies.push(parseCopy(instruction, resolved.workdir));
          break;
        case 'RUN':
          resolved.runs.push(instruction);
          break;
        case 'ENTRYPOINT':
          entrypoint = commandArgs(instruction.args);
          cmd = []; // an ENTRYPOINT resets an inherited CMD
          break;
        case 'CMD':
          cmd = commandArgs(instruction.args);
          break;
      }
    }
  }
  resolved.command = [...entrypoint, ...cmd];
  return resolved;
}

export type ImageFile =
  /** Copied from this path of the build context, through other stages if need be (or written there by the build, e.g. dist/). */
  | { kind: 'context'; path: string }
  /** Made by a RUN in this stage (npm ci, npm run build). */
  | { kind: 'built'; stage: string; path: string }
  /** Not in the image. */
  | { kind: 'missing' };

/** Where the file at absolute `path` of stage `name` comes from. */
export function imageFile(dockerfile: Dockerfile, name: string, path: string, depth = 0): ImageFile {
  const stage = resolveStage(dockerfile, name);
  if (!stage || depth > 10) return { kind: 'missing' };
  for (const copy of [...stage.copies].reverse()) {
    for (const source of [...copy.sources].reverse()) {
      let sourcePath: string | null = null;
      const dir = copy.dest.endsWith('/') ? copy.dest.slice(0, -1) : copy.dest;
      const isDirSource = source.endsWith('/') || source === '.';
      if (isDirSource && (path === dir || path.startsWith(`${dir}/`))) sourcePath = posix.join(source, path.slice(dir.length));
      else if (!isDirSource && copy.dest.endsWith('/') && path === posix.join(dir, posix.basename(source))) sourcePath = source;
      else if (!isDirSource && !copy.dest.endsWith('/') && path === copy.dest) sourcePath = source;
      if (sourcePath === null) continue;
      if (copy.from === null) return { kind: 'context', path: posix.normalize(sourcePath).replace(/^\/+|\/+$/g, '') };
      return imageFile(dockerfile, copy.from, posix.resolve('/', sourcePath), depth + 1);
    }
  }
  return stage.runs.length > 0 ? { kind: 'built', stage: name, path } : { kind: 'missing' };
}

/** The stage that installs dependencies (`npm ci`). */
export const buildStageOf = (dockerfile: Dockerfile): DockerStage | undefined =>
  dockerfile.stages.find((s) => s.instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)));

/** Stages that run a Node program: the image targets. */
export const runnableStages = (dockerfile: Dockerfile): ResolvedStage[] =>
  dockerfile.stages.map((s) => resolveStage(dockerfile, s.name)!).filter((s) => s.command[0] === 'node');

/** The script a `node [flags] script args…` command runs, relative to WORKDIR or absolute. */
export const nodeScript = (command: string[]): string | undefined => command.slice(1).find((a) => !a.startsWith('-'));

// ─────────────────────────── .dockerignore ───────────────────────────

/** Docker's rules: patterns match a path or any of its parents; `!` re-includes; the last match wins. */
export function dockerignored(patterns: string[], path: string): boolean {
  const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let excluded = false;
  for (const raw of patterns) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = posix.normalize(negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
    const matcher = globToRegExp(pattern);
    if (prefixes.some((p) => matcher.test(p))) excluded = !negated;
  }
  return excluded;
}

/** `**` any number of path segments, `*` and `?` within one segment. */
function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (pattern.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

// ────────────────────────── docker-compose.yml ──────────────────────────

export interface ComposeService {
  name: string;
  image: string | null;
  build: { context: string; target: string | null } | null;
  command: string[] | null;
  environment: Record<string, string>;
  ports: Array<{ host: number; container: number }>;
  dependsOn: Record<string, string>;
  healthcheck: string[] | null;
  restart: string | null;
  /** `mem_limit`, or `deploy.resources.limits.memory`, as written; null when unset. */
  memLimit: string | null;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
/** A YAML scalar as compose reads it (numbers and booleans become strings); null for anything else. */
const scalar = (value: unknown): string | null =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : null;
const asWords = (value: unknown): string[] | null =>
  Array.isArray(value) ? value.map((v) => scalar(v) ?? '') : typeof value === 'string' ? value.trim().split(/\s+/) : null;

/** docker-compose.yml's services, normalised (short and long syntaxes; YAML merge keys as compose applies them). */
export function parseCompose(text: string): Record<string, ComposeService> {
  const doc = asRecord(parseYaml(text, { merge: true }));
  return Object.fromEntries(
    Object.entries(asRecord(doc.services)).map(([name, raw]) => {
      const s = asRecord(raw);
      const buildSpec = asRecord(s.build);
      const build =
        typeof s.build === 'string'
          ? { context: s.build, target: null }
          : s.build
            ? { context: scalar(buildSpec.context) ?? '.', target: scalar(buildSpec.target) }
            : null;
      const environment = Array.isArray(s.environment)
        ? Object.fromEntries(s.environment.map((e) => (scalar(e) ?? '').split(/=(.*)/s).slice(0, 2) as [string, string]))
        : Object.fromEntries(Object.entries(asRecord(s.environment)).map(([k, v]) => [k, scalar(v) ?? '']));
      const ports = (Array.isArray(s.ports) ? s.ports : []).map((p: unknown) => {
        if (typeof p === 'object' && p) return { host: Number(asRecord(p).published), container: Number(asRecord(p).target) };
        const parts = (scalar(p) ?? '').replace(/\/(tcp|udp)$/, '').split(':');
        return { host: Number(parts.at(-2) ?? parts.at(-1)), container: Number(parts.at(-1)) };
      });
      const dependsOn = Array.isArray(s.depends_on)
        ? Object.fromEntries(s.depends_on.map((d) => [scalar(d) ?? '', 'service_started']))
        : Object.fromEntries(
            Object.entries(asRecord(s.depends_on)).map(([k, v]) => [k, scalar(asRecord(v).condition) ?? 'service_started']),
          );
      const service: ComposeService = {
        name,
        image: scalar(s.image),
        build,
        command: asWords(s.command),
        environment,
        ports,
        dependsOn,
        healthcheck: asWords(asRecord(s.healthcheck).test),
        restart: scalar(s.restart),
        memLimit: scalar(s.mem_limit) ?? scalar(asRecord(asRecord(asRecord(s.deploy).resources).limits).memory),
      };
      return [name, service];
    }),
  );
}

/** Image ENV overlaid by the compose environment: what the container's process sees. */
export function containerEnv(service: ComposeService, dockerfile: Dockerfile): Record<string, string> {
  const stage = service.build?.target ? resolveStage(dockerfile, service.build.target) : null;
  return { ...(stage?.env ?? {}), ...service.environment };
}

/** `http://host:port/path` probed by a healthcheck, if any. */
export function healthcheckUrl(service: ComposeService): URL | null {
  const match = /https?:\/\/[^\s'"`)]+/.exec((service.healthcheck ?? []).join(' '));
  return match ? new URL(match[0]) : null;
}

// ──────────────────────────────── checks ────────────────────────────────

/** The Node major of every node base image equals the minimum of package.json engines (and its minor, if pinned, is not older). */
export function checkNodeVersion(dockerfile: Dockerfile, engines: string): string[] {
  const [, major = '', minor = '0'] = /(\d+)(?:\.(\d+))?/.exec(engines) ?? [];
  const problems: string[] = [];
  const images = dockerfile.stages.map((s) => s.from).filter((from) => !dockerfile.stages.some((s) => s.name === from.toLowerCase()));
  if (images.length === 0) problems.push('the Dockerfile has no base image');
  for (const image of images) {
    const [, tagMajor, tagMinor] = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:\.(\d+))?/.exec(image) ?? [];
    if (!tagMajor) problems.push(`base image ${image} is not a node:<major> image`);
    else if (tagMajor !== major)
      problems.push(`base image ${image} is Node ${tagMajor}, package.json engines (${engines}) is Node ${major}`);
    else if (tagMinor !== undefined && Number(tagMinor) < Number(minor))
      problems.push(`base image ${image} is older than package.json engines (${engines})`);
  }
  return problems;
}

/**
 * The build stage installs from the manifests alone (root package.json, the
 * lockfile and every workspace's package.json, before any source), then builds
 * and drops dev dependencies; the tsconfig files tsc -b needs are copied.
 */
export function checkBuildStage(dockerfile: Dockerfile, workspaces: string[], tsconfigFiles: string[]): string[] {
  const build = buildStageOf(dockerfile);
  if (!build) return ['no stage runs npm ci'];
  const problems: string[] = [];
  const ci = build.instructions.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
  const copiesBefore = build.instructions
    .slice(0, ci)
    .filter((i) => i.op === 'COPY')
    .flatMap((i) => parseCopy(i, '/').sources);
  for (const manifest of ['package.json', 'package-lock.json', ...workspaces.map((w) => `${w}/package.json`)])
    if (!copiesBefore.includes(manifest)) problems.push(`the ${build.name} stage does not copy ${manifest} before npm ci`);
  for (const source of copiesBefore)
    if (!/(^|\/)package(-lock)?\.json$/.test(source))
      problems.push(`the ${build.name} stage copies ${source} before npm ci, so every source edit re-runs npm ci`);
  const runs = build.instructions
    .filter((i) => i.op === 'RUN')
    .map((i) => i.args)
    .join(' && ');
  const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((step) => ({ step, at: runs.indexOf(step) }));
  for (const { step, at } of order) if (at < 0) problems.push(`the ${build.name} stage never runs ${step}`);
  if (order.every((o) => o.at >= 0) && !(order[0]!.at < order[1]!.at && order[1]!.at < order[2]!.at))
    problems.push(`the ${build.name} stage must run npm ci, npm run build, npm prune --omit=dev in that order`);
  const stage = resolveStage(dockerfile, build.name)!;
  for (const file of tsconfigFiles)
    if (imageFile(dockerfile, build.name, posix.join(stage.workdir, file)).kind !== 'context')
      problems.push(`the ${build.name} stage does not copy ${file}, which npm run build needs`);
  return problems;
}

/** Repo-relative emitted .js → the repo-relative .ts that tsc compiles into it. */
export type EmittedBy = (jsPath: string) => string | undefined;

/**
 * Each image target: built on a slim base (not on the build stage), runs as a
 * non-root user with NODE_ENV=production, and holds node_modules (with the
 * @burnback/* workspace links) and every workspace's package.json and
 * compiled entry point, all made by `npm run build`.
 */
export function checkRuntimeStage(
  dockerfile: Dockerfile,
  target: string,
  workspaces: Array<{ dir: string; name: string; entry: string }>,
  emittedBy: EmittedBy,
): string[] {
  const stage = resolveStage(dockerfile, target);
  if (!stage) return [`the Dockerfile has no ${target} target`];
  const build = buildStageOf(dockerfile);
  const problems: string[] = [];
  if (build && stage.chain.includes(build.name))
    problems.push(`${target} is built on the ${build.name} stage, so it ships dev dependencies and sources`);
  if (!stage.user || /^(root|0)(:|$)/.test(stage.user)) problems.push(`${target} runs as root (no USER, or USER root)`);
  if (stage.env.NODE_ENV !== 'production') problems.push(`${target} does not set NODE_ENV=production`);
  const at = (p: string) => imageFile(dockerfile, target, posix.join(stage.workdir, p));
  for (const ws of workspaces) {
    const manifest = at(`${ws.dir}/package.json`);
    if (manifest.kind !== 'context' || manifest.path !== `${ws.dir}/package.json`)
      problems.push(`${target} lacks ${ws.dir}/package.json (node resolves ${ws.name} through it)`);
    const entry = at(posix.join(ws.dir, ws.entry));
    if (entry.kind !== 'context' || !emittedBy(entry.path))
      problems.push(`${target} lacks ${posix.join(ws.dir, ws.entry)}, the compiled entry point of ${ws.name}`);
    const link = at(`node_modules/${ws.name}`);
    if (link.kind !== 'built' || link.stage !== build?.name)
      problems.push(`${target} lacks node_modules/${ws.name} from npm ci in the build stage`);
  }
  return problems;
}

/** Every `node X/dist/Y.js` a target runs is tsc's output of an X/src/Y.ts of X's tsconfig, and is in the image. */
export function checkCommands(dockerfile: Dockerfile, emittedBy: EmittedBy): string[] {
  const problems: string[] = [];
  for (const stage of runnableStages(dockerfile)) {
    const script = nodeScript(stage.command);
    if (!script) {
      problems.push(`${stage.name} runs node without a script`);
      continue;
    }
    const file = imageFile(dockerfile, stage.name, posix.resolve(stage.workdir, script));
    if (file.kind !== 'context') problems.push(`${stage.name} runs ${script}, which is not copied from the build`);
    else if (!emittedBy(file.path)) problems.push(`${stage.name} runs ${script}, but no tsconfig compiles a source into ${file.path}`);
  }
  return problems;
}

/** The build context keeps what the build copies and needs, and leaves out local installs and build output. */
export function checkDockerignore(patterns: string[], needed: string[], unwanted: string[]): string[] {
  return [
    ...needed
      .filter((p) => dockerignored(patterns, p))
      .map((p) => `.dockerignore leaves ${p} out of the build context, but the build needs it`),
    ...unwanted.filter((p) => !dockerignored(patterns, p)).map((p) => `.dockerignore lets ${p} into the build context`),
  ];
}

/** Every compose service built here names a Dockerfile target and builds from the repo root. */
export function checkComposeBuilds(compose: Record<string, ComposeService>, dockerfile: Dockerfile): string[] {
  const stages = new Set(dockerfile.stages.map((s) => s.name));
  const problems: string[] = [];
  for (const s of Object.values(compose)) {
    if (!s.build) {
      if (!s.image) problems.push(`${s.name} has neither build nor image`);
      continue;
    }
    if (!s.build.target) problems.push(`${s.name} builds without a target (it would get the Dockerfile's last stage)`);
    else if (!stages.has(s.build.target)) problems.push(`${s.name} builds target ${s.build.target}, which the Dockerfile does not define`);
    if (posix.normalize(s.build.context) !== '.')
      problems.push(`${s.name} builds from ${s.build.context}, not the repo root the Dockerfile expects`);
  }
  return problems;
}

/**
 * Each Burnback service has a Dockerfile target of its own name that runs its
 * own services/<name>/dist/main.js (tsc's output of services/<name>/src/main.ts),
 * and a compose service of its own name built from that target: a target that
 * runs another service's main, or a compose entry that builds another target,
 * would otherwise pass every per-target check.
 */
export function checkServiceTargets(
  dockerfile: Dockerfile,
  compose: Record<string, ComposeService>,
  services: string[],
  emittedBy: EmittedBy,
): string[] {
  const problems: string[] = [];
  for (const name of services) {
    const main = `services/${name}/dist/main.js`;
    const stage = resolveStage(dockerfile, name);
    const script = stage ? nodeScript(stage.command) : undefined;
    if (!stage || stage.command[0] !== 'node' || script === undefined) problems.push(`the Dockerfile has no ${name} target that runs node`);
    else {
      const file = imageFile(dockerfile, name, posix.resolve(stage.workdir, script));
      const runs = file.kind === 'context' ? file.path : script;
      if (runs !== main) problems.push(`the ${name} target runs ${runs}, not ${main}`);
      else if (emittedBy(main) !== `services/${name}/src/main.ts`)
        problems.push(`the ${name} target runs ${main}, which tsc does not compile from services/${name}/src/main.ts`);
    }
    const service = compose[name];
    if (!service) problems.push(`docker-compose.yml has no ${name} service`);
    else if (service.build?.target !== name)
      problems.push(
        `compose service ${name} builds ${service.build?.target ? `target ${service.build.target}` : 'no target'}, not the ${name} target`,
      );
  }
  return problems;
}

export interface EmulatorFacts {
  /** The gcloud arguments @burnback/emulators starts it with (EMULATORS[name].args), for npm start and the tests. */
  args: (hostPort: string, projectId: string) => string[];
  port: number;
}

/** The emulators run as npm start runs them (same gcloud arguments and ports), with an HTTP healthcheck on their root. */
export function checkEmulators(
  compose: Record<string, ComposeService>,
  emulators: Record<string, EmulatorFacts>,
  projectId: string,
): string[] {
  const problems: string[] = [];
  const withoutQuiet = (args: string[]) => args.filter((a) => a !== '--quiet');
  for (const [name, facts] of Object.entries(emulators)) {
    const s = compose[name];
    if (!s) {
      problems.push(`docker-compose.yml has no ${name} service`);
      continue;
    }
    const expected = ['gcloud', ...withoutQuiet(facts.args(`0.0.0.0:${facts.port}`, projectId))];
    if (JSON.stringify(withoutQuiet(s.command ?? [])) !== JSON.stringify(expected))
      problems.push(`${name} runs \`${(s.command ?? []).join(' ')}\`, the local stack runs \`${expected.join(' ')}\``);
    if (!s.ports.some((p) => p.host === facts.port && p.container === facts.port))
      problems.push(`${name} is not published on port ${facts.port} as with npm start`);
    const url = healthcheckUrl(s);
    if (!url || Number(url.port) !== facts.port || url.pathname !== '/')
      problems.push(`${name} has no healthcheck on http://127.0.0.1:${facts.port}/`);
  }
  return problems;
}

/**
 * The services answer where npm start has them (host ports = LOCAL_PORTS), on
 * the container port their PORT says, with a node-based /healthz check
 * (slim images have no curl); gcp-sim listens on every interface.
 */
export function checkServicePorts(
  compose: Record<string, ComposeService>,
  dockerfile: Dockerfile,
  hostPorts: Record<string, number>,
  simService = 'gcp-sim',
): string[] {
  const problems: string[] = [];
  for (const [name, hostPort] of Object.entries(hostPorts)) {
    const s = compose[name];
    if (!s) {
      problems.push(`docker-compose.yml has no ${name} service`);
      continue;
    }
    const env = containerEnv(s, dockerfile);
    const containerPort = Number(name === simService ? env.GCP_SIM_PORT : env.PORT);
    const published = s.ports.map((p) => `${p.host}->${p.container}`).join(', ') || 'nothing';
    if (!Number.isInteger(containerPort) || containerPort <= 0) problems.push(`${name} does not set the port it listens on`);
    if (!s.ports.some((p) => p.host === hostPort && p.container === containerPort))
      problems.push(`${name} publishes ${published}; npm start serves it on ${hostPort}, the container listens on ${containerPort}`);
    if (name === simService) {
      if (env.GCP_SIM_HOST !== '0.0.0.0')
        problems.push(`${name} listens on ${env.GCP_SIM_HOST ?? '127.0.0.1'}, which other containers cannot reach`);
      if (!s.healthcheck) problems.push(`${name} has no healthcheck`);
      continue;
    }
    const url = healthcheckUrl(s);
    if (!url || url.pathname !== '/healthz' || Number(url.port) !== containerPort)
      problems.push(`${name}'s healthcheck does not probe /healthz on its PORT ${containerPort}`);
    if (s.healthcheck && !s.healthcheck.includes('node'))
      problems.push(`${name}'s healthcheck needs a tool other than node, which the slim image lacks`);
  }
  return problems;
}

/** Every variable a container of ours sets is one its code (or the Google clients it uses) reads: a typo is ignored silently otherwise. */
export function checkEnvKnown(compose: Record<string, ComposeService>, readBy: Record<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const s of Object.values(compose)) {
    const target = s.build?.target;
    if (!target) continue;
    const known = readBy[target];
    if (!known) {
      problems.push(`nothing says which variables the ${target} image reads`);
      continue;
    }
    for (const key of Object.keys(s.environment))
      if (!known.has(key)) problems.push(`${s.name} sets ${key}, which nothing in the ${target} image reads`);
  }
  return problems;
}

/** The Burnback services get the environment startLocalStack() gives them, for the same project and with the local webhook token. */
/** The front door's tokens and its local-only push setting: only the service that checks them is given them. */
const FRONT_DOOR_SECRETS = new Set(['BURNBACK_WEBHOOK_TOKEN', 'BURNBACK_MANAGEMENT_TOKEN', 'BURNBACK_PUSH_ALLOW_UNSIGNED']);

export function checkServiceEnv(
  compose: Record<string, ComposeService>,
  services: string[],
  facts: { localStackEnv: string[]; projectId: string; webhookToken: string; webhookServices: string[] },
): string[] {
  const problems: string[] = [];
  for (const name of services) {
    const env = compose[name]?.environment ?? {};
    for (const key of facts.localStackEnv) {
      // Only the front door (the service that reads the tokens) gets the secrets.
      if (FRONT_DOOR_SECRETS.has(key) && !facts.webhookServices.includes(name)) continue;
      if (env[key] === undefined) problems.push(`${name} lacks ${key}, which the local stack sets`);
    }
    if (
      facts.webhookServices.includes(name) &&
      env.BURNBACK_WEBHOOK_TOKEN !== undefined &&
      env.BURNBACK_WEBHOOK_TOKEN !== facts.webhookToken
    )
      problems.push(`${name}'s BURNBACK_WEBHOOK_TOKEN is not LOCAL_WEBHOOK_TOKEN, so npm run trigger --webhook would be refused`);
    if (env.METADATA_SERVER_DETECTION !== undefined && env.METADATA_SERVER_DETECTION !== 'none')
      problems.push(`${name} sets METADATA_SERVER_DETECTION=${env.METADATA_SERVER_DETECTION}, not none`);
  }
  for (const s of Object.values(compose)) {
    const project = s.environment.GOOGLE_CLOUD_PROJECT;
    if (project !== undefined && project !== facts.projectId)
      problems.push(`${s.name} runs in project ${project}, the local stack in ${facts.projectId}`);
  }
  return problems;
}

/**
 * Every address a container is given (`*_EMULATOR_HOST`, `*_ENDPOINT`) is
 * another compose service on a port it listens on, and the container starts
 * only once that service is healthy.
 */
export function checkAddresses(compose: Record<string, ComposeService>, listensOn: (service: ComposeService) => number[]): string[] {
  const problems: string[] = [];
  for (const s of Object.values(compose)) {
    for (const [key, value] of Object.entries(s.environment)) {
      if (!/_(EMULATOR_HOST|ENDPOINT)$/.test(key)) continue;
      const [, host = '', port = ''] = /^([^:]+):(\d+)$/.exec(value) ?? [];
      const peer = compose[host];
      if (!peer) {
        problems.push(`${s.name}'s ${key}=${value} is not a compose service`);
        continue;
      }
      if (!listensOn(peer).includes(Number(port)))
        problems.push(`${s.name}'s ${key}=${value}, but ${host} listens on ${listensOn(peer).join(', ') || 'no known port'}`);
      if (s.dependsOn[host] !== 'service_healthy')
        problems.push(`${s.name} uses ${host} (${key}) without depends_on ${host}: service_healthy`);
      if (!peer.healthcheck) problems.push(`${host} has no healthcheck for ${s.name} to wait on`);
    }
  }
  return problems;
}

/** The topics exist before anything uses Pub/Sub: a one-shot topology step every Pub/Sub user waits for. */
export function checkTopologyStep(compose: Record<string, ComposeService>, cliTarget: string, topology = 'topology'): string[] {
  const s = compose[topology];
  if (!s) return [`docker-compose.yml has no ${topology} service`];
  const problems: string[] = [];
  if (s.build?.target !== cliTarget) problems.push(`${topology} does not run the ${cliTarget} image`);
  if (s.command?.[0] !== 'topology') problems.push(`${topology} does not run \`burnback topology\``);
  if (s.restart !== 'no') problems.push(`${topology} is a one-shot step but restart is ${s.restart ?? 'unset'}, not "no"`);
  for (const other of Object.values(compose)) {
    if (other.name === topology || other.environment.PUBSUB_EMULATOR_HOST === undefined) continue;
    if (other.dependsOn[topology] !== 'service_completed_successfully')
      problems.push(`${other.name} uses Pub/Sub but does not wait for ${topology} (service_completed_successfully)`);
  }
  return problems;
}

/** A compose byte value (`256m`, `1g`, `268435456`; compose's units are binary) in MiB; null when it is not one. */
export function composeMemoryMiB(value: string | null): number | null {
  const m = value === null ? null : /^(\d+(?:\.\d+)?)\s*([bkmg])?b?$/i.exec(value.trim());
  if (!m) return null;
  const perMiB = { b: 2 ** -20, k: 2 ** -10, m: 1, g: 2 ** 10 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'k' | 'm' | 'g'];
  return Number(m[1]) * perMiB;
}

/**
 * Flat memory: each Burnback service's image sets the NODE_OPTIONS its runtime
 * limits give it (in its own target, so gcp-sim and the cli are not bound),
 * compose does not override them, and compose limits the container to the
 * memory Cloud Run gives it.
 */
export function checkServiceRuntime(
  dockerfile: Dockerfile,
  compose: Record<string, ComposeService>,
  runtime: Readonly<Record<string, { memoryMiB: number; nodeOptions: string }>>,
): string[] {
  const problems: string[] = [];
  for (const [name, limits] of Object.entries(runtime)) {
    const stage = resolveStage(dockerfile, name);
    if (!stage) problems.push(`the Dockerfile has no ${name} target`);
    else if (stage.env.NODE_OPTIONS !== limits.nodeOptions)
      problems.push(
        `the ${name} target sets NODE_OPTIONS ${stage.env.NODE_OPTIONS === undefined ? 'to nothing' : `"${stage.env.NODE_OPTIONS}"`}, not its runtime's "${limits.nodeOptions}"`,
      );
    const service = compose[name];
    if (!service) {
      problems.push(`docker-compose.yml has no ${name} service`);
      continue;
    }
    const own = service.environment.NODE_OPTIONS;
    if (own !== undefined && own !== limits.nodeOptions)
      problems.push(`compose service ${name} sets NODE_OPTIONS "${own}" over its image's "${limits.nodeOptions}"`);
    if (composeMemoryMiB(service.memLimit) !== limits.memoryMiB)
      problems.push(
        `compose service ${name} has mem_limit ${service.memLimit ?? 'unset'}, not ${limits.memoryMiB}m (its Cloud Run memory limit)`,
      );
  }
  return problems;
}
