/**
 * Static checks of Burnback's Terraform (infra/) against the names and
 * thresholds the code uses (packages/contracts). Terraform cannot be planned
 * here (no provider, no project), so the HCL is parsed with @cdktf/hcl2json
 * and the parts that matter are evaluated just far enough: literals, locals,
 * `for_each` over literal maps, `each.*`, variables (a caller's argument or the
 * default), string templates, `a == "b" ? x : y`, `toset`/`values`/`keys`,
 * `dynamic` blocks, and references to another resource's name/id or to an
 * attribute it sets.
 * Anything the evaluator cannot read stays an expression and is reported when
 * a check needs its value, so names have to stay literal somewhere checkable.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BurnRateWindows, DEFAULT_POLICY, FirestoreIndexes, PolicyUserLabels, Subscriptions, Topics } from '@burnback/contracts';
import { cloudRunMemory, ServiceRuntime, type ServiceRuntimeLimits } from '@burnback/platform';

// @cdktf/hcl2json runs a Go wasm runtime whose timers are never unref'd, so a
// process that loaded it lingers after its work is done (jest: "did not exit").
// It runs in a worker thread instead, referenced only while a parse is pending.
// (Not importing the package also keeps its lib "dom" typings out of tsc.)
const PARSER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { parse } = require(workerData.hcl2json);
parentPort.on('message', async ({ id, filename, contents }) => {
  try {
    parentPort.postMessage({ id, json: await parse(filename, contents) });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

interface ParseReply {
  id: number;
  json?: Record<string, unknown>;
  error?: string;
}

let parser: Worker | null = null;
let nextRequest = 1;
const pending = new Map<number, { resolve: (json: Record<string, unknown>) => void; reject: (err: Error) => void }>();

function parserWorker(): Worker {
  if (parser) return parser;
  const worker = new Worker(PARSER_SOURCE, { eval: true, workerData: { hcl2json: require.resolve('@cdktf/hcl2json') } });
  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    parser = null;
  };
  worker.on('message', (reply: ParseReply) => {
    const request = pending.get(reply.id);
    if (!request) return;
    pending.delete(reply.id);
    if (pending.size === 0) worker.unref();
    if (reply.json) request.resolve(reply.json);
    else request.reject(new Error(reply.error ?? 'hcl2json returned nothing'));
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the hcl2json worker exited with code ${code}`)));
  worker.unref();
  parser = worker;
  return worker;
}

/** HCL to JSON with @cdktf/hcl2json: labelled blocks become `{ label: [body] }`, expressions "${...}" strings. */
export function parseHcl(filename: string, contents: string): Promise<Record<string, unknown>> {
  const worker = parserWorker();
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.ref();
    worker.postMessage({ id, filename, contents });
  });
}

type Body = Record<string, unknown>;

export interface TfBlock {
  kind: 'resource' | 'data';
  type: string;
  name: string;
  /** Module directory, relative to the root, posix separators ('' for the root itself). */
  module: string;
  /** File, relative to the root. */
  file: string;
  body: Body;
}

export interface TfNamedBlock {
  name: string;
  file: string;
  body: Body;
}

export interface TfModuleCall extends TfNamedBlock {
  source: string;
  /** The called module's directory relative to the root, or null for a registry/remote source. */
  dir: string | null;
}

export interface TfModule {
  dir: string;
  files: string[];
  blocks: TfBlock[];
  variables: TfNamedBlock[];
  outputs: TfNamedBlock[];
  locals: Body;
  calls: TfModuleCall[];
}

export interface ParsedTf {
  /** Absolute directory that was loaded. */
  root: string;
  /** Every directory holding *.tf files, keyed by its path relative to root. */
  modules: Record<string, TfModule>;
}

/** What the code expects Terraform to provide. */
export interface InfraExpectations {
  topics: string[];
  subscriptions: Array<{ name: string; topic: string; ordered: boolean }>;
  deadLetterTopic: string;
  /** Topic the Monitoring notification channel publishes to. */
  incidentsTopic: string;
  /** Topic Cloud Deploy publishes its operation notifications to. */
  deployOperationsTopic: string;
  sloGoal: number;
  burnRates: Array<{ name: string; threshold: number; longWindowSeconds: number; shortWindowSeconds: number }>;
  policyUserLabelKeys: string[];
  pipeline: { name: string; targets: string[]; canaryPercentages: number[] } | null;
  /** Every topic each Burnback service's code publishes to, with where the code says so. */
  publishers: Array<{ service: string; topic: string; source: string }>;
  /** Every subscription each Burnback service's code consumes, with where the code says so. */
  subscribers: Array<{ service: string; subscription: string; source: string }>;
  /** Each Burnback service (a folder of services/) and what its code needs of the platform. */
  services: BurnbackService[];
  /** The composite Firestore indexes the code's queries need. */
  firestoreIndexes: ReadonlyArray<{ name: string; collection: string; fields: ReadonlyArray<readonly [string, string]> }>;
  /** Each service's memory limit and Node flags (ServiceRuntime, packages/platform/src/service-runtime.ts). */
  runtime: Readonly<Record<string, ServiceRuntimeLimits>>;
}

/** A Burnback service as its code shows it. */
export interface BurnbackService {
  name: string;
  /** It answers HTTP beyond /healthz and /metrics (its code reads the webhook or management token): it may take traffic from outside. */
  frontDoor: boolean;
  /** A source of it that names a Firestore collection, or null when it never uses Firestore. */
  firestore: string | null;
}

const REPO_ROOT = path.resolve(__dirname, '../..');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f));
}

/**
 * What each service publishes, read from the code: every `Topics.<key>` a
 * service's own sources name (services/<service>/src, tests excluded; they
 * publish events, outbox entries and dead letters there), plus the topics
 * packages/platform names, which it publishes to on behalf of every service
 * (its subscriber dead-letters what a handler refuses).
 */
export function publishersFromCode(root: string = REPO_ROOT): InfraExpectations['publishers'] {
  const topicsIn = (files: string[]) =>
    files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bTopics\.([A-Za-z]+)\b/g)].map((m) => {
        const key = m[1] as keyof typeof Topics;
        if (!(key in Topics)) throw new Error(`${file} names Topics.${key}, which packages/contracts does not define`);
        return { topic: Topics[key], source: toPosix(path.relative(root, file)) };
      }),
    );
  const platform = topicsIn(sourcesUnder(path.join(root, 'packages/platform/src')));
  const out = new Map<string, { service: string; topic: string; source: string }>();
  for (const service of readdirSync(path.join(root, 'services'))) {
    const src = path.join(root, 'services', service, 'src');
    for (const { topic, source } of [...topicsIn(sourcesUnder(src)), ...platform]) {
      if (!out.has(`${service}/${topic}`)) out.set(`${service}/${topic}`, { service, topic, source });
    }
  }
  return [...out.values()];
}

/** What each service consumes, read from the code: every `Subscriptions.<key>` its own sources name. */
export function subscribersFromCode(root: string = REPO_ROOT): InfraExpectations['subscribers'] {
  const out = new Map<string, { service: string; subscription: string; source: string }>();
  for (const service of readdirSync(path.join(root, 'services'))) {
    for (const file of sourcesUnder(path.join(root, 'services', service, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bSubscriptions\.([A-Za-z]+)\b/g)) {
        const key = m[1] as keyof typeof Subscriptions;
        if (!(key in Subscriptions)) throw new Error(`${file} names Subscriptions.${key}, which packages/contracts does not define`);
        const subscription = Subscriptions[key].name;
        if (!out.has(`${service}/${subscription}`))
          out.set(`${service}/${subscription}`, { service, subscription, source: toPosix(path.relative(root, file)) });
      }
    }
  }
  return [...out.values()];
}

/** The Burnback services (every folder of services/), read from their code. */
export function servicesFromCode(root: string = REPO_ROOT): BurnbackService[] {
  return readdirSync(path.join(root, 'services')).map((name) => {
    const files = sourcesUnder(path.join(root, 'services', name, 'src')).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
    const firestore = files.find((f) => /\bCollections\.[A-Za-z]+\b/.test(f.text));
    return {
      name,
      frontDoor: files.some((f) => /\b(webhookToken|managementToken)\b/.test(f.text)),
      firestore: firestore ? toPosix(path.relative(root, firestore.file)) : null,
    };
  });
}

/** The delivery pipeline Burnback is built around (ARCHITECTURE.md; gcp-sim seeds the same one). */
export const API_PIPELINE = {
  name: 'api-backend-pipeline',
  targets: ['staging', 'production'],
  // 25 % and 50 %; the stable phase after them is the 100 % (Cloud Deploy only takes values below 100).
  canaryPercentages: [25, 50],
};

/** Expectations taken from packages/contracts: the same constants the services use. */
export function contractExpectations(): InfraExpectations {
  return {
    topics: Object.values(Topics),
    subscriptions: Object.values(Subscriptions).map((s) => ({ name: s.name, topic: s.topic, ordered: s.ordered })),
    deadLetterTopic: Topics.deadLetter,
    incidentsTopic: Topics.monitoringIncidents,
    deployOperationsTopic: Topics.clouddeployOperations,
    sloGoal: DEFAULT_POLICY.sloGoal,
    burnRates: [
      {
        name: 'fast',
        threshold: DEFAULT_POLICY.fastBurnRate,
        longWindowSeconds: BurnRateWindows.fast.longSeconds,
        shortWindowSeconds: BurnRateWindows.fast.shortSeconds,
      },
      {
        name: 'slow',
        threshold: DEFAULT_POLICY.slowBurnRate,
        longWindowSeconds: BurnRateWindows.slow.longSeconds,
        shortWindowSeconds: BurnRateWindows.slow.shortSeconds,
      },
    ],
    policyUserLabelKeys: Object.values(PolicyUserLabels),
    pipeline: API_PIPELINE,
    publishers: publishersFromCode(),
    subscribers: subscribersFromCode(),
    services: servicesFromCode(),
    firestoreIndexes: FirestoreIndexes,
    runtime: ServiceRuntime,
  };
}

// ---------------------------------------------------------------------------
// Loading

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);
const toPosix = (p: string): string => p.split(path.sep).join('/');

async function findTfFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue; // .terraform, editors
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await findTfFiles(full)));
    else if (entry.isFile() && entry.name.endsWith('.tf')) files.push(full);
  }
  return files.sort();
}

function moduleFor(parsed: ParsedTf, dir: string): TfModule {
  let mod = parsed.modules[dir];
  if (!mod) {
    mod = { dir, files: [], blocks: [], variables: [], outputs: [], locals: {}, calls: [] };
    parsed.modules[dir] = mod;
  }
  return mod;
}

/** `{ name: [body, ...] }` as hcl2json writes labelled blocks. */
function labelled(value: unknown): Array<[string, Body]> {
  if (!isObject(value)) return [];
  const out: Array<[string, Body]> = [];
  for (const [label, bodies] of Object.entries(value)) {
    for (const body of Array.isArray(bodies) ? bodies : [bodies]) if (isObject(body)) out.push([label, body]);
  }
  return out;
}

/** Parses every *.tf file under `dir` (recursively), grouped by directory (= Terraform module). */
export async function loadTerraform(dir: string): Promise<ParsedTf> {
  const root = path.resolve(dir);
  const parsed: ParsedTf = { root, modules: {} };
  for (const file of await findTfFiles(root)) {
    const rel = toPosix(path.relative(root, file));
    const modDir = toPosix(path.relative(root, path.dirname(file)));
    let json: Record<string, unknown>;
    try {
      json = await parseHcl(rel, await readFile(file, 'utf8'));
    } catch (err) {
      throw new Error(`cannot parse ${rel}: ${(err as Error).message}`, { cause: err });
    }
    const mod = moduleFor(parsed, modDir);
    mod.files.push(rel);
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, byName] of Object.entries(isObject(json[kind]) ? json[kind] : {})) {
        for (const [name, body] of labelled(byName)) mod.blocks.push({ kind, type, name, module: modDir, file: rel, body });
      }
    }
    for (const [name, body] of labelled(json['variable'])) mod.variables.push({ name, file: rel, body });
    for (const [name, body] of labelled(json['output'])) mod.outputs.push({ name, file: rel, body });
    for (const locals of Array.isArray(json['locals']) ? json['locals'] : []) {
      if (isObject(locals)) Object.assign(mod.locals, locals);
    }
    for (const [name, body] of labelled(json['module'])) {
      const source = typeof body['source'] === 'string' ? body['source'] : '';
      const local = source.startsWith('./') || source.startsWith('../');
      const target = local ? toPosix(path.relative(root, path.resolve(root, modDir, source))) : null;
      mod.calls.push({ name, file: rel, body, source, dir: target === null || target.startsWith('..') ? null : target });
    }
  }
  return parsed;
}

// ---------------------------------------------------------------------------
// Evaluation (just enough HCL to read names, numbers and flags)

/** A value the evaluator could not work out; keeps the expression for messages. */
export class Unresolved {
  constructor(readonly expr: string) {}
  toString(): string {
    return `\${${this.expr}}`;
  }
}

interface Scope {
  parsed: ParsedTf;
  module: TfModule;
  each?: { key: string; value: unknown };
  /** The iterators of the `dynamic` blocks being expanded (`env.key`, `env.value`). */
  iterators?: Record<string, { key: unknown; value: unknown }>;
  depth: number;
}

interface Instance {
  block: TfBlock;
  key: string | null;
  scope: Scope;
}

const MAX_DEPTH = 25;
const WHOLE_INTERPOLATION = /^\$\{([\s\S]*)\}$/;

function child(scope: Scope, patch: Partial<Scope>): Scope {
  return { ...scope, ...patch, depth: scope.depth + 1 };
}

/** Evaluates an hcl2json value: plain JSON, with "${...}" strings as expressions or templates. */
export function evaluate(value: unknown, scope: Scope): unknown {
  if (scope.depth > MAX_DEPTH) return new Unresolved(String(value));
  if (typeof value === 'string') {
    const whole = WHOLE_INTERPOLATION.exec(value);
    if (whole && value.indexOf('${', 2) === -1) return evaluateExpression(whole[1]!.trim(), scope);
    if (!value.includes('${')) return value;
    return value.replace(/\$\{([^{}]*)\}/g, (text, expr: string) => {
      const v = evaluateExpression(expr.trim(), scope);
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : text;
    });
  }
  if (Array.isArray(value)) return value.map((v) => evaluate(v, scope));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluate(v, scope)]));
  return value;
}

type Step = { attr: string } | { index: string };

/** Splits `a.b["c"][d.e].f` into its root and steps; null when it is not a plain traversal. */
function traversal(expr: string): { root: string; steps: Step[] } | null {
  const head = /^[A-Za-z_][\w-]*/.exec(expr);
  if (!head) return null;
  const steps: Step[] = [];
  let i = head[0].length;
  while (i < expr.length) {
    if (expr[i] === '.') {
      const m = /^[A-Za-z_][\w-]*|^\d+/.exec(expr.slice(i + 1));
      if (!m) return null;
      steps.push({ attr: m[0] });
      i += 1 + m[0].length;
    } else if (expr[i] === '[') {
      let depth = 0;
      let j = i;
      for (; j < expr.length; j++) {
        if (expr[j] === '[') depth++;
        else if (expr[j] === ']' && --depth === 0) break;
      }
      if (j >= expr.length) return null;
      steps.push({ index: expr.slice(i + 1, j).trim() });
      i = j + 1;
    } else {
      return null;
    }
  }
  return { root: head[0], steps };
}

function stepKey(step: Step, scope: Scope): string | Unresolved {
  if ('attr' in step) return step.attr;
  const v = evaluateExpression(step.index, scope);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : new Unresolved(step.index);
}

function walk(value: unknown, steps: Step[], scope: Scope, expr: string): unknown {
  let current = value;
  for (const step of steps) {
    if (current instanceof Unresolved) return new Unresolved(expr);
    const key = stepKey(step, scope);
    if (key instanceof Unresolved) return new Unresolved(expr);
    if (Array.isArray(current) && /^\d+$/.test(key)) current = current[Number(key)];
    else if (isObject(current) && key in current) current = current[key];
    else return new Unresolved(expr);
  }
  return current;
}

/** Indexes of `needle` in `expr` outside strings and brackets. */
function topLevel(expr: string, needle: string): number[] {
  const found: number[] = [];
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (depth === 0 && expr.startsWith(needle, i)) found.push(i);
  }
  return found;
}

/** `test ? then : else` split at its own `?` and `:`, or null. */
function conditional(expr: string): { test: string; then: string; otherwise: string } | null {
  const [question] = topLevel(expr, '?');
  if (question === undefined) return null;
  // The ':' that closes this '?': nested conditionals in the then-branch have their own.
  let open = 0;
  for (const at of [...topLevel(expr, '?'), ...topLevel(expr, ':')].sort((a, b) => a - b)) {
    if (at <= question) continue;
    if (expr[at] === '?') open++;
    else if (open-- === 0)
      return { test: expr.slice(0, question).trim(), then: expr.slice(question + 1, at).trim(), otherwise: expr.slice(at + 1).trim() };
  }
  return null;
}

/** `a == b` / `a != b`, or any expression that evaluates to a bool. */
function condition(expr: string, scope: Scope): boolean | Unresolved {
  for (const op of ['==', '!=']) {
    const [at] = topLevel(expr, op);
    if (at === undefined) continue;
    const left = evaluateExpression(expr.slice(0, at).trim(), scope);
    const right = evaluateExpression(expr.slice(at + 2).trim(), scope);
    if (left instanceof Unresolved || right instanceof Unresolved) return new Unresolved(expr);
    return (JSON.stringify(left) === JSON.stringify(right)) === (op === '==');
  }
  const value = evaluateExpression(expr, scope);
  return typeof value === 'boolean' ? value : new Unresolved(expr);
}

/** The few functions Burnback's for_each expressions use. */
const FUNCTIONS: Record<string, (arg: unknown) => unknown> = {
  toset: (v) => (Array.isArray(v) ? [...new Map(v.map((x) => [JSON.stringify(x), x])).values()] : undefined),
  values: (v) =>
    isObject(v)
      ? Object.keys(v)
          .sort()
          .map((k) => v[k])
      : undefined,
  keys: (v) => (isObject(v) ? Object.keys(v).sort() : undefined),
};

function evaluateExpression(expr: string, scope: Scope): unknown {
  if (scope.depth > MAX_DEPTH) return new Unresolved(expr);
  const quoted = /^"([^"\\$]*)"$/.exec(expr);
  if (quoted) return quoted[1];
  if (/^-?\d+(\.\d+)?$/.test(expr)) return Number(expr);
  if (expr === 'true' || expr === 'false') return expr === 'true';
  if (expr === 'null') return null;
  const branch = conditional(expr);
  if (branch) {
    const test = condition(branch.test, child(scope, {}));
    return test instanceof Unresolved ? new Unresolved(expr) : evaluateExpression(test ? branch.then : branch.otherwise, child(scope, {}));
  }
  if (/^\{\s*\}$/.test(expr)) return {};
  if (/^\[[\s\S]*\]$/.test(expr)) {
    const inner = expr.slice(1, -1).trim();
    if (inner === '') return [];
    const cuts = [-1, ...topLevel(inner, ','), inner.length];
    return cuts
      .slice(1)
      .map((end, i) => inner.slice(cuts[i]! + 1, end).trim())
      .filter((item) => item !== '')
      .map((item) => evaluateExpression(item, child(scope, {})));
  }
  const call = /^([a-z]+)\(([\s\S]*)\)$/.exec(expr);
  if (call) {
    const fn = FUNCTIONS[call[1]!];
    const arg = fn ? evaluateExpression(call[2]!.trim(), child(scope, {})) : undefined;
    const value = fn && !(arg instanceof Unresolved) ? fn(arg) : undefined;
    return value === undefined ? new Unresolved(expr) : value;
  }
  const t = traversal(expr);
  if (!t) return new Unresolved(expr);
  const [first, ...rest] = t.steps;
  const firstKey = first ? stepKey(first, scope) : new Unresolved(expr);
  const iterator = scope.iterators?.[t.root];
  if (iterator) {
    if (firstKey === 'key' && rest.length === 0) return iterator.key;
    if (firstKey === 'value') return walk(iterator.value, rest, scope, expr);
    return new Unresolved(expr);
  }
  if (t.root === 'each') {
    if (!scope.each || firstKey instanceof Unresolved) return new Unresolved(expr);
    if (firstKey === 'key') return rest.length === 0 ? scope.each.key : new Unresolved(expr);
    if (firstKey === 'value') return walk(scope.each.value, rest, scope, expr);
    return new Unresolved(expr);
  }
  if (t.root === 'local') {
    if (firstKey instanceof Unresolved || !(firstKey in scope.module.locals)) return new Unresolved(expr);
    const value = evaluate(scope.module.locals[firstKey], child(scope, { each: undefined }));
    return walk(value, rest, scope, expr);
  }
  if (t.root === 'var') {
    if (firstKey instanceof Unresolved) return new Unresolved(expr);
    return walk(variableValue(scope, firstKey), rest, scope, expr);
  }
  // TYPE.NAME[KEY].name|id: another resource's name.
  const block =
    typeof firstKey === 'string'
      ? scope.module.blocks.find((b) => b.kind === 'resource' && b.type === t.root && b.name === firstKey)
      : undefined;
  if (block) {
    let key: string | null = null;
    let steps = rest;
    const maybeIndex = rest[0];
    if (maybeIndex && 'index' in maybeIndex) {
      const k = stepKey(maybeIndex, scope);
      if (k instanceof Unresolved) return new Unresolved(expr);
      key = k;
      steps = rest.slice(1);
    }
    const attr = steps[0];
    if (steps.length !== 1 || !attr || !('attr' in attr)) return new Unresolved(expr);
    const instance = instancesOf(block, scope.parsed).find((i) => i.key === key);
    if (!instance) return new Unresolved(expr);
    // An attribute the resource sets (e.g. a secret's secret_id); its name for .id (projects/…/name: the checks compare last segments).
    if (attr.attr in instance.block.body) return attribute(instance, attr.attr);
    if (!['name', 'id'].includes(attr.attr)) return new Unresolved(expr);
    const name = attribute(instance, 'name');
    return typeof name === 'string' ? name : new Unresolved(expr);
  }
  return new Unresolved(expr);
}

/** A variable's value: what every caller of the module passes (if they agree), else its default. */
function variableValue(scope: Scope, name: string): unknown {
  const decl = scope.module.variables.find((v) => v.name === name);
  const callers = Object.values(scope.parsed.modules).flatMap((m) =>
    m.calls.filter((c) => c.dir === scope.module.dir).map((c) => ({ module: m, call: c })),
  );
  const passed = callers.filter(({ call }) => name in call.body);
  const values = passed.map(({ module, call }) => evaluate(call.body[name], { parsed: scope.parsed, module, depth: scope.depth + 1 }));
  const usesDefault = callers.length === 0 || passed.length < callers.length;
  if (usesDefault) {
    if (!decl || !('default' in decl.body)) return new Unresolved(`var.${name}`);
    values.push(evaluate(decl.body['default'], child(scope, { each: undefined })));
  }
  const first = values[0];
  if (values.length === 0 || values.some((v) => v instanceof Unresolved)) {
    return values.find((v) => v instanceof Unresolved) ?? new Unresolved(`var.${name}`);
  }
  return values.every((v) => JSON.stringify(v) === JSON.stringify(first)) ? first : new Unresolved(`var.${name}`);
}

/** The instances of a resource: one per for_each key, or one. */
function instancesOf(block: TfBlock, parsed: ParsedTf): Instance[] {
  const module = parsed.modules[block.module]!;
  const base: Scope = { parsed, module, depth: 0 };
  if (!('for_each' in block.body)) return [{ block, key: null, scope: base }];
  const forEach = evaluate(block.body['for_each'], base);
  if (Array.isArray(forEach)) {
    return forEach.map((v) => ({ block, key: String(v), scope: child(base, { each: { key: String(v), value: v } }) }));
  }
  if (isObject(forEach)) {
    return Object.entries(forEach).map(([k, v]) => ({ block, key: k, scope: child(base, { each: { key: k, value: v } }) }));
  }
  return [{ block, key: '?', scope: base }];
}

function attribute(instance: Instance, name: string): unknown {
  return evaluate(instance.block.body[name], instance.scope);
}

/** The first nested block `name` of a body (hcl2json writes blocks as arrays). */
function nested(body: unknown, name: string): Body | undefined {
  if (!isObject(body)) return undefined;
  const value = body[name];
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return isObject(first) ? first : undefined;
}

function allNested(body: unknown, name: string): Body[] {
  if (!isObject(body)) return [];
  const value = body[name];
  return (Array.isArray(value) ? value : [value]).filter(isObject);
}

/**
 * The nested blocks `name` of a body, static ones and `dynamic "name"` ones
 * expanded over their for_each (one unresolved copy when it cannot be read),
 * each with the scope its content is evaluated in.
 */
function blocksOf(body: unknown, name: string, scope: Scope): Array<{ body: Body; scope: Scope }> {
  const out = allNested(body, name).map((b) => ({ body: b, scope }));
  const dynamics = isObject(body) ? (Array.isArray(body['dynamic']) ? body['dynamic'] : [body['dynamic']]) : [];
  for (const dynamic of dynamics.filter(isObject).flatMap((d) => allNested(d, name))) {
    const content = nested(dynamic, 'content');
    if (!content) continue;
    const iteratorName = typeof dynamic['iterator'] === 'string' ? dynamic['iterator'] : name;
    const forEach = evaluate(dynamic['for_each'], scope);
    const items: Array<{ key: unknown; value: unknown }> = Array.isArray(forEach)
      ? forEach.map((v, i) => ({ key: typeof v === 'string' ? v : i, value: v }))
      : isObject(forEach)
        ? Object.entries(forEach).map(([k, v]) => ({ key: k, value: v }))
        : [{ key: forEach, value: forEach }];
    for (const item of items) out.push({ body: content, scope: child(scope, { iterators: { ...scope.iterators, [iteratorName]: item } }) });
  }
  return out;
}

function instances(parsed: ParsedTf, type: string): Instance[] {
  return Object.values(parsed.modules)
    .flatMap((m) => m.blocks)
    .filter((b) => b.kind === 'resource' && b.type === type)
    .flatMap((b) => instancesOf(b, parsed));
}

function label(instance: Instance): string {
  const b = instance.block;
  return `${b.type}.${b.name}${instance.key === null ? '' : `["${instance.key}"]`} (${b.file})`;
}

const show = (v: unknown): string => (v instanceof Unresolved ? v.toString() : JSON.stringify(v));

/** `projects/p/topics/name` or `name` -> `name`. */
const lastSegment = (v: unknown): unknown => (typeof v === 'string' ? v.slice(v.lastIndexOf('/') + 1) : v);

/**
 * Every string a value comes from, following var.* to what callers pass and
 * local.* to its definition: used to ask "does this end up at topic X?" where
 * the value runs through a module output the evaluator cannot compute.
 */
function provenance(value: unknown, scope: Scope): string[] {
  if (scope.depth > MAX_DEPTH) return [];
  if (typeof value !== 'string') return isObject(value) || Array.isArray(value) ? [JSON.stringify(value)] : [];
  const out = [value];
  const resolved = evaluate(value, scope);
  if (typeof resolved === 'string' && resolved !== value) out.push(resolved);
  for (const m of value.matchAll(/\b(var|local)\.([A-Za-z_][\w-]*)/g)) {
    const [, kind, name] = m as unknown as [string, string, string];
    if (kind === 'local' && name in scope.module.locals) {
      out.push(...provenance(scope.module.locals[name], child(scope, { each: undefined })));
    } else if (kind === 'var') {
      for (const mod of Object.values(scope.parsed.modules)) {
        for (const call of mod.calls) {
          if (call.dir === scope.module.dir && name in call.body) {
            out.push(...provenance(call.body[name], { parsed: scope.parsed, module: mod, depth: scope.depth + 1 }));
          }
        }
      }
      const decl = scope.module.variables.find((v) => v.name === name);
      if (decl && typeof decl.body['default'] === 'string') out.push(decl.body['default']);
    }
  }
  return out;
}

const mentionsTopic = (sources: string[], topic: string): boolean =>
  sources.some((s) => s === topic || s.endsWith(`/topics/${topic}`) || s.includes(`"${topic}"`));

// ---------------------------------------------------------------------------
// Inventory

export interface PubSubInventory {
  topics: string[];
  subscriptions: Array<{ name: string; topic: string | null }>;
}

/** The topic and subscription names Terraform creates, as far as they can be read. */
export function pubsubInventory(parsed: ParsedTf): PubSubInventory {
  return {
    topics: instances(parsed, 'google_pubsub_topic')
      .map((i) => attribute(i, 'name'))
      .filter((n): n is string => typeof n === 'string'),
    subscriptions: instances(parsed, 'google_pubsub_subscription').flatMap((i) => {
      const name = attribute(i, 'name');
      const topic = lastSegment(attribute(i, 'topic'));
      return typeof name === 'string' ? [{ name, topic: typeof topic === 'string' ? topic : null }] : [];
    }),
  };
}

// ---------------------------------------------------------------------------
// Checks

const PRIMITIVE_ROLE = /(^|[^\w./-])(roles\/(?:owner|editor|viewer))(?![\w./-])/;

function checkPubSub(parsed: ParsedTf, x: InfraExpectations, problems: string[]): void {
  const topics = instances(parsed, 'google_pubsub_topic').map((i) => ({ i, name: attribute(i, 'name') }));
  for (const { i, name } of topics) {
    if (typeof name !== 'string') problems.push(`${label(i)}: the topic name ${show(name)} is not a literal the checks can read`);
  }
  const topicNames = topics.map((t) => t.name).filter((n): n is string => typeof n === 'string');
  for (const topic of x.topics) {
    if (!topicNames.includes(topic)) {
      problems.push(
        `topic "${topic}" is used by the code (packages/contracts Topics) but no google_pubsub_topic in Terraform is named "${topic}" (Terraform has: ${topicNames.join(', ') || 'none'})`,
      );
    }
  }

  const subs = instances(parsed, 'google_pubsub_subscription').map((i) => ({
    i,
    name: attribute(i, 'name'),
    topic: lastSegment(attribute(i, 'topic')),
  }));
  for (const { i, name, topic } of subs) {
    const who = typeof name === 'string' ? `subscription "${name}" in ${label(i)}` : label(i);
    if (typeof name !== 'string') problems.push(`${label(i)}: the subscription name ${show(name)} is not a literal the checks can read`);
    if (typeof topic !== 'string') {
      problems.push(`${who}: its topic ${show(topic)} cannot be read`);
      continue;
    }
    // A dead-letter queue's own subscription cannot dead-letter into itself.
    if (topic === x.deadLetterTopic) continue;
    const dlq = nested(i.block.body, 'dead_letter_policy');
    if (!dlq) {
      problems.push(`${who} has no dead_letter_policy`);
    } else {
      const dlqTopic = lastSegment(evaluate(dlq['dead_letter_topic'], i.scope));
      if (dlqTopic !== x.deadLetterTopic) {
        problems.push(`${who}: dead_letter_policy sends to ${show(dlqTopic)}, expected "${x.deadLetterTopic}"`);
      }
      const attempts = evaluate(dlq['max_delivery_attempts'], i.scope);
      if (typeof attempts !== 'number' || attempts < 5 || attempts > 100) {
        problems.push(`${who}: dead_letter_policy.max_delivery_attempts is ${show(attempts)}, expected a number from 5 to 100`);
      }
    }
    if (!nested(i.block.body, 'retry_policy')) problems.push(`${who} has no retry_policy`);
    const ack = attribute(i, 'ack_deadline_seconds');
    if (typeof ack !== 'number' || ack < 10 || ack > 600) {
      problems.push(`${who}: ack_deadline_seconds is ${show(ack)}, expected a number from 10 to 600`);
    }
    if (nested(i.block.body, 'push_config')) problems.push(`${who} is a push subscription, but Burnback's services pull`);
  }

  for (const expected of x.subscriptions) {
    const found = subs.filter((s) => s.name === expected.name);
    if (found.length === 0) {
      const names = subs.map((s) => s.name).filter((n): n is string => typeof n === 'string');
      problems.push(
        `subscription "${expected.name}" is used by the code (packages/contracts Subscriptions) but no google_pubsub_subscription in Terraform is named "${expected.name}" (Terraform has: ${names.join(', ') || 'none'})`,
      );
      continue;
    }
    for (const s of found) {
      if (s.topic !== expected.topic) {
        problems.push(`subscription "${expected.name}" reads topic ${show(s.topic)} in Terraform but "${expected.topic}" in the code`);
      }
      const ordering = attribute(s.i, 'enable_message_ordering') ?? false;
      if (ordering !== expected.ordered) {
        problems.push(
          `subscription "${expected.name}": enable_message_ordering is ${show(ordering)} in Terraform, but the code ${expected.ordered ? 'relies on ordering (ordered: true)' : 'does not order it (ordered: false)'}`,
        );
      }
    }
  }
}

function lookbackSeconds(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) return null;
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * factor;
}

interface BurnRateCondition {
  policy: Instance;
  lookback: number | null;
  lookbackText: string;
  threshold: unknown;
  comparison: unknown;
}

function checkMonitoring(parsed: ParsedTf, x: InfraExpectations, problems: string[]): void {
  const slos = instances(parsed, 'google_monitoring_slo');
  if (slos.length === 0) problems.push('no google_monitoring_slo in Terraform: the burn-rate alerts need an SLO');
  for (const slo of slos) {
    const goal = attribute(slo, 'goal');
    if (goal !== x.sloGoal) problems.push(`${label(slo)}: goal is ${show(goal)}, expected DEFAULT_POLICY.sloGoal = ${x.sloGoal}`);
  }

  const conditions: BurnRateCondition[] = [];
  const burnRatePolicies = new Set<Instance>();
  for (const policy of instances(parsed, 'google_monitoring_alert_policy')) {
    for (const condition of allNested(policy.block.body, 'conditions')) {
      const threshold = nested(condition, 'condition_threshold');
      const filter = evaluate(threshold?.['filter'], policy.scope);
      if (!threshold || typeof filter !== 'string' || !filter.includes('select_slo_burn_rate')) continue;
      burnRatePolicies.add(policy);
      const m = /select_slo_burn_rate\(\s*"[^"]*"\s*,\s*"([^"]*)"\s*\)/.exec(filter);
      const lookbackText = m?.[1] ?? '';
      conditions.push({
        policy,
        lookback: m ? lookbackSeconds(lookbackText) : null,
        lookbackText: m ? lookbackText : filter,
        threshold: evaluate(threshold['threshold_value'], policy.scope),
        comparison: evaluate(threshold['comparison'], policy.scope),
      });
    }
  }

  for (const c of conditions) {
    const where = label(c.policy);
    if (c.lookback === null) {
      problems.push(`${where}: cannot read the lookback window of select_slo_burn_rate in ${JSON.stringify(c.lookbackText)}`);
      continue;
    }
    const rule = x.burnRates.find((r) => r.longWindowSeconds === c.lookback || r.shortWindowSeconds === c.lookback);
    if (!rule) {
      problems.push(
        `${where}: burn-rate window ${c.lookbackText} is not one of BurnRateWindows (${x.burnRates.map((r) => `${r.longWindowSeconds}s/${r.shortWindowSeconds}s`).join(', ')})`,
      );
      continue;
    }
    if (c.threshold !== rule.threshold) {
      problems.push(
        `${where}: the ${rule.name} burn-rate threshold over ${c.lookbackText} is ${show(c.threshold)}, expected DEFAULT_POLICY.${rule.name}BurnRate = ${rule.threshold}`,
      );
    }
    if (c.comparison !== 'COMPARISON_GT') {
      problems.push(`${where}: burn-rate condition over ${c.lookbackText} compares with ${show(c.comparison)}, expected "COMPARISON_GT"`);
    }
  }

  for (const rule of x.burnRates) {
    const withLong = [...burnRatePolicies].filter((p) => conditions.some((c) => c.policy === p && c.lookback === rule.longWindowSeconds));
    if (withLong.length === 0) {
      problems.push(
        `no alert policy has a ${rule.name}-burn condition select_slo_burn_rate(..., "${rule.longWindowSeconds}s") > ${rule.threshold}`,
      );
    }
    for (const p of withLong) {
      if (!conditions.some((c) => c.policy === p && c.lookback === rule.shortWindowSeconds)) {
        problems.push(
          `${label(p)}: the ${rule.name} burn over ${rule.longWindowSeconds}s is not confirmed by a ${rule.shortWindowSeconds}s window in the same policy`,
        );
      }
      const combiner = attribute(p, 'combiner');
      if (combiner !== 'AND')
        problems.push(`${label(p)}: combiner is ${show(combiner)}, expected "AND" (long and short window must both burn)`);
    }
  }

  for (const p of burnRatePolicies) {
    const labels = attribute(p, 'user_labels');
    for (const key of x.policyUserLabelKeys) {
      const value = isObject(labels) ? labels[key] : undefined;
      if (value === undefined || value === null || value === '') {
        problems.push(`${label(p)}: user label "${key}" (PolicyUserLabels) is missing`);
      }
    }
    const prompts = evaluate(nested(p.block.body, 'alert_strategy')?.['notification_prompts'], p.scope);
    for (const prompt of ['OPENED', 'CLOSED']) {
      if (!Array.isArray(prompts) || !prompts.includes(prompt)) {
        problems.push(`${label(p)}: alert_strategy.notification_prompts does not include ${prompt}`);
      }
    }
    const channels = p.block.body['notification_channels'];
    if (!channels || (Array.isArray(channels) && channels.length === 0)) {
      problems.push(`${label(p)}: no notification_channels, so Burnback never hears of it`);
    }
  }

  const pubsubChannels = instances(parsed, 'google_monitoring_notification_channel').filter((c) => attribute(c, 'type') === 'pubsub');
  const toIncidents = pubsubChannels.filter((c) => {
    const labels = c.block.body['labels'];
    return isObject(labels) && mentionsTopic(provenance(labels['topic'], c.scope), x.incidentsTopic);
  });
  if (toIncidents.length === 0) {
    problems.push(`no google_monitoring_notification_channel of type "pubsub" publishes to topic "${x.incidentsTopic}"`);
  }
  requirePublisher(parsed, x.incidentsTopic, 'gcp-sa-monitoring-notification', 'the Monitoring notification service agent', problems);
  requirePublisher(parsed, x.deployOperationsTopic, 'gcp-sa-clouddeploy', 'the Cloud Deploy service agent', problems);
}

/** A roles/pubsub.publisher grant on `topic` for the service agent whose email contains `agent`. */
function requirePublisher(parsed: ParsedTf, topic: string, agent: string, who: string, problems: string[]): void {
  const ok = instances(parsed, 'google_pubsub_topic_iam_member').some((g) => {
    if (attribute(g, 'role') !== 'roles/pubsub.publisher') return false;
    const member = provenance(g.block.body['member'], g.scope);
    return member.some((m) => m.includes(agent)) && mentionsTopic(provenance(g.block.body['topic'], g.scope), topic);
  });
  if (!ok) problems.push(`${who} (…@${agent}.iam.gserviceaccount.com) is not granted roles/pubsub.publisher on topic "${topic}"`);
}

function checkPipeline(parsed: ParsedTf, x: InfraExpectations, problems: string[]): void {
  const expected = x.pipeline;
  if (!expected) return;
  const pipelines = instances(parsed, 'google_clouddeploy_delivery_pipeline').filter((p) => attribute(p, 'name') === expected.name);
  if (pipelines.length === 0) {
    problems.push(`no google_clouddeploy_delivery_pipeline is named "${expected.name}"`);
    return;
  }
  const targetNames = instances(parsed, 'google_clouddeploy_target')
    .filter((t) => nested(t.block.body, 'run'))
    .map((t) => attribute(t, 'name'));
  for (const target of expected.targets) {
    if (!targetNames.includes(target)) problems.push(`no Cloud Run google_clouddeploy_target is named "${target}"`);
  }
  for (const p of pipelines) {
    const stages = allNested(nested(p.block.body, 'serial_pipeline'), 'stages');
    const ids = stages.map((s) => lastSegment(evaluate(s['target_id'], p.scope)));
    if (JSON.stringify(ids) !== JSON.stringify(expected.targets)) {
      problems.push(`${label(p)}: stages go ${ids.map(show).join(' -> ')}, expected ${expected.targets.join(' -> ')}`);
    }
    const last = stages[stages.length - 1];
    const canary = nested(nested(last, 'strategy'), 'canary');
    const deployment = nested(canary, 'canary_deployment');
    const percentages = evaluate(deployment?.['percentages'], p.scope);
    if (JSON.stringify(percentages) !== JSON.stringify(expected.canaryPercentages)) {
      problems.push(
        `${label(p)}: the last stage's canary percentages are ${show(percentages)}, expected ${JSON.stringify(expected.canaryPercentages)} (then 100 % stable)`,
      );
    }
    if (evaluate(deployment?.['verify'], p.scope) !== true)
      problems.push(`${label(p)}: the canary does not verify (canary_deployment.verify)`);
    const traffic = evaluate(nested(nested(canary, 'runtime_config'), 'cloud_run')?.['automatic_traffic_control'], p.scope);
    if (traffic !== true) problems.push(`${label(p)}: canary runtime_config.cloud_run.automatic_traffic_control is not true`);
  }
}

function scanStrings(value: unknown, at: string, visit: (text: string, at: string) => void): void {
  if (typeof value === 'string') visit(value, at);
  else if (Array.isArray(value)) value.forEach((v, i) => scanStrings(v, `${at}[${i}]`, visit));
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) if (k !== 'description') scanStrings(v, `${at}.${k}`, visit);
  }
}

/** Every composite index the code needs exists in Terraform, on the same collection with the same fields in the same order. */
function checkFirestoreIndexes(parsed: ParsedTf, x: InfraExpectations, problems: string[]): void {
  const declared = instances(parsed, 'google_firestore_index').map((instance) => ({
    label: label(instance),
    collection: attribute(instance, 'collection'),
    fields: allNested(instance.block.body, 'fields').map((f) => [
      evaluate(f.field_path, instance.scope),
      evaluate(f.order, instance.scope),
    ]),
  }));
  const shape = (collection: unknown, fields: ReadonlyArray<readonly unknown[]>) =>
    `${String(collection)}(${fields.map(([path, order]) => `${String(path)} ${String(order)}`).join(', ')})`;
  for (const index of x.firestoreIndexes) {
    const wanted = shape(index.collection, index.fields);
    if (!declared.some((d) => shape(d.collection, d.fields) === wanted))
      problems.push(
        `Firestore index ${index.name} ${wanted} is needed by the code (packages/contracts FirestoreIndexes) but no google_firestore_index in Terraform has it` +
          (declared.length ? ` (Terraform has: ${declared.map((d) => shape(d.collection, d.fields)).join('; ')})` : ''),
      );
  }
}

function checkRoles(parsed: ParsedTf, problems: string[]): void {
  const report = (text: string, at: string): void => {
    const m = PRIMITIVE_ROLE.exec(text);
    if (m) problems.push(`${at} grants the primitive role ${m[2]}; grant a predefined role on the narrowest resource instead`);
  };
  for (const mod of Object.values(parsed.modules)) {
    for (const b of mod.blocks) scanStrings(b.body, `${b.file}: ${b.kind === 'data' ? 'data.' : ''}${b.type}.${b.name}`, report);
    for (const c of mod.calls) scanStrings(c.body, `${c.file}: module.${c.name}`, report);
    scanStrings(mod.locals, `${mod.dir || '.'}: locals`, report);
    for (const v of mod.variables) scanStrings(v.body['default'], `${v.file}: variable "${v.name}" default`, report);
  }
}

function checkVariables(parsed: ParsedTf, problems: string[]): void {
  for (const mod of Object.values(parsed.modules)) {
    for (const v of mod.variables) {
      const d = v.body['description'];
      if (typeof d !== 'string' || d.trim() === '') problems.push(`${v.file}: variable "${v.name}" has no description`);
    }
  }
}

/** The Burnback service an expression names: the key it indexes `var.service_accounts` with (e.g. `each.value.who`). */
function serviceAccountKey(raw: unknown, scope: Scope): string | null {
  const m = typeof raw === 'string' ? /var\.service_accounts\[([^\]]+)\]/.exec(raw) : null;
  if (!m) return null;
  const who = evaluate(`\${${m[1]!}}`, scope);
  return typeof who === 'string' ? who : null;
}

/** The Burnback service a grant's member is. */
const grantee = (instance: Instance): string | null => serviceAccountKey(instance.block.body['member'], instance.scope);

/** Every topic a service's code publishes to has a roles/pubsub.publisher grant for that service's account. */
function checkPublishers(parsed: ParsedTf, x: InfraExpectations, problems: string[]): void {
  const grants = instances(parsed, 'google_pubsub_topic_iam_member')
    .filter((g) => attribute(g, 'role') === 'roles/pubsub.publisher')
    .map((g) => ({ who: grantee(g), topic: lastSegment(attribute(g, 'topic')) }));
  for (const p of x.publishers) {
    if (!grants.some((g) => g.who === p.service && g.topic === p.topic)) {
      problems.push(
        `service "${p.service}" publishes to topic "${p.topic}" (${p.source}) but no google_pubsub_topic_iam_member grants ${p.service} roles/pubsub.publisher on it`,
      );
    }
  }
}

/** Every subscription a service's code consumes has a roles/pubsub.subscriber grant on it for that service's account. */
function checkSubscribers(parsed: ParsedTf, x: InfraExpectations, problems: string[]): void {
  const grants = instances(parsed, 'google_pubsub_subscription_iam_member')
    .filter((g) => attribute(g, 'role') === 'roles/pubsub.subscriber')
    .map((g) => ({ who: grantee(g), subscription: lastSegment(attribute(g, 'subscription')) }));
  for (const s of x.subscribers) {
    if (!grants.some((g) => g.who === s.service && g.subscription === s.subscription)) {
      problems.push(
        `service "${s.service}" consumes subscription "${s.subscription}" (${s.source}) but no google_pubsub_subscription_iam_member grants ${s.service} roles/pubsub.subscriber on it`,
      );
    }
  }
}

/** A Cloud Run service instance and the Burnback service whose account it runs as. */
function cloudRunServices(parsed: ParsedTf): Array<{ run: Instance; service: string | null }> {
  return instances(parsed, 'google_cloud_run_v2_service').map((run) => ({
    run,
    service: serviceAccountKey(nested(run.block.body, 'template')?.['service_account'], run.scope),
  }));
}

/**
 * Each Burnback service has a service account of its own and a Cloud Run
 * service that runs as it with its own image; a pull subscriber always runs
 * (at least one instance, CPU always allocated); a service with no HTTP front
 * door takes internal traffic only and no one may invoke it; a service that
 * uses Firestore may read and write it.
 */
function checkServices(parsed: ParsedTf, x: InfraExpectations, problems: string[]): void {
  const accounts = instances(parsed, 'google_service_account').map((a) => attribute(a, 'account_id'));
  const runs = cloudRunServices(parsed);
  const invokers = instances(parsed, 'google_cloud_run_v2_service_iam_member').filter((g) => attribute(g, 'role') === 'roles/run.invoker');
  const datastore = instances(parsed, 'google_project_iam_member')
    .filter((g) => attribute(g, 'role') === 'roles/datastore.user')
    .map(grantee);
  for (const service of x.services) {
    if (!accounts.some((a) => typeof a === 'string' && a.endsWith(`-${service.name}`)))
      problems.push(`service "${service.name}" has no google_service_account of its own (no account_id ends in "-${service.name}")`);
    if (service.firestore && !datastore.includes(service.name))
      problems.push(
        `service "${service.name}" uses Firestore (${service.firestore}) but no google_project_iam_member grants ${service.name} roles/datastore.user`,
      );
    const own = runs.filter((r) => r.service === service.name);
    if (own.length === 0) {
      problems.push(
        `service "${service.name}" has no google_cloud_run_v2_service running as its service account (var.service_accounts["${service.name}"])`,
      );
      continue;
    }
    for (const { run } of own) {
      const template = nested(run.block.body, 'template');
      const container = nested(template, 'containers');
      const image = serviceImageKey(container?.['image'], run.scope);
      if (image !== service.name)
        problems.push(
          `${label(run)}: service "${service.name}" runs ${image === null ? 'an image that is not var.images[…]' : `var.images["${image}"]`}, not its own image`,
        );
      checkMemory(run, service.name, x.runtime[service.name], problems);
      if (x.subscribers.some((s) => s.service === service.name)) {
        const min = evaluate(nested(template, 'scaling')?.['min_instance_count'], run.scope);
        if (typeof min !== 'number' || min < 1)
          problems.push(
            `${label(run)}: service "${service.name}" pulls subscriptions but min_instance_count is ${show(min)}; a pull subscriber needs at least 1`,
          );
        if (evaluate(nested(container, 'resources')?.['cpu_idle'], run.scope) !== false)
          problems.push(
            `${label(run)}: service "${service.name}" pulls subscriptions but its CPU is not always allocated (resources.cpu_idle = false)`,
          );
      }
      if (service.frontDoor) continue;
      const ingress = attribute(run, 'ingress');
      if (ingress !== 'INGRESS_TRAFFIC_INTERNAL_ONLY')
        problems.push(
          `${label(run)}: service "${service.name}" has no HTTP front door, but its ingress is ${show(ingress)}, not "INGRESS_TRAFFIC_INTERNAL_ONLY"`,
        );
      const name = attribute(run, 'name');
      for (const g of invokers.filter((i) => attribute(i, 'name') === name))
        problems.push(`${label(g)}: grants roles/run.invoker on ${show(name)}, but service "${service.name}" has no HTTP front door`);
    }
  }
}

/** A Cloud Run memory limit ("256Mi", "0.5Gi", "512M", bytes) in MiB; null when it is not one. */
export function memoryMiBOf(value: unknown): number | null {
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(value) : null;
  if (!m) return null;
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return (Number(m[1]) * unit) / 2 ** 20;
}

/**
 * A service's container has the memory limit ServiceRuntime gives it (its image's
 * heap bound is sized for it), in the execution environment that takes that limit
 * (the second generation's minimum is 512 MiB), and no NODE_OPTIONS of its own
 * other than the image's.
 */
function checkMemory(run: Instance, service: string, runtime: ServiceRuntimeLimits | undefined, problems: string[]): void {
  if (!runtime) {
    problems.push(`service "${service}" has no memory limit in ServiceRuntime (packages/platform/src/service-runtime.ts)`);
    return;
  }
  const template = nested(run.block.body, 'template');
  const container = nested(template, 'containers');
  const limits = evaluate(nested(container, 'resources')?.['limits'], run.scope);
  const memory = isObject(limits) ? limits['memory'] : undefined;
  if (memoryMiBOf(memory) !== runtime.memoryMiB)
    problems.push(
      `${label(run)}: service "${service}" has memory limit ${show(memory)}, but ServiceRuntime gives it ${cloudRunMemory(runtime.memoryMiB)}, which its heap bound (${runtime.nodeOptions}) is sized for`,
    );
  const environment = evaluate(template?.['execution_environment'], run.scope);
  if (runtime.memoryMiB < 512 && environment !== 'EXECUTION_ENVIRONMENT_GEN1')
    problems.push(
      `${label(run)}: service "${service}" has ${cloudRunMemory(runtime.memoryMiB)} of memory, below the second generation's 512Mi minimum, but execution_environment is ${environment === undefined ? 'unset' : show(environment)}, not "EXECUTION_ENVIRONMENT_GEN1"`,
    );
  for (const { body, scope } of blocksOf(container, 'env', run.scope)) {
    if (evaluate(body['name'], scope) !== 'NODE_OPTIONS') continue;
    const value = evaluate(body['value'], scope);
    if (value !== runtime.nodeOptions)
      problems.push(`${label(run)}: service "${service}" sets NODE_OPTIONS to ${show(value)}, not its image's ${runtime.nodeOptions}`);
  }
}

/** The key an image expression indexes `var.images` with (e.g. `each.key`). */
function serviceImageKey(raw: unknown, scope: Scope): string | null {
  const m = typeof raw === 'string' ? /var\.images\[([^\]]+)\]/.exec(raw) : null;
  if (!m) return null;
  const key = evaluate(`\${${m[1]!}}`, scope);
  return typeof key === 'string' ? key : null;
}

/** A secret a Cloud Run service reads: mounted as a volume, or as an environment variable (value_source.secret_key_ref). */
export interface SecretRead {
  /** The Cloud Run service, as label() writes it. */
  run: string;
  /** The Burnback service whose account it runs as (null when that cannot be read). */
  service: string | null;
  /** The environment variable, or null for a mounted volume. */
  env: string | null;
  /** The secret's id as far as it can be read (last segment of projects/…/secrets/<id>). */
  secret: unknown;
}

/** Every secret each Cloud Run service reads, `dynamic "env"` blocks expanded. */
export function secretReads(parsed: ParsedTf): SecretRead[] {
  return cloudRunServices(parsed).flatMap(({ run, service }) => {
    const template = nested(run.block.body, 'template');
    const mounted = allNested(template, 'volumes').flatMap((v) => {
      const secret = nested(v, 'secret');
      return secret ? [{ run: label(run), service, env: null, secret: lastSegment(evaluate(secret['secret'], run.scope)) }] : [];
    });
    const env = allNested(template, 'containers')
      .flatMap((c) => blocksOf(c, 'env', run.scope))
      .flatMap(({ body, scope }) => {
        const ref = nested(nested(body, 'value_source'), 'secret_key_ref');
        if (!ref) return [];
        const name = evaluate(body['name'], scope);
        return [
          {
            run: label(run),
            service,
            env: typeof name === 'string' ? name : show(name),
            secret: lastSegment(evaluate(ref['secret'], scope)),
          },
        ];
      });
    return [...mounted, ...env];
  });
}

/** Every secret a Cloud Run service reads is one its own service account is granted roles/secretmanager.secretAccessor on. */
function checkSecretAccess(parsed: ParsedTf, problems: string[]): void {
  const grants = instances(parsed, 'google_secret_manager_secret_iam_member')
    .filter((g) => attribute(g, 'role') === 'roles/secretmanager.secretAccessor')
    .map((g) => ({ who: grantee(g), secret: lastSegment(attribute(g, 'secret_id')) }));
  for (const read of secretReads(parsed)) {
    const what = read.env === null ? 'mounts a secret' : `reads env ${read.env} from a secret`;
    if (typeof read.secret !== 'string' || read.service === null) {
      problems.push(
        `${read.run} ${what} the checks cannot follow (${show(read.secret)}, run as ${read.service ?? 'an account that is not var.service_accounts[…]'})`,
      );
      continue;
    }
    if (!grants.some((g) => g.who === read.service && g.secret === read.secret))
      problems.push(
        `${read.run} ${what} "${read.secret}", but no google_secret_manager_secret_iam_member grants ${read.service} roles/secretmanager.secretAccessor on it`,
      );
  }
}

/** Every problem found, as sentences naming the file and the name involved; empty when all is well. */
export function checkInfra(parsed: ParsedTf, expectations: InfraExpectations = contractExpectations()): string[] {
  const problems: string[] = [];
  if (Object.keys(parsed.modules).length === 0) return [`no *.tf files under ${parsed.root}`];
  checkPubSub(parsed, expectations, problems);
  checkPublishers(parsed, expectations, problems);
  checkSubscribers(parsed, expectations, problems);
  checkServices(parsed, expectations, problems);
  checkSecretAccess(parsed, problems);
  checkMonitoring(parsed, expectations, problems);
  checkPipeline(parsed, expectations, problems);
  checkFirestoreIndexes(parsed, expectations, problems);
  checkRoles(parsed, problems);
  checkVariables(parsed, problems);
  return problems;
}
