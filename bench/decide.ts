import { seededRandom } from '@burnback/testkit';
import {
  DEFAULT_POLICY,
  decisionIdFor,
  rollbackIdFor,
  type AlertEvent,
  type IncidentRecord,
  type RollbackProgress,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';
import {
  applyDecision,
  applyIncident,
  decide,
  initialServiceState,
  initialTargetRecord,
  recordBurnOnTarget,
  recordOutcomeOnService,
  recordOutcomeOnTarget,
  recordProgressOnIncident,
  servingOf,
  withSpan,
} from '@burnback/policy';

/**
 * The target once `releaseId` started deploying there at `at` (its rollout's first deploy job), as the decider
 * records it from Cloud Deploy's history: one span more on the timeline, what serves derived from it.
 */
export function deployedOn(target: TargetRecord, releaseId: string, at: string, rollout: string): TargetRecord {
  const timeline = withSpan(target.timeline, {
    releaseId,
    rollout,
    from: at,
    stoppedAt: null,
    state: 'SUCCEEDED',
    phase: null,
    rollback: false,
    burnedAt: null,
  });
  return { ...target, timeline, ...servingOf(timeline), historyReadAt: at, updatedAt: at };
}

/**
 * decide() over a generated history, folded as the decider folds it (the same
 * pure functions, in memory): alerts of every kind, Cloud Deploy Succeed
 * notifications, and the progress of the rollbacks ordered. Deterministic: a
 * seeded generator, so every run decides the same history.
 */
export type HistoryEvent =
  | { kind: 'alert'; alert: AlertEvent }
  | { kind: 'deploy'; service: string; releaseId: string; rollout: string; at: string }
  | { kind: 'progress'; progress: RollbackProgress };

const START = Date.parse('2026-11-01T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * `count` events over `services` services, one every few seconds of event time:
 * ~5 % deploys, the rest alerts. Generated as they are consumed, so a million
 * events do not sit in memory (the decider does not hold its history either).
 */
export function* generateHistory(count: number, services: number, seed = 42): Generator<HistoryEvent> {
  const random = seededRandom(seed);
  const release = new Array<number>(services).fill(2);
  let t = START;
  for (let i = 0; i < count; i++) {
    t += 1 + Math.floor(random() * 4000);
    const s = Math.floor(random() * services);
    const service = `svc-${s}`;
    const r = random();
    if (r < 0.05) {
      release[s]! += 1;
      const releaseId = `rel-${release[s]}`;
      yield { kind: 'deploy', service, releaseId, rollout: `rollouts/${service}-${releaseId}`, at: iso(t) };
      continue;
    }
    const incident = Math.floor(random() * 50);
    const kind = random();
    const value = kind < 0.4 ? 0.002 + random() * 0.008 : 0.011 + random() * 0.1;
    const burnRate = kind > 0.9;
    const startedAt = iso(t - Math.floor(random() * 600_000));
    const alert: AlertEvent = {
      incidentId: `0.${service}-${incident}-${Math.floor(t / 86_400_000)}`,
      service,
      state: random() < 0.15 ? 'closed' : 'open',
      startedAt,
      endedAt: null,
      observedAt: iso(t),
      receivedAt: iso(t + 20),
      observedValue: burnRate ? value * 200 : value,
      thresholdValue: burnRate ? 14.4 : 0.01,
      signal: kind > 0.97 ? 'unsupported' : burnRate ? 'burn-rate' : 'error-ratio',
      lookbackSeconds: burnRate ? 3600 : null,
      comparison: 'COMPARISON_GT',
      signalValue: kind > 0.97 ? null : burnRate ? value * 200 : value,
      signalThreshold: burnRate ? 14.4 : 0.01,
      sloName: null,
      sloSelector: burnRate ? 'select_slo_burn_rate' : null,
      burnPolicy: burnRate ? 'fast' : null,
      burnPolicySource: burnRate ? 'policy-label' : null,
      burnWindows: burnRate ? { longSeconds: 3600, shortSeconds: 300, threshold: 14.4 } : null,
      unsupportedReason: kind > 0.97 ? 'a CPU utilisation metric' : null,
      policyName: `${service} burn`,
      conditionName: 'burn',
      severity: 'critical',
      resourceType: 'cloud_run_revision',
      resourceLabels: { service_name: service },
      policyUserLabels: {},
      scopingProjectId: 'bench',
      url: '',
      source: 'pubsub',
      notificationId: `ntf-${i}`,
    };
    if (alert.state === 'closed') alert.endedAt = iso(t);
    yield { kind: 'alert', alert };
  }
}

interface World {
  states: Map<string, ServiceState>;
  incidents: Map<string, IncidentRecord>;
  targets: Map<string, TargetRecord>;
  decided: Set<string>;
  actions: Record<string, number>;
}

/** Folds the history as the decider does; a rollback's outcome follows it 4 min later (succeeded). */
export function foldHistory(history: Iterable<HistoryEvent>): World {
  const world: World = { states: new Map(), incidents: new Map(), targets: new Map(), decided: new Set(), actions: {} };
  const pending: RollbackProgress[] = [];
  const targetOf = (service: string, at: string): TargetRecord =>
    world.targets.get(service) ??
    initialTargetRecord({ project: 'bench', region: 'us-central1', pipeline: `${service}-pipeline`, target: 'production' }, at);
  const progress = (p: RollbackProgress): void => {
    world.states.set(p.service, recordOutcomeOnService(world.states.get(p.service) ?? initialServiceState(p.service), p));
    const incident = world.incidents.get(p.incidentId);
    if (incident) world.incidents.set(p.incidentId, recordProgressOnIncident(incident, p));
    world.targets.set(p.service, recordOutcomeOnTarget(targetOf(p.service, p.at), p));
  };
  for (const event of history) {
    const now = event.kind === 'alert' ? event.alert.observedAt : event.kind === 'deploy' ? event.at : event.progress.at;
    while (pending.length > 0 && pending[0]!.at <= now) progress(pending.shift()!);
    if (event.kind === 'deploy') {
      world.targets.set(event.service, deployedOn(targetOf(event.service, event.at), event.releaseId, event.at, event.rollout));
      continue;
    }
    if (event.kind === 'progress') {
      progress(event.progress);
      continue;
    }
    const alert = event.alert;
    const decisionId = decisionIdFor(alert.incidentId, alert.state, alert.startedAt, alert.notificationId);
    if (world.decided.has(decisionId)) continue;
    world.decided.add(decisionId);
    const state = world.states.get(alert.service) ?? initialServiceState(alert.service);
    const incident = world.incidents.get(alert.incidentId) ?? null;
    const target = world.targets.get(alert.service) ?? null;
    const decision = decide(state, alert, DEFAULT_POLICY, incident, target, null);
    const rollbackId = decision.action === 'rollback' ? rollbackIdFor(alert.incidentId) : null;
    world.actions[decision.action] = (world.actions[decision.action] ?? 0) + 1;
    world.states.set(alert.service, applyDecision(state, decision, decisionId, rollbackId, DEFAULT_POLICY));
    world.incidents.set(alert.incidentId, applyIncident(incident, alert, decision, decisionId, rollbackId));
    if (target && decision.burnStartedAt !== null) world.targets.set(alert.service, recordBurnOnTarget(target, decision.burnStartedAt));
    if (rollbackId) {
      const at = iso(Date.parse(decision.decidedAt) + 240_000);
      const base = {
        rollbackId,
        decisionId,
        incidentId: alert.incidentId,
        service: alert.service,
        target: 'production',
        rolloutName: 'r',
        detail: '',
        at,
      };
      pending.push({ ...base, stage: 'succeeded', sequence: 3, releaseId: 'rel-1', fromReleaseId: target?.serving?.releaseId ?? null });
    }
  }
  return world;
}

/**
 * The floor: the same walk over the same generated history with the same
 * per-event bookkeeping (decision id, dedupe), deciding nothing. The ratio of
 * decide's fold to it is what the rules and the state they keep cost.
 */
export function floorFold(history: Iterable<HistoryEvent>): number {
  const seen = new Set<string>();
  const last = new Map<string, string>();
  for (const event of history) {
    if (event.kind !== 'alert') continue;
    const a = event.alert;
    const id = decisionIdFor(a.incidentId, a.state, a.startedAt, a.notificationId);
    if (seen.has(id)) continue;
    seen.add(id);
    last.set(a.service, id);
  }
  return last.size;
}
