import {
  DEFAULT_POLICY,
  EVIDENCE_VERSION,
  decisionIdFor,
  policyHashOf,
  rollbackIdFor,
  type DecisionRecord,
  type IncidentRecord,
  type ServiceState,
  type TargetRecord,
} from '@burnback/contracts';
import { sameJson, type ExportLine } from '@burnback/cli';
import { applyDecision, applyIncident, decide, initialServiceState, initialTargetRecord, recordBurnOnTarget } from '@burnback/policy';
import { deployedOn, generateHistory } from './decide.js';

/**
 * An export's decision lines, as the decider would have recorded them for the
 * generated history: each decision with its evidence (what it read). Built once,
 * before the clock starts: the benchmark times the replay, not the recording.
 */
export function recordedExport(count: number, services: number): ExportLine[] {
  const states = new Map<string, ServiceState>();
  const incidents = new Map<string, IncidentRecord>();
  const targets = new Map<string, TargetRecord>();
  const seen = new Set<string>();
  const hash = policyHashOf(DEFAULT_POLICY);
  const lines: ExportLine[] = [];
  for (const event of generateHistory(count, services)) {
    if (event.kind === 'deploy') {
      const t =
        targets.get(event.service) ??
        initialTargetRecord(
          { project: 'bench', region: 'us-central1', pipeline: `${event.service}-pipeline`, target: 'production' },
          event.at,
        );
      targets.set(event.service, deployedOn(t, event.releaseId, event.at, event.rollout));
      continue;
    }
    if (event.kind !== 'alert') continue;
    const alert = event.alert;
    const decisionId = decisionIdFor(alert.incidentId, alert.state, alert.startedAt, alert.notificationId);
    if (seen.has(decisionId)) continue;
    seen.add(decisionId);
    const state = states.get(alert.service) ?? initialServiceState(alert.service);
    const incident = incidents.get(alert.incidentId) ?? null;
    const target = targets.get(alert.service) ?? null;
    const d = decide(state, alert, DEFAULT_POLICY, incident, target, null, {});
    const rollbackId = d.action === 'rollback' ? rollbackIdFor(alert.incidentId) : null;
    const record: DecisionRecord = {
      decisionId,
      incidentId: alert.incidentId,
      service: alert.service,
      incidentState: alert.state,
      action: d.action,
      reason: d.reason,
      verdicts: d.verdicts,
      decidedAt: d.decidedAt,
      alertEventId: decisionId,
      rollbackId,
      target: null,
      confidence: d.confidence,
      cause: d.cause,
      monitoring: null,
      controls: { pause: null, acknowledgement: null, evaluatedAt: null },
      fleet: null,
      redecisionOf: null,
      redecideAt: null,
      evidence: {
        version: EVIDENCE_VERSION,
        alert,
        notificationId: alert.notificationId,
        policy: DEFAULT_POLICY,
        policyHash: hash,
        state,
        incident,
        target,
      },
    };
    lines.push({ kind: 'decision', at: d.decidedAt, id: decisionId, data: record });
    states.set(alert.service, applyDecision(state, d, decisionId, rollbackId, DEFAULT_POLICY));
    incidents.set(alert.incidentId, applyIncident(incident, alert, d, decisionId, rollbackId));
    if (target && d.burnStartedAt !== null) targets.set(alert.service, recordBurnOnTarget(target, d.burnStartedAt));
  }
  return lines;
}

/** The floor: the same walk over the same lines, comparing each record with a copy of itself as replay compares (no decide). */
export function floorReplay(lines: readonly ExportLine[]): number {
  let same = 0;
  for (const l of lines) {
    if (l.kind !== 'decision') continue;
    const r = l.data;
    if (sameJson(r.verdicts, [...r.verdicts]) && sameJson(r.confidence, r.confidence && { ...r.confidence }) && sameJson(r.cause, r.cause))
      same++;
  }
  return same;
}
