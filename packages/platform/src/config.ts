import { readFileSync } from 'node:fs';
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
import { Env, pushAuthOf, type PushAuthConfig } from './config-env.js';

export { DEFAULT_LISTEN_HOST, listenHostFrom, type PushAuthConfig } from './config-env.js';
import { MatchLabels, PrometheusMetrics } from './prometheus-config.js';
import { DEFAULT_NOTIFY_RETRY_MINUTES, NotifyFile, notifyDestinationsFrom, type NotifyDestination } from './notify-config.js';

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
        metricTypes: z.array(MetricType).min(1, 'name at least one metric type').optional(),
        badRequests: z.record(MetricType, z.string().min(1)).optional(),
        prometheusMetrics: PrometheusMetrics.optional(),
      })
      .strict()
      .superRefine((e, ctx) => {
        if (e.metricTypes === undefined && e.prometheusMetrics === undefined)
          ctx.addIssue({ code: 'custom', message: 'name metricTypes (Cloud Monitoring) or prometheusMetrics (Alertmanager)' });
        for (const [type, text] of Object.entries(e.badRequests ?? {})) {
          if (!(e.metricTypes ?? []).includes(type))
            ctx.addIssue({ code: 'custom', path: ['badRequests', type], message: `${type} is not one of metricTypes` });
          const predicate = parseBadRequestPredicate(text);
          if ('error' in predicate) ctx.addIssue({ code: 'custom', path: ['badRequests', type], message: predicate.error });
        }
        for (const [i, type] of (e.metricTypes ?? []).entries()) {
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
  metricTypes?: string[] | undefined;
  badRequests?: Record<string, string> | undefined;
}): ErrorRatioMetric[] {
  return (errorRatio.metricTypes ?? []).map((metricType) => {
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
        labels: MatchLabels,
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
    notify: NotifyFile,
    /** How long the notifier retries a destination that does not answer (or answers 5xx / 429) before it dead-letters. */
    notifyRetryMinutes: z.number().int().min(1).max(1440).default(DEFAULT_NOTIFY_RETRY_MINUTES),
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
  /** `labels`: what an Alertmanager alert must carry to map here (absent or empty: only its burnback_service or service label names it). */
  match: { resourceType: string | null; resourceLabels: Record<string, string>; labels?: Record<string, string> };
  policy: PolicySettings;
  /** `projects/P/services/S/serviceLevelObjectives/O`: the SLO to confirm a burn on; null = no confirmation. */
  slo: string | null;
  /** What to do when Cloud Monitoring still cannot answer after the retry window (only with `slo`); default `escalate`. */
  onMonitoringUnavailable: MonitoringUnavailableAction;
  /** Alert metrics this service reads as an error ratio, each with what makes its requests bad (none by default: only SLO burn rates count). */
  signals: { errorRatio: { metrics: ErrorRatioMetric[]; /** Alertmanager's error-ratio metrics. */ prometheusMetrics?: string[] } | null };
}

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
  /**
   * The `notify:` block's destinations, their ${VAR}s read (secrets: never log them), when loadConfig was asked to
   * (`resolveNotify`: the notifier, `burnback notify test`); empty otherwise. Every service checks the block's shape,
   * but only the notifier holds the secrets it reads.
   */
  notify: NotifyDestination[];
  notifyRetryMinutes: number;
}

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

/**
 * Reads Burnback's configuration from the environment and the YAML file at
 * BURNBACK_CONFIG. Throws one ConfigError naming the bad key. Never called at import time.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { resolveNotify?: boolean } = {}): Config {
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
        labels: s.match?.labels ?? {},
      },
      policy: mergePolicy(policy, s.policy, `${e.BURNBACK_CONFIG}.services.${name}.policy`),
      slo: s.slo ?? null,
      onMonitoringUnavailable: s.onMonitoringUnavailable ?? MonitoringUnavailableActions.escalate,
      signals: {
        errorRatio: s.signals?.errorRatio
          ? { metrics: errorRatioMetrics(s.signals.errorRatio), prometheusMetrics: s.signals.errorRatio.prometheusMetrics ?? [] }
          : null,
      },
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
    notify: notifyDestinationsFrom(file.data.notify, env, new Set(services.keys()), e.BURNBACK_CONFIG, options.resolveNotify === true),
    notifyRetryMinutes: file.data.notifyRetryMinutes,
  };
}
