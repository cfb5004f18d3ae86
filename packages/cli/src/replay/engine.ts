import {
  DecisionActions,
  rollbackIdFor,
  type DecisionAction,
  type DecisionRecord,
  type IncidentRecord,
  type PolicySettings,
  type ServiceState,
} from '@burnback/contracts';
import {
  applyDecision,
  applyIncident,
  decide,
  decideBulk,
  initialServiceState,
  laneOf,
  recordOutcomeOnService,
  recordProgressOnIncident,
  type Decision,
} from '@burnback/policy';
import type { ExportLine } from './format.js';
import { sameJson } from './compare.js';

export { jsonDifferences, sameJson } from './compare.js';

/** One decision of a replay: what was recorded, what the engine says now, and what differs. */
export interface ReplayedDecision {
  decisionId: string;
  incidentId: string;
  service: string;
  at: string;
  recorded: { action: DecisionAction; reason: string };
  replayed: { action: DecisionAction; reason: string };
  /** The parts that differ (action, reason, verdicts, confidence, cause); empty when the replay reproduces the record. */
  differences: string[];
}

export interface ReplayResult {
  decisions: ReplayedDecision[];
  /** Decisions the file holds but cannot be replayed (recorded before evidence was kept), with why. */
  skipped: Array<{ decisionId: string; why: string }>;
}

const decisionsOf = (lines: readonly ExportLine[]) =>
  lines.filter((l): l is Extract<ExportLine, { kind: 'decision' }> => l.kind === 'decision').map((l) => l.data);

/** The controls a decision read, as decide() takes them. */
const controlsOf = (r: DecisionRecord) => ({
  pause: r.controls?.pause ?? null,
  acknowledgement: r.controls?.acknowledgement ?? null,
  evaluatedAt: r.controls?.evaluatedAt ?? null,
  fleet: r.fleet,
});

/**
 * One recorded decision, decided again on what it read: by the bulk lane's decideBulk when that lane decided it
 * (should it no longer be a bulk-lane alert, by decide() on the same reads, which then differs and says why).
 */
function replayOne(r: DecisionRecord, ev: NonNullable<DecisionRecord['evidence']>): Decision {
  const evaluatedAt = r.controls?.evaluatedAt ?? r.decidedAt;
  const bulk = ev.lane === 'bulk' ? decideBulk(ev.alert, ev.policy, ev.incident, evaluatedAt) : null;
  return (
    bulk ?? decide(ev.state ?? initialServiceState(r.service), ev.alert, ev.policy, ev.incident, ev.target, r.monitoring, controlsOf(r))
  );
}

/** A replayed decision beside its record, and the parts in which they differ. */
function replayedOf(recorded: DecisionRecord, d: Decision): ReplayedDecision {
  return {
    decisionId: recorded.decisionId,
    incidentId: recorded.incidentId,
    service: recorded.service,
    at: recorded.decidedAt,
    recorded: { action: recorded.action, reason: recorded.reason },
    replayed: { action: d.action, reason: d.reason },
    differences: compare(recorded, d),
  };
}

const NO_EVIDENCE = 'recorded before decisions kept their evidence';

function compare(recorded: DecisionRecord, d: Decision): string[] {
  const differences: string[] = [];
  if (d.action !== recorded.action) differences.push('action');
  if (d.reason !== recorded.reason) differences.push('reason');
  if (!sameJson(d.verdicts, recorded.verdicts)) differences.push('verdicts');
  if (!sameJson(d.confidence, recorded.confidence)) differences.push('confidence');
  if (!sameJson(d.cause, recorded.cause)) differences.push('cause');
  return differences;
}

/**
 * Re-runs every recorded decision through the pure engine on exactly what it
 * read (its evidence: the alert, the policy, the service, incident and target
 * documents, Cloud Monitoring's figures, the controls and the fleet), and says
 * where the result differs from the record. Nothing here reads a clock or the
 * environment: the same file gives the same result anywhere.
 */
export function replayRecorded(lines: readonly ExportLine[], onProgress?: (done: number, total: number) => void): ReplayResult {
  const records = decisionsOf(lines);
  const result: ReplayResult = { decisions: [], skipped: [] };
  records.forEach((r, i) => {
    onProgress?.(i, records.length);
    const ev = r.evidence;
    if (!ev) {
      result.skipped.push({ decisionId: r.decisionId, why: NO_EVIDENCE });
      return;
    }
    result.decisions.push(replayedOf(r, replayOne(r, ev)));
  });
  onProgress?.(records.length, records.length);
  return result;
}

/** A what-if: the file's decisions under another policy, and the rollbacks that would have been skipped or added. */
export interface WhatIfResult extends ReplayResult {
  /** Recorded rollbacks the other policy would not have ordered, with its reason. */
  skippedRollbacks: ReplayedDecision[];
  /** Rollbacks the other policy would have ordered where the record has none, with its reason. */
  addedRollbacks: ReplayedDecision[];
}

/**
 * The file's decisions under `policyFor(service)`. What changes is the policy,
 * not the world: each alert, Cloud Deploy's target, Cloud Monitoring's figures,
 * the controls and the fleet are as recorded. The service's own history (rate
 * limit, cooldown) and each incident's one rollback are folded again from the
 * what-if decisions, starting from what the first decision of each read; a
 * recorded outcome applies only to a rollback the what-if also orders (one it
 * adds has no outcome, so its cooldown counts from its decision). Export a
 * service's whole range for a faithful what-if: decisions missing from the file
 * are missing from the fold.
 */
export function replayWhatIf(
  lines: readonly ExportLine[],
  policyFor: (service: string) => PolicySettings,
  onProgress?: (done: number, total: number) => void,
): WhatIfResult {
  const states = new Map<string, ServiceState>();
  const incidents = new Map<string, IncidentRecord | null>();
  const ordered = new Set<string>();
  const result: WhatIfResult = { decisions: [], skipped: [], skippedRollbacks: [], addedRollbacks: [] };
  const total = lines.length;
  lines.forEach((line, i) => {
    if (i % 1000 === 0) onProgress?.(i, total);
    if (line.kind === 'progress') {
      const p = line.data.progress;
      // A rollback the fold knows (ordered by the what-if, or before the file's range and read by its first
      // decision) takes its recorded outcome; one the what-if skipped is in neither, and nothing changes.
      const state = states.get(p.service);
      if (state) states.set(p.service, recordOutcomeOnService(state, p));
      const incident = incidents.get(p.incidentId);
      if (incident && (incident.rollback === null || incident.rollback.rollbackId === p.rollbackId) && ordered.has(p.rollbackId))
        incidents.set(p.incidentId, recordProgressOnIncident(incident, p));
      return;
    }
    if (line.kind !== 'decision') return;
    const r = line.data;
    const ev = r.evidence;
    if (!ev) {
      result.skipped.push({ decisionId: r.decisionId, why: NO_EVIDENCE });
      return;
    }
    const state = states.get(r.service) ?? ev.state ?? initialServiceState(r.service);
    const incident = incidents.has(r.incidentId) ? incidents.get(r.incidentId)! : ev.incident;
    const policy = policyFor(r.service);
    // A bulk-lane alert stays in that lane under the other policy, or is decided in full on the folded history (a
    // lower bar can turn it into a burn); what it did not read (the target, Monitoring) is as the record has it: none.
    const d =
      (ev.lane === 'bulk' && laneOf(ev.alert, policy) === 'bulk'
        ? decideBulk(ev.alert, policy, incident, r.controls?.evaluatedAt ?? r.decidedAt)
        : null) ?? decide(state, ev.alert, policy, incident, ev.target, r.monitoring, controlsOf(r));
    // Only a rollback's id matters to the fold (a recommendation changes neither the service nor the incident).
    const rollbackId = d.action === DecisionActions.rollback ? rollbackIdFor(r.incidentId) : null;
    if (rollbackId) ordered.add(rollbackId);
    states.set(r.service, applyDecision(state, d, r.decisionId, rollbackId, policy));
    incidents.set(r.incidentId, applyIncident(incident, ev.alert, d, r.decisionId, rollbackId));
    const replayed = replayedOf(r, d);
    result.decisions.push(replayed);
    const was = r.action === DecisionActions.rollback;
    const now = d.action === DecisionActions.rollback;
    if (was && !now) result.skippedRollbacks.push(replayed);
    if (!was && now) result.addedRollbacks.push(replayed);
  });
  onProgress?.(total, total);
  return result;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The decision timeline, one line per decision and one more for any difference: deterministic text. */
export function formatTimeline(result: ReplayResult, label = 'recorded'): string {
  const out: string[] = [];
  for (const d of result.decisions) {
    out.push(`${d.at}  ${pad(d.service, 14)} ${pad(d.replayed.action.toUpperCase(), 9)} ${d.incidentId}  ${d.replayed.reason}`);
    if (d.differences.length > 0)
      out.push(`  ≠ ${label}: ${d.recorded.action.toUpperCase()}  ${d.recorded.reason}  (differs in ${d.differences.join(', ')})`);
  }
  for (const s of result.skipped) out.push(`  skipped ${s.decisionId}: ${s.why}`);
  const differing = result.decisions.filter((d) => d.differences.length > 0).length;
  out.push(
    `${result.decisions.length} decision(s) replayed, ${differing} differ${differing === 1 ? 's' : ''} from the ${label} ones${result.skipped.length ? `, ${result.skipped.length} skipped` : ''}`,
  );
  return out.join('\n') + '\n';
}

/** The what-if diff: which rollbacks the other policy would have skipped and added, and why. */
export function formatWhatIf(result: WhatIfResult): string {
  const out: string[] = [];
  for (const d of result.skippedRollbacks)
    out.push(`- would skip the rollback of ${d.service} for incident ${d.incidentId} (${d.at}): ${d.replayed.reason}`);
  for (const d of result.addedRollbacks)
    out.push(`+ would add a rollback of ${d.service} for incident ${d.incidentId} (${d.at}): ${d.replayed.reason}`);
  const changed = result.decisions.filter((d) => d.recorded.action !== d.replayed.action).length;
  out.push(
    `what-if: ${result.skippedRollbacks.length} rollback(s) skipped, ${result.addedRollbacks.length} added; ${changed} of ${result.decisions.length} decision(s) change action`,
  );
  return out.join('\n') + '\n';
}
