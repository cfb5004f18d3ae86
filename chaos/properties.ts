import { rollbackIdFor, rolloutIdFor } from '@burnback/contracts';
import { CrashPoints, type CrashPoint } from '@burnback/platform';
import type { WorkerExit } from './supervisor.js';

/**
 * What the chaos suite promises, checked from the outside once a run has
 * settled: from gcp-sim's record of Cloud Deploy (the rollouts that exist) and
 * from Firestore (decisions, rollbacks), and from the dead-letter topic as the
 * suite's own subscription saw it. Pure, so each verdict and its wording are
 * unit-tested (properties.test.ts).
 */

/** What the suite sends: Cloud Monitoring notifications, good and bad. */
export const InputKinds = {
  /** Open, error ratio 2.5 % against 1 %, started after the serving release: a rollback, unless its service already rolled back. */
  burn: 'burn',
  /** The same incident again with new figures (3.1 %): decided anew, never a second rollback. */
  renotify: 'renotify',
  /** Open, 0.5 %: under the bar, held. */
  calm: 'calm',
  /** The incident closed: held. */
  closed: 'closed',
  /** CPU utilisation: measures nothing Burnback acts on, ignored. */
  unsupported: 'unsupported',
  /** Not JSON at all. */
  invalidJson: 'invalid-json',
  /** JSON, but not a Monitoring notification. */
  notANotification: 'not-a-notification',
  /** A valid notification no configured service matches (another project's alert): acknowledged, never dead-lettered. */
  unmapped: 'unmapped',
} as const;
export type InputKind = (typeof InputKinds)[keyof typeof InputKinds];

/** Input Burnback cannot read: each copy goes to the dead-letter topic, and nothing else does. */
const UNREADABLE: ReadonlySet<InputKind> = new Set([InputKinds.invalidJson, InputKinds.notANotification]);
/** Whether the input is a notification for a configured service, so it must be decided. */
export const isValidKind = (kind: InputKind): boolean => !UNREADABLE.has(kind) && kind !== InputKinds.unmapped;
/** Whether the input must be dead-lettered (it cannot be read). */
export const isUnreadableKind = (kind: InputKind): boolean => UNREADABLE.has(kind);

/** One notification the suite publishes, `copies` times (more after an emulator restart lost it). */
export interface ChaosInput {
  /** Unique in the run; carried as the `chaos-input` attribute, so a dead letter names what it came from. */
  id: string;
  kind: InputKind;
  /** The configured service the notification maps to; null for invalid input. */
  service: string | null;
  incidentId: string | null;
  /** The decision it must produce (derived as the decider derives it); null for invalid input. */
  decisionId: string | null;
  bytes: Buffer;
  copies: number;
}

/** A service of the run and what its policy allows. */
export interface ChaosService {
  name: string;
  pipeline: string;
  maxRollbacksPerHour: number;
  cooldownMinutes: number;
}

export interface ObservedRollout {
  /** Full rollout name in gcp-sim. */
  name: string;
  pipeline: string;
  rolloutId: string;
  /** ms since the epoch. */
  createdAt: number;
  state: string;
}

export interface ObservedDecision {
  decisionId: string;
  incidentId: string;
  service: string;
  action: string;
  reason: string;
  rollbackId: string | null;
}

export interface ObservedRollback {
  rollbackId: string;
  incidentId: string;
  service: string;
  status: string;
  tracked: boolean;
}

export interface ObservedDeadLetter {
  /** The `chaos-input` attribute of the message dead-lettered; null when it has none. */
  input: string | null;
  reason: string;
  /** The subscription that dead-lettered it. */
  source: string;
}

export interface Observed {
  /** Rollback rollouts in gcp-sim (RollbackTarget created them). */
  rollouts: ObservedRollout[];
  decisions: ObservedDecision[];
  rollbacks: ObservedRollback[];
  /** Everything the suite's own subscription on burnback-dead-letter received, less its markers. */
  deadLetters: ObservedDeadLetter[];
}

export interface PropertyResult {
  name: string;
  passed: boolean;
  /** One line with the figures, printed either way. */
  summary: string;
  /** Which incident, service or input broke the property, and how. */
  violations: string[];
}

const HOUR_MS = 3_600_000;

/** The most rollouts inside any one hour of the list (createdAt, ms). */
export function mostInAnyHour(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= HOUR_MS) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/**
 * Every property of a settled run. Which incidents qualify is known in advance
 * except for order: every service in the run can roll back exactly once (its
 * cooldown, or for a contended service its rate limit of one an hour, refuses
 * the second), so a service's only burning incident qualifies, and of a
 * contended service's several burning incidents exactly one does — the one
 * decided first, whichever that was.
 */
export function checkProperties(services: readonly ChaosService[], inputs: readonly ChaosInput[], observed: Observed): PropertyResult[] {
  return [
    exactlyOneRollout(services, inputs, observed),
    rateLimits(services, observed),
    everyAlertDecided(inputs, observed),
    rollbacksFinished(observed),
    deadLettersExact(inputs, observed),
  ];
}

function exactlyOneRollout(services: readonly ChaosService[], inputs: readonly ChaosInput[], observed: Observed): PropertyResult {
  const violations: string[] = [];
  const byRolloutId = new Map<string, ObservedRollout[]>();
  for (const r of observed.rollouts) byRolloutId.set(r.rolloutId, [...(byRolloutId.get(r.rolloutId) ?? []), r]);
  const incidentsOf = new Map<string, Set<string>>();
  for (const input of inputs)
    if (input.service !== null && input.incidentId !== null)
      incidentsOf.set(input.service, (incidentsOf.get(input.service) ?? new Set()).add(input.incidentId));
  const known = new Set<string>();
  let qualifying = 0;
  for (const service of services) {
    const burning = [...new Set(inputs.filter((i) => i.service === service.name && i.kind === InputKinds.burn).map((i) => i.incidentId!))];
    const rolledBack: string[] = [];
    for (const incidentId of incidentsOf.get(service.name) ?? []) {
      const rolloutId = rolloutIdFor(rollbackIdFor(incidentId));
      known.add(rolloutId);
      const rollouts = byRolloutId.get(rolloutId) ?? [];
      const wrongPipeline = rollouts.filter((r) => r.pipeline !== service.pipeline);
      if (wrongPipeline.length > 0)
        violations.push(
          `incident ${incidentId} (service ${service.name}): its rollout is on ${wrongPipeline.map((r) => r.pipeline).join(', ')}, not ${service.pipeline}`,
        );
      if (rollouts.length > 1)
        violations.push(
          `incident ${incidentId} (service ${service.name}): ${rollouts.length} rollback rollouts in gcp-sim (${rollouts.map((r) => r.name).join(', ')})`,
        );
      if (rollouts.length > 0) rolledBack.push(incidentId);
      if (rollouts.length > 0 && !burning.includes(incidentId))
        violations.push(
          `incident ${incidentId} (service ${service.name}) never burned over its bar, yet was rolled back (${rollouts[0]!.name})`,
        );
    }
    if (burning.length === 0) continue;
    qualifying++;
    const decidedRollback = observed.decisions
      .filter((d) => d.service === service.name && d.action === 'rollback')
      .map((d) => d.incidentId);
    if (rolledBack.length === 0) {
      const seen = burning.map((id) => {
        const decisions = observed.decisions.filter((d) => d.incidentId === id);
        return `${id}: ${decisions.length === 0 ? 'no decision' : decisions.map((d) => `${d.action} (${d.reason})`).join('; ')}`;
      });
      violations.push(
        burning.length === 1
          ? `incident ${burning[0]} (service ${service.name}) qualifies but has no rollback rollout in gcp-sim; ${seen[0]}`
          : `service ${service.name}: none of its ${burning.length} burning incidents was rolled back (one qualifies: the first decided); ${seen.join(' | ')}`,
      );
    } else if (rolledBack.length > 1) {
      violations.push(
        `service ${service.name}: ${rolledBack.length} of its incidents were rolled back (${rolledBack.join(', ')}); only the first decided qualifies`,
      );
    }
    for (const incidentId of new Set(decidedRollback))
      if (!rolledBack.includes(incidentId))
        violations.push(`incident ${incidentId} (service ${service.name}): decided rollback, but gcp-sim has no rollout for it`);
  }
  const strangers = observed.rollouts.filter((r) => !known.has(r.rolloutId));
  for (const r of strangers) violations.push(`rollout ${r.name}: a rollback of no incident the suite sent`);
  return {
    name: 'each qualifying incident has exactly one rollback rollout in gcp-sim, and nothing else was rolled back',
    passed: violations.length === 0,
    summary: `${qualifying} qualifying incident(s) (one per burning service), ${observed.rollouts.length} rollback rollout(s) in gcp-sim`,
    violations,
  };
}

function rateLimits(services: readonly ChaosService[], observed: Observed): PropertyResult {
  const violations: string[] = [];
  const counts: string[] = [];
  for (const service of services) {
    const times = observed.rollouts.filter((r) => r.pipeline === service.pipeline).map((r) => r.createdAt);
    const most = mostInAnyHour(times);
    counts.push(`${service.name} ${most}/${service.maxRollbacksPerHour}`);
    if (most > service.maxRollbacksPerHour)
      violations.push(
        `service ${service.name}: ${most} rollback rollouts within one hour, over its maxRollbacksPerHour of ${service.maxRollbacksPerHour}`,
      );
  }
  return {
    name: 'no service is rolled back more often than its maxRollbacksPerHour',
    passed: violations.length === 0,
    summary: `most rollbacks in any hour, per service: ${counts.join(', ')}`,
    violations,
  };
}

function everyAlertDecided(inputs: readonly ChaosInput[], observed: Observed): PropertyResult {
  const violations: string[] = [];
  const decided = new Map(observed.decisions.map((d) => [d.decisionId, d]));
  const valid = inputs.filter((i) => i.decisionId !== null);
  for (const input of valid) {
    const decision = decided.get(input.decisionId!);
    if (!decision) {
      violations.push(`${input.kind} notification ${input.id} (incident ${input.incidentId}, service ${input.service}): no decision`);
      continue;
    }
    const expected = expectedActions(input.kind);
    if (!expected.includes(decision.action))
      violations.push(
        `${input.kind} notification ${input.id} (incident ${input.incidentId}, service ${input.service}): decided ${decision.action}, expected ${expected.join(' or ')} (${decision.reason})`,
      );
  }
  const expectedIds = new Set(valid.map((i) => i.decisionId));
  for (const d of observed.decisions)
    if (!expectedIds.has(d.decisionId))
      violations.push(`decision ${d.decisionId} (incident ${d.incidentId}, service ${d.service}) answers no notification the suite sent`);
  const byAction = new Map<string, number>();
  for (const d of observed.decisions) byAction.set(d.action, (byAction.get(d.action) ?? 0) + 1);
  return {
    name: 'every valid alert has exactly its one decision',
    passed: violations.length === 0,
    summary: `${valid.length} distinct valid notification(s), ${observed.decisions.length} decision(s): ${[...byAction]
      .sort()
      .map(([action, n]) => `${n} ${action}`)
      .join(', ')}`,
    violations,
  };
}

/** The actions a notification of this kind may be decided with (a burn that lost the race to its service's first rollback is refused). */
export function expectedActions(kind: InputKind): string[] {
  switch (kind) {
    case InputKinds.burn:
      return ['rollback', 'hold', 'escalate'];
    case InputKinds.renotify:
      return ['rollback', 'hold', 'escalate'];
    case InputKinds.calm:
    case InputKinds.closed:
      return ['hold'];
    case InputKinds.unsupported:
      return ['ignore'];
    case InputKinds.invalidJson:
    case InputKinds.notANotification:
    case InputKinds.unmapped:
      return [];
    default: {
      const never: never = kind;
      throw new Error(`unknown input kind ${String(never)}`);
    }
  }
}

function rollbacksFinished(observed: Observed): PropertyResult {
  const violations: string[] = [];
  const records = new Map(observed.rollbacks.map((r) => [r.rollbackId, r]));
  for (const d of observed.decisions.filter((x) => x.action === 'rollback')) {
    const record = records.get(d.rollbackId ?? '');
    if (!record)
      violations.push(
        `incident ${d.incidentId} (service ${d.service}): rollback ${d.rollbackId} was decided but never recorded by an executor`,
      );
    else if (record.status !== 'succeeded' || record.tracked)
      violations.push(
        `incident ${d.incidentId} (service ${d.service}): rollback ${d.rollbackId} is ${record.status}${record.tracked ? ' and still tracked' : ''}, not succeeded`,
      );
  }
  return {
    name: 'every rollback decided was carried out to success by the executors',
    passed: violations.length === 0,
    summary: `${observed.rollbacks.length} rollback record(s): ${observed.rollbacks.filter((r) => r.status === 'succeeded').length} succeeded`,
    violations,
  };
}

function deadLettersExact(inputs: readonly ChaosInput[], observed: Observed): PropertyResult {
  const violations: string[] = [];
  const invalid = inputs.filter((i) => isUnreadableKind(i.kind));
  const seen = new Map<string, number>();
  for (const dl of observed.deadLetters) if (dl.input !== null) seen.set(dl.input, (seen.get(dl.input) ?? 0) + 1);
  for (const input of invalid) if (!seen.has(input.id)) violations.push(`${input.kind} input ${input.id} was never dead-lettered`);
  const invalidIds = new Set(invalid.map((i) => i.id));
  const byId = new Map(inputs.map((i) => [i.id, i]));
  for (const dl of observed.deadLetters) {
    if (dl.input !== null && invalidIds.has(dl.input)) continue;
    const input = dl.input === null ? undefined : byId.get(dl.input);
    violations.push(
      input
        ? `${input.kind === InputKinds.unmapped ? 'readable' : 'valid'} ${input.kind} notification ${input.id} (incident ${input.incidentId}, service ${input.service}) was dead-lettered by ${dl.source}: ${dl.reason}`
        : `a message of no input the suite sent was dead-lettered by ${dl.source}: ${dl.reason}`,
    );
  }
  return {
    name: 'the dead-letter topic holds exactly the unreadable inputs',
    passed: violations.length === 0,
    summary: `${invalid.length} unreadable input(s), ${observed.deadLetters.length} dead letter(s) (one per copy delivered)`,
    violations,
  };
}

/**
 * The chaos did happen: every crash point killed a process, a worker was killed
 * while the Pub/Sub emulator was down, and every process that ended was ended on purpose.
 */
export function chaosHappened(exits: readonly WorkerExit[], restart: { from: number; to: number }, crashesWanted: boolean): PropertyResult {
  const violations: string[] = [];
  const points = Object.values(CrashPoints) as CrashPoint[];
  const kills = points.map((p) => [p, exits.filter((e) => e.cause === 'chaos' && e.point === p).length] as const);
  const inRestartWindow = (e: WorkerExit) => e.at >= restart.from && e.at <= restart.to;
  const killedInRestart = exits.filter((e) => e.cause === 'killed-by-suite' && inRestartWindow(e)).map((e) => e.worker);
  if (crashesWanted) {
    for (const [point, n] of kills) if (n === 0) violations.push(`no process was killed at ${point}: that boundary went untested`);
    if (killedInRestart.length === 0) violations.push('no worker was killed while the Pub/Sub emulator restarted');
  }
  // A worker whose subscription vanished with the emulator exits on purpose (exitOnFatal); up to a minute after it came back.
  const graceMs = 60_000;
  for (const e of exits) {
    if (e.cause === 'stopped-by-suite' || e.cause === 'killed-by-suite' || e.cause === 'chaos') continue;
    const inRestart = e.at >= restart.from && e.at <= restart.to + graceMs;
    if (e.cause === 'unexplained' || (e.cause === 'fatal' && !inRestart))
      violations.push(
        `${e.worker} (pid ${e.pid}) exited (${e.signal ?? `code ${e.code}`}) with no kill and no emulator restart to explain it; its last lines: ${e.lastLines.join(' | ')}`,
      );
  }
  return {
    name: 'the chaos happened: a kill at every crash point, and no worker died unexplained',
    passed: violations.length === 0,
    summary: `kills: ${kills.map(([p, n]) => `${p} ${n}`).join(', ')}; killed during the emulator restart: ${killedInRestart.join(', ') || 'none'}; exits on the emulator restart: ${exits.filter((e) => e.cause === 'fatal').length}`,
    violations,
  };
}

export function settledProperty(unmet: readonly string[], markersOk: boolean): PropertyResult {
  const violations = [...unmet, ...(markersOk ? [] : ['the markers sent behind every service did not all come out'])];
  return {
    name: 'the run settled: nothing owed, nothing queued',
    passed: violations.length === 0,
    summary: markersOk ? 'every queue drained behind a marker' : 'queues not drained',
    violations,
  };
}
