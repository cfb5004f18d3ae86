import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Firestore } from '@google-cloud/firestore';
import {
  approvalHowTo,
  verdictLabel,
  Collections,
  DecisionRecord,
  RollbackRecord,
  ServiceControls,
  Redecision,
  ServiceState,
  TargetRecord,
  isFinalStage,
  targetDocIdFor,
  type RecentRollback,
} from '@burnback/contracts';
import { cooldownStartOf, describeFreeze, freezeInForce } from '@burnback/policy';
import { createFirestore, loadConfig, type Config } from '@burnback/platform';
import { DEFAULT_PROJECT, REPO_ROOT } from '../local-stack.js';

export const STORE_HELP = `Reads the Firestore of a running 'npm start' stack by default (FIRESTORE_EMULATOR_HOST
127.0.0.1:8086, project GOOGLE_CLOUD_PROJECT or ${DEFAULT_PROJECT}, config BURNBACK_CONFIG or
config/local.yaml); FIRESTORE_EMULATOR_HOST=none and the usual credentials read a real project.`;

const STATUS_HELP = `burnback status: what Burnback knows of each service, now

Per service: the mode (auto, recommend, observe, or off), a pause in force (until
when, by whom, why), a freeze window in force, what serves its target, the cooldown
remaining, rollbacks in the last hour against the limit, the rollback in flight,
and the last decision with its reason.

Options:
  --service NAME   only this service
  --json           one JSON document instead of text

${STORE_HELP}`;

const HOUR_MS = 3_600_000;
const UNITS = { m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS } as const;

/** `30m`, `2h`, `7d` in milliseconds; null when it is none of those. */
export function durationMs(text: string): number | null {
  const m = /^(\d+)(m|h|d)$/.exec(text);
  return m ? Number(m[1]) * UNITS[m[2] as keyof typeof UNITS] : null;
}

/** The store and services `status` and `decisions` read: the local stack's unless the environment says otherwise. */
export function openStore(env: NodeJS.ProcessEnv): { config: Config; db: Firestore } {
  const emulator = env.FIRESTORE_EMULATOR_HOST ?? '127.0.0.1:8086';
  const local: NodeJS.ProcessEnv = {
    ...env,
    GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT || DEFAULT_PROJECT,
    BURNBACK_CONFIG: env.BURNBACK_CONFIG || resolve(REPO_ROOT, 'config/local.yaml'),
  };
  // The emulator needs no credentials, so there is no metadata server to look for; a real project may need it
  // (on a Google Cloud VM the credentials come from there).
  if (env.METADATA_SERVER_DETECTION !== undefined) local.METADATA_SERVER_DETECTION = env.METADATA_SERVER_DETECTION;
  else if (emulator !== 'none') local.METADATA_SERVER_DETECTION = 'none';
  if (emulator === 'none') delete local.FIRESTORE_EMULATOR_HOST;
  else local.FIRESTORE_EMULATOR_HOST = emulator;
  // The Firestore client reads the emulator host (or its absence) from the process environment.
  process.env = local;
  const config = loadConfig(local);
  return { config, db: createFirestore(config) };
}

export interface ServiceStatus {
  service: string;
  /** observe, recommend or auto; off when the service's rollbacks are switched off. */
  mode: 'auto' | 'recommend' | 'observe' | 'off';
  target: string;
  /** The operator's pause, while it is in force. */
  pause: { until: string; by: string; reason: string } | null;
  /** The freeze window in force now, in words; null when none is. */
  freeze: string | null;
  serving: { releaseId: string; since: string } | null;
  cooldown: { remainingMinutes: number; since: string } | null;
  rollbacksLastHour: number;
  maxRollbacksPerHour: number;
  inFlight: { rollbackId: string; status: string; releaseId: string | null; since: string } | null;
  lastDecision: { decisionId: string; action: string; reason: string; decidedAt: string; confidence: number | null } | null;
  /** The service's next incident to decide again (a hold whose cause lapses, a rollback that ended), soonest first. */
  redecision: Pick<Redecision, 'incidentId' | 'dueAt' | 'trigger' | 'rule' | 'detail'> | null;
}

/** The pending re-decisions of one service, soonest first (one per incident: a handful). */
export async function pendingRedecisions(db: Firestore, service: string): Promise<Redecision[]> {
  const snap = await db.collection(Collections.redecisions).where('service', '==', service).get();
  return snap.docs.map((d) => Redecision.parse(d.data())).sort((a, b) => a.dueAt.localeCompare(b.dueAt));
}

/** One service's status as of `now`, from its documents. */
export async function serviceStatus(db: Firestore, config: Config, name: string, now: Date): Promise<ServiceStatus> {
  const service = config.services.get(name)!;
  const [stateDoc, targetDoc, rollbacks, controlsDoc] = await Promise.all([
    db.collection(Collections.services).doc(name).get(),
    db.collection(Collections.targets).doc(targetDocIdFor(service)).get(),
    db.collection(Collections.rollbacks).where('command.service', '==', name).get(),
    db.collection(Collections.controls).doc(name).get(),
  ]);
  const pause = controlsDoc.exists ? ServiceControls.parse(controlsDoc.data()).pause : null;
  const freeze = service.policy.freeze.find((w) => freezeInForce(w, now.getTime()));
  const state = stateDoc.exists ? ServiceState.parse(stateDoc.data()) : null;
  const target = targetDoc.exists ? TargetRecord.parse(targetDoc.data()) : null;
  const recent = state?.recentRollbacks ?? [];
  const latest = recent.reduce<RecentRollback | null>((a, r) => (a === null || cooldownStartOf(r) > cooldownStartOf(a) ? r : a), null);
  const remainingMs = latest ? cooldownStartOf(latest) + service.policy.cooldownMinutes * 60_000 - now.getTime() : 0;
  const inFlight = rollbacks.docs
    .map((d) => RollbackRecord.parse(d.data()))
    .filter((r) => !isFinalStage(r.status) && !r.command.validateOnly)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
  const lastDoc = state?.lastDecisionId ? await db.collection(Collections.decisions).doc(state.lastDecisionId).get() : null;
  const last = lastDoc?.exists ? DecisionRecord.parse(lastDoc.data()) : null;
  const [next] = await pendingRedecisions(db, name);
  return {
    service: name,
    mode: !service.policy.enabled ? 'off' : service.policy.mode,
    target: `${service.pipeline}/${service.target}`,
    pause: pause && Date.parse(pause.until) > now.getTime() ? { until: pause.until, by: pause.by, reason: pause.reason } : null,
    freeze: freeze ? describeFreeze(freeze) : null,
    serving: target?.serving ? { releaseId: target.serving.releaseId, since: target.serving.since } : null,
    cooldown:
      latest && remainingMs > 0
        ? { remainingMinutes: Math.ceil(remainingMs / 60_000), since: new Date(cooldownStartOf(latest)).toISOString() }
        : null,
    rollbacksLastHour: recent.filter((r) => Date.parse(r.decidedAt) > now.getTime() - HOUR_MS).length,
    maxRollbacksPerHour: service.policy.maxRollbacksPerHour,
    inFlight: inFlight
      ? { rollbackId: inFlight.rollbackId, status: inFlight.status, releaseId: inFlight.releaseId, since: inFlight.createdAt }
      : null,
    lastDecision: last
      ? {
          decisionId: last.decisionId,
          action: last.action,
          reason: last.reason,
          decidedAt: last.decidedAt,
          confidence: last.confidence?.value ?? null,
        }
      : null,
    redecision: next
      ? { incidentId: next.incidentId, dueAt: next.dueAt, trigger: next.trigger, rule: next.rule, detail: next.detail }
      : null,
  };
}

export function formatStatus(s: ServiceStatus): string {
  const lines = [
    `${s.service}  (${s.mode}; rolls back ${s.target})`,
    ...(s.pause ? [`  PAUSED       until ${s.pause.until} by ${s.pause.by}: ${s.pause.reason}`] : []),
    ...(s.freeze ? [`  FROZEN       ${s.freeze}`] : []),
    `  serving      ${s.serving ? `${s.serving.releaseId} since ${s.serving.since}` : 'unknown (no rollout on record)'}`,
    `  cooldown     ${s.cooldown ? `${s.cooldown.remainingMinutes} min remaining (from ${s.cooldown.since})` : 'clear'}`,
    `  last hour    ${s.rollbacksLastHour} of ${s.maxRollbacksPerHour} rollbacks`,
    `  in flight    ${s.inFlight ? `${s.inFlight.rollbackId} ${s.inFlight.status}${s.inFlight.releaseId ? ` → ${s.inFlight.releaseId}` : ''} since ${s.inFlight.since}` : 'none'}`,
    `  last decision ${s.lastDecision ? `${s.lastDecision.action} at ${s.lastDecision.decidedAt}: ${s.lastDecision.reason}` : 'none yet'}`,
    ...(s.redecision
      ? [`  decided again at ${s.redecision.dueAt}: incident ${s.redecision.incidentId} (${redecisionWhy(s.redecision)})`]
      : []),
  ];
  return lines.join('\n');
}

/** Why an incident is decided again, in a few words. */
function redecisionWhy(r: Pick<Redecision, 'trigger' | 'rule'>): string {
  return r.trigger === 'lapsed' ? `when ${r.rule ?? 'its hold'} lapses` : 'its rollback ended';
}

/** What the terminal shows of a decision: its record, or the event every decision publishes (no evidence). */
export type ShownDecision = Pick<
  DecisionRecord,
  | 'decisionId'
  | 'decidedAt'
  | 'service'
  | 'incidentId'
  | 'reason'
  | 'verdicts'
  | 'confidence'
  | 'cause'
  | 'redecisionOf'
  | 'approvableUntil'
  | 'rollbackId'
> & { action: string; evidence?: DecisionRecord['evidence'] };

/**
 * A decision for the terminal: when, what, why, every verdict, the confidence,
 * and whether it re-decides an earlier one or its incident is to be decided again
 * (`pending`: the schedule still stands, from `redecisions/`).
 */
export function formatDecision(d: ShownDecision, pending: Redecision | null = null): string {
  const verdicts = d.verdicts.map(verdictLabel).join(', ');
  const confidence = d.confidence ? `  confidence ${d.confidence.value}${d.cause ? ` (cause ${d.cause.releaseId})` : ''}\n` : '';
  // The rollback it ordered (a recommendation's validation): its timeline is one command away.
  const rollback = d.rollbackId
    ? `  ${d.rollbackId.startsWith('rv-') ? 'validation' : 'rollback'} ${d.rollbackId}: npm run burnback -- rollback ${d.rollbackId}\n`
    : '';
  const again = d.redecisionOf ? `  decided again: ${d.redecisionOf} (${d.evidence?.alert.redecision?.trigger ?? 'lapsed'})\n` : '';
  const next =
    pending && pending.afterDecisionId === d.decisionId
      ? `  next: decided again at ${pending.dueAt} (${redecisionWhy(pending)}), if the incident is still open\n`
      : '';
  // A recommendation says how to approve it (its decision id is the one to give), until when.
  const approve = d.approvableUntil ? `  ${approvalHowTo(d.decisionId, d.approvableUntil)}\n` : '';
  return `${d.decidedAt}  ${d.service}  ${d.action.toUpperCase()}  incident ${d.incidentId}\n  ${d.reason}\n  ${verdicts}\n${confidence}${rollback}${again}${next}${approve}`;
}

export async function runStatus(args: string[], env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { service: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${STATUS_HELP}\n`);
    return 0;
  }
  const { config, db } = openStore(env);
  try {
    const names = values.service ? [values.service] : [...config.services.keys()].sort();
    const unknown = names.filter((n) => !config.services.has(n));
    if (unknown.length > 0) {
      process.stderr.write(`unknown service ${unknown.join(', ')}; the config names ${[...config.services.keys()].join(', ')}\n`);
      return 2;
    }
    const statuses = await Promise.all(names.map((n) => serviceStatus(db, config, n, now)));
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ project: config.projectId, at: now.toISOString(), services: statuses }, null, 2)}\n`
        : `${statuses.map(formatStatus).join('\n\n')}\n`,
    );
    return 0;
  } finally {
    await db.terminate();
  }
}
