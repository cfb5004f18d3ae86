import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  CLOUD_DEPLOY_ID,
  DEFAULT_BAD_REQUESTS,
  parseBadRequestPredicate,
  PolicyOverrides,
  PolicySettings,
  type BadRequestPredicate,
  type PolicySettingsInput,
} from '@burnback/contracts';
import { parseCrashPlans, type CrashPlan } from './chaos.js';
import { ConfigError } from './errors.js';

const HostPort = z.string().regex(/^[^:\s/]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8085');
const ResourceId = z.string().regex(CLOUD_DEPLOY_ID, 'expected a Cloud Deploy resource id (lowercase letters, digits, hyphens)');
/** An SLO's resource name, as `select_slo_burn_rate` takes it. */
export const SLO_NAME = /^projects\/[^/\s"]+\/services\/[^/\s"]+\/serviceLevelObjectives\/[^/\s"]+$/;
/** A Cloud Monitoring metric type: a domain, a slash, a path (`run.googleapis.com/request_count`). */
const METRIC_TYPE = /^[a-z0-9-]+(\.[a-z0-9-]+)+\/[A-Za-z0-9_./-]+$/;

/** What a service does when Cloud Monitoring cannot answer before a rollback (see onMonitoringUnavailable). */
export const MonitoringUnavailableActions = { escalate: 'escalate', decideWithout: 'decide-without', hold: 'hold' } as const;
export type MonitoringUnavailableAction = (typeof MonitoringUnavailableActions)[keyof typeof MonitoringUnavailableActions];

const MetricType = z.string().regex(METRIC_TYPE, 'expected a metric type such as run.googleapis.com/request_count');

/**
 * Which alert metrics count as an error ratio for a service. Only a ratio of
 * request counts whose filter and denominatorFilter both select a metric type
 * named here, and whose numerator selects exactly the bad requests (or, for a
 * ratio alerting below its threshold, every request but the bad ones), is read
 * as an error ratio; everything else is unsupported. `badRequests` says, per
 * metric type, what makes a request bad (`metric.labels.response_code_class =
 * "5xx"`); Cloud Run, App Engine, Istio and load-balancer request counts have
 * defaults (DEFAULT_BAD_REQUESTS), any other type must be given one.
 */
const SignalsFile = z
  .object({
    errorRatio: z
      .object({
        metricTypes: z.array(MetricType).min(1, 'name at least one metric type'),
        badRequests: z.record(MetricType, z.string().min(1)).optional(),
      })
      .strict()
      .superRefine((e, ctx) => {
        for (const [type, text] of Object.entries(e.badRequests ?? {})) {
          if (!e.metricTypes.includes(type))
            ctx.addIssue({ code: 'custom', path: ['badRequests', type], message: `${type} is not one of metricTypes` });
          const predicate = parseBadRequestPredicate(text);
          if ('error' in predicate) ctx.addIssue({ code: 'custom', path: ['badRequests', type], message: predicate.error });
        }
        for (const [i, type] of e.metricTypes.entries()) {
          if (!Object.hasOwn(e.badRequests ?? {}, type) && !DEFAULT_BAD_REQUESTS.has(type))
            ctx.addIssue({
              code: 'custom',
              path: ['metricTypes', i],
              message: `Burnback does not know what makes a ${type} request bad: name it in badRequests (e.g. ${type}: 'metric.labels.response_code >= 500')`,
            });
        }
      })
      .optional(),
  })
  .strict();

/** What makes a request of each error-ratio metric type bad: the config's predicate, else the shipped default. */
export function errorRatioMetrics(errorRatio: {
  metricTypes: string[];
  badRequests?: Record<string, string> | undefined;
}): ErrorRatioMetric[] {
  return errorRatio.metricTypes.map((metricType) => {
    const text = Object.hasOwn(errorRatio.badRequests ?? {}, metricType)
      ? errorRatio.badRequests![metricType]!
      : DEFAULT_BAD_REQUESTS.get(metricType)!;
    return { metricType, badRequests: parseBadRequestPredicate(text) as BadRequestPredicate };
  });
}

/** One service Burnback protects: where incidents come from and which Cloud Deploy target to roll back. */
const ServiceFile = z
  .object({
    project: z.string().min(1).optional(),
    /**
     * The project's number: Cloud Deploy's notifications may name the project by it. Needed only when two services
     * share a region, pipeline and target in different projects; otherwise learned from Cloud Deploy at start.
     */
    projectNumber: z
      .union([z.string().regex(/^\d{6,20}$/, 'expected the project number (digits)'), z.number().int().positive()])
      .transform(String)
      .optional(),
    region: z.string().min(1).default('us-central1'),
    pipeline: ResourceId,
    target: ResourceId,
    /** Resource labels an incident must carry to map to this service (default: Cloud Run `service_name` = the service's key). */
    match: z
      .object({
        resourceType: z.string().min(1).optional(),
        resourceLabels: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .optional(),
    policy: PolicyOverrides.default({}),
    /** The SLO whose burn rate the decider reads from Cloud Monitoring before it rolls back. */
    slo: z.string().regex(SLO_NAME, 'expected projects/PROJECT/services/SERVICE/serviceLevelObjectives/SLO').optional(),
    /**
     * When Cloud Monitoring still cannot answer after policy.monitoringRetryMinutes: `escalate` (default; the burn
     * cannot be confirmed, so a human hears of it), `hold`, or `decide-without`.
     */
    onMonitoringUnavailable: z
      .enum([MonitoringUnavailableActions.escalate, MonitoringUnavailableActions.decideWithout, MonitoringUnavailableActions.hold])
      .optional(),
    signals: SignalsFile.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.onMonitoringUnavailable !== undefined && s.slo === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['onMonitoringUnavailable'],
        message: 'only means something with slo: name the SLO whose burn rate Cloud Monitoring is asked for',
      });
    }
  });

const ConfigFile = z
  .object({
    policy: PolicyOverrides.default({}),
    services: z
      .record(
        z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'service names are lowercase letters, digits, _ and -, at most 63'),
        ServiceFile,
      )
      .default({}),
  })
  .strict();

/** A request-count metric read as an error ratio, and what makes one of its requests bad. */
export interface ErrorRatioMetric {
  metricType: string;
  badRequests: BadRequestPredicate;
}

export interface ServiceConfig {
  name: string;
  project: string;
  /** The project's number from the config; null = not given (the decider learns it from Cloud Deploy at start). */
  projectNumber: string | null;
  region: string;
  pipeline: string;
  target: string;
  match: { resourceType: string | null; resourceLabels: Record<string, string> };
  policy: PolicySettings;
  /** `projects/P/services/S/serviceLevelObjectives/O`: the SLO to confirm a burn on; null = no confirmation. */
  slo: string | null;
  /** What to do when Cloud Monitoring still cannot answer after the retry window (only with `slo`); default `escalate`. */
  onMonitoringUnavailable: MonitoringUnavailableAction;
  /** Alert metrics this service reads as an error ratio, each with what makes its requests bad (none by default: only SLO burn rates count). */
  signals: { errorRatio: { metrics: ErrorRatioMetric[] } | null };
}

/** Where HTTP servers listen unless told otherwise: loopback, so a local run is not reachable from the network. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const ListenHost = z
  .string()
  .refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), 'expected an IP address or host name to listen on, e.g. 127.0.0.1 or 0.0.0.0')
  .default(DEFAULT_LISTEN_HOST);

/**
 * BURNBACK_LISTEN_HOST as the HTTP servers read it (default 127.0.0.1; containers set 0.0.0.0).
 * loadConfig() refuses a bad value at start; here a bad one throws the same ConfigError.
 */
export function listenHostFrom(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.BURNBACK_LISTEN_HOST === '' ? undefined : env.BURNBACK_LISTEN_HOST;
  const parsed = ListenHost.safeParse(value);
  if (!parsed.success) throw new ConfigError('BURNBACK_LISTEN_HOST', parsed.error.issues[0]!.message);
  return parsed.data;
}

/**
 * How `POST /pubsub/push` authenticates a delivery: Pub/Sub's OIDC token (signed
 * by Google, for `audience`, of the push subscription's `serviceAccount`), or
 * `unsigned` (local only: the Pub/Sub emulator sends no token). Null: the route answers 503.
 */
export type PushAuthConfig = { kind: 'oidc'; audience: string; serviceAccount: string } | { kind: 'unsigned' } | null;

export interface Config {
  projectId: string;
  pubsubEmulatorHost: string | null;
  firestoreEmulatorHost: string | null;
  cloudDeployEndpoint: string | null;
  cloudMonitoringEndpoint: string | null;
  webhookToken: string | null;
  /** Bearer token of the management routes (`/rollback/…`), separate from the webhook's; null = those routes answer 503. */
  managementToken: string | null;
  port: number;
  /** The address the HTTP servers listen on (BURNBACK_LISTEN_HOST): 127.0.0.1 unless a container opts in to 0.0.0.0. */
  listenHost: string;
  pushAuth: PushAuthConfig;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** How often the executor polls GetRollout. */
  pollIntervalMs: number;
  /** How long a tracker's claim holds a rollback: a tracker that dies holding it delays that rollback by at most this. */
  trackerLeaseMs: number;
  /** The decider re-sends a rollback command this long after its last send while no progress beyond `accepted` came back. */
  commandResendMs: number;
  /** Test-only crash points (BURNBACK_CHAOS_CRASH_AT, see chaos.ts); empty in every deployment. */
  chaosCrashAt: CrashPlan[];
  configPath: string;
  policy: PolicySettings;
  /** The services by name: a Map, so a name from outside (a label, a path) never reaches Object.prototype. */
  services: ReadonlyMap<string, ServiceConfig>;
}

const Env = z.object({
  GOOGLE_CLOUD_PROJECT: z
    .string({ error: 'the Google Cloud project id' })
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'expected a Google Cloud project id'),
  PUBSUB_EMULATOR_HOST: HostPort.optional(),
  FIRESTORE_EMULATOR_HOST: HostPort.optional(),
  CLOUD_DEPLOY_ENDPOINT: HostPort.optional(),
  CLOUD_MONITORING_ENDPOINT: HostPort.optional(),
  BURNBACK_CONFIG: z.string({ error: 'the path to the Burnback YAML config' }),
  BURNBACK_WEBHOOK_TOKEN: z.string().min(16, 'the webhook token must be at least 16 characters').optional(),
  BURNBACK_MANAGEMENT_TOKEN: z.string().min(16, 'the management token must be at least 16 characters').optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  BURNBACK_LISTEN_HOST: ListenHost,
  BURNBACK_PUSH_AUDIENCE: z.string().optional(),
  BURNBACK_PUSH_SERVICE_ACCOUNT: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'expected the push subscription service account email, e.g. push@PROJECT.iam.gserviceaccount.com')
    .optional(),
  BURNBACK_PUSH_ALLOW_UNSIGNED: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  BURNBACK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
  BURNBACK_TRACKER_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  BURNBACK_COMMAND_RESEND_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
  BURNBACK_CHAOS_CRASH_AT: z.string().optional(),
});

const firstIssue = (error: z.ZodError, prefix: string): ConfigError => {
  const issue = error.issues[0]!;
  const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key(s) ${issue.keys.join(', ')}${issue.keys.includes('dryRun') ? ' (dryRun was replaced by mode: observe | recommend | auto; dryRun: true is mode: observe)' : ''}`
      : // A bad record key ("Invalid key in record"): say what a key must be.
        issue.code === 'invalid_key'
        ? issue.issues.map((i) => i.message).join('; ')
        : issue.message;
  return new ConfigError(key || prefix, message);
};

/** The push route's authentication: both OIDC settings or neither, and unsigned pushes only when asked for and never with OIDC. */
function pushAuthOf(e: z.infer<typeof Env>): PushAuthConfig {
  const audience = e.BURNBACK_PUSH_AUDIENCE;
  const serviceAccount = e.BURNBACK_PUSH_SERVICE_ACCOUNT;
  const unsigned = e.BURNBACK_PUSH_ALLOW_UNSIGNED === 'true';
  if (audience !== undefined && serviceAccount === undefined)
    throw new ConfigError(
      'BURNBACK_PUSH_SERVICE_ACCOUNT',
      'is required with BURNBACK_PUSH_AUDIENCE (the push subscription service account email)',
    );
  if (serviceAccount !== undefined && audience === undefined)
    throw new ConfigError(
      'BURNBACK_PUSH_AUDIENCE',
      'is required with BURNBACK_PUSH_SERVICE_ACCOUNT (the audience of the push subscription OIDC token)',
    );
  if (audience !== undefined && serviceAccount !== undefined) {
    if (unsigned)
      throw new ConfigError(
        'BURNBACK_PUSH_ALLOW_UNSIGNED',
        'cannot be combined with BURNBACK_PUSH_AUDIENCE: unsigned pushes are for the local emulator only',
      );
    return { kind: 'oidc', audience, serviceAccount };
  }
  return unsigned ? { kind: 'unsigned' } : null;
}

/**
 * Reads Burnback's configuration from the environment and the YAML file at
 * BURNBACK_CONFIG. Throws one ConfigError naming the bad key. Never called at import time.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankToUndefined = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
  const parsedEnv = Env.safeParse(blankToUndefined);
  if (!parsedEnv.success) {
    const issue = parsedEnv.error.issues[0]!;
    const key = String(issue.path[0] ?? 'environment');
    throw new ConfigError(key, blankToUndefined[key] === undefined ? `is required (${issue.message})` : issue.message);
  }
  const e = parsedEnv.data;
  const pushAuth = pushAuthOf(e);
  const chaosCrashAt = parseCrashPlans(e.BURNBACK_CHAOS_CRASH_AT);
  // The chaos suite's self-kill switch only where the chaos suite runs: on the emulators, never against real services.
  if (chaosCrashAt.length > 0 && (!e.PUBSUB_EMULATOR_HOST || !e.FIRESTORE_EMULATOR_HOST))
    throw new ConfigError(
      'BURNBACK_CHAOS_CRASH_AT',
      'makes this worker kill itself on purpose, for the chaos suite only: it is refused unless PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST are both set',
    );

  let text: string;
  try {
    text = readFileSync(e.BURNBACK_CONFIG, 'utf8');
  } catch (err) {
    throw new ConfigError('BURNBACK_CONFIG', `cannot read ${e.BURNBACK_CONFIG}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError('BURNBACK_CONFIG', `${e.BURNBACK_CONFIG} is not valid YAML: ${(err as Error).message}`);
  }
  const file = ConfigFile.safeParse(raw);
  if (!file.success) throw firstIssue(file.error, e.BURNBACK_CONFIG);

  const mergePolicy = (base: PolicySettingsInput, override: PolicySettingsInput, at: string): PolicySettings => {
    const merged = PolicySettings.safeParse({ ...base, ...override });
    if (!merged.success) throw firstIssue(merged.error, at);
    return merged.data;
  };
  const policy = mergePolicy({}, file.data.policy, `${e.BURNBACK_CONFIG}.policy`);
  const services = new Map<string, ServiceConfig>();
  // eslint-disable-next-line no-restricted-syntax -- the parsed YAML record, its keys checked by the schema; this builds the Map
  for (const [name, s] of Object.entries(file.data.services)) {
    services.set(name, {
      name,
      project: s.project ?? e.GOOGLE_CLOUD_PROJECT,
      projectNumber: s.projectNumber ?? null,
      region: s.region,
      pipeline: s.pipeline,
      target: s.target,
      match: {
        resourceType: s.match?.resourceType ?? null,
        resourceLabels: s.match && Object.keys(s.match.resourceLabels).length > 0 ? s.match.resourceLabels : { service_name: name },
      },
      policy: mergePolicy(policy, s.policy, `${e.BURNBACK_CONFIG}.services.${name}.policy`),
      slo: s.slo ?? null,
      onMonitoringUnavailable: s.onMonitoringUnavailable ?? MonitoringUnavailableActions.escalate,
      signals: { errorRatio: s.signals?.errorRatio ? { metrics: errorRatioMetrics(s.signals.errorRatio) } : null },
    });
  }

  // Two services on one target could both order a rollback of it, each within its own limits: refuse at start.
  const byTarget = new Map<string, string>();
  for (const s of services.values()) {
    const key = `${s.project}/${s.region}/${s.pipeline}/${s.target}`;
    const other = byTarget.get(key);
    if (other !== undefined)
      throw new ConfigError(
        `${e.BURNBACK_CONFIG}.services.${s.name}`,
        `services "${other}" and "${s.name}" share the Cloud Deploy target ${key}; each target may be rolled back by one service only`,
      );
    byTarget.set(key, s.name);
  }
  // Cloud Deploy's notifications may name a project by its number: two projects with one region, pipeline and target
  // are told apart only by their numbers, so both must be given (else one project's rollouts would teach the other's).
  const byPipelineTarget = new Map<string, ServiceConfig>();
  for (const s of services.values()) {
    const key = `${s.region}/${s.pipeline}/${s.target}`;
    const other = byPipelineTarget.get(key);
    if (other !== undefined && other.project !== s.project && (other.projectNumber === null || s.projectNumber === null))
      throw new ConfigError(
        `${e.BURNBACK_CONFIG}.services.${(other.projectNumber === null ? other : s).name}.projectNumber`,
        `services "${other.name}" (project ${other.project}) and "${s.name}" (project ${s.project}) both roll back ${key}: Cloud Deploy's notifications may name a project by its number, so name projectNumber for both`,
      );
    if (other === undefined) byPipelineTarget.set(key, s);
  }

  return {
    projectId: e.GOOGLE_CLOUD_PROJECT,
    pubsubEmulatorHost: e.PUBSUB_EMULATOR_HOST ?? null,
    firestoreEmulatorHost: e.FIRESTORE_EMULATOR_HOST ?? null,
    cloudDeployEndpoint: e.CLOUD_DEPLOY_ENDPOINT ?? null,
    cloudMonitoringEndpoint: e.CLOUD_MONITORING_ENDPOINT ?? null,
    webhookToken: e.BURNBACK_WEBHOOK_TOKEN ?? null,
    managementToken: e.BURNBACK_MANAGEMENT_TOKEN ?? null,
    port: e.PORT,
    listenHost: e.BURNBACK_LISTEN_HOST,
    pushAuth,
    logLevel: e.LOG_LEVEL,
    pollIntervalMs: e.BURNBACK_POLL_INTERVAL_MS,
    trackerLeaseMs: e.BURNBACK_TRACKER_LEASE_MS,
    commandResendMs: e.BURNBACK_COMMAND_RESEND_MS,
    chaosCrashAt,
    configPath: e.BURNBACK_CONFIG,
    policy,
    services,
  };
}
