/**
 * The service page: where the service stands now, its story on one time axis
 * (timeline.ts) and the table of its decisions, newest first. Pure: built from
 * the documents the console read.
 */
import type { DecisionRecord, IncidentRecord, RollbackRecord, TargetRecord } from '@burnback/contracts';
import { isFinalStage } from '@burnback/contracts';
import { burnText } from './decision-view.js';
import { ACTION_MEANINGS, actionClass, ago, decisionHref, rollbackHref, serviceHref, shorten, utc } from './format.js';
import { fleetRow, type FleetInput, type FleetRow } from './fleet.js';
import { timelineGeometry, type TimelineGeometry, type TimelineInput } from './timeline.js';

export interface ServiceInput {
  fleet: FleetInput;
  target: TargetRecord | null;
  /** The decisions of the look-back, any order. */
  decisions: readonly DecisionRecord[];
  incidents: readonly IncidentRecord[];
  rollbacks: readonly RollbackRecord[];
  hours: number;
  /** True when the look-back holds more decisions than were read (the table says so). */
  truncated: boolean;
}

export interface DecisionTableRow {
  decisionId: string;
  href: string;
  decidedAt: string;
  when: string;
  action: string;
  actionClass: string;
  incidentId: string;
  reason: string;
  confidence: string;
  cause: string;
  rollback: { rollbackId: string; href: string; status: string } | null;
}

export interface ServicePage {
  row: FleetRow;
  hours: number;
  timeline: TimelineGeometry;
  legend: Array<{ action: string; className: string; meaning: string }>;
  decisions: DecisionTableRow[];
  truncated: boolean;
  /** The look-back choices offered, with the one shown marked. */
  ranges: Array<{ hours: number; label: string; href: string; current: boolean }>;
}

/** When a rollback ended: the audit line of its final stage (null while in flight). */
export function finishedAt(r: RollbackRecord): string | null {
  if (!isFinalStage(r.status)) return null;
  return r.audit.find((a) => a.stage === r.status)?.at ?? r.updatedAt;
}

/** The burn of each incident: the figure of its most recent decision that carried one. */
function incidentBurns(decisions: readonly DecisionRecord[]): Map<string, string> {
  const burns = new Map<string, { at: string; text: string }>();
  for (const d of decisions) {
    const text = d.evidence ? burnText(d.evidence.alert) : null;
    if (text === null) continue;
    const seen = burns.get(d.incidentId);
    if (!seen || seen.at < d.decidedAt) burns.set(d.incidentId, { at: d.decidedAt, text });
  }
  return new Map([...burns].map(([k, v]) => [k, v.text]));
}

export function timelineInput(input: ServiceInput, now: number): TimelineInput {
  const burns = incidentBurns(input.decisions);
  return {
    now,
    hours: input.hours,
    spans: input.target?.timeline ?? [],
    incidents: input.incidents.map((i) => ({
      incidentId: i.incidentId,
      startedAt: i.startedAt,
      endedAt: i.endedAt,
      burn: burns.get(i.incidentId) ?? null,
    })),
    decisions: input.decisions.map((d) => ({ decisionId: d.decisionId, action: d.action, decidedAt: d.decidedAt, reason: d.reason })),
    rollbacks: input.rollbacks.map((r) => ({
      rollbackId: r.rollbackId,
      orderedAt: r.command.requestedAt,
      finishedAt: finishedAt(r),
      status: r.status,
      releaseId: r.releaseId,
      validateOnly: r.command.validateOnly === true,
    })),
  };
}

const RANGES = [1, 6, 24, 72, 168];

export function servicePage(input: ServiceInput, now: number): ServicePage {
  const rollbacks = new Map(input.rollbacks.map((r) => [r.rollbackId, r]));
  const decisions = [...input.decisions].sort((a, b) =>
    a.decidedAt === b.decidedAt ? (a.decisionId < b.decisionId ? 1 : -1) : a.decidedAt < b.decidedAt ? 1 : -1,
  );
  const name = input.fleet.name;
  return {
    row: fleetRow(input.fleet, now),
    hours: input.hours,
    timeline: timelineGeometry(timelineInput(input, now)),
    legend: (Object.keys(ACTION_MEANINGS) as Array<keyof typeof ACTION_MEANINGS>).map((action) => ({
      action,
      className: actionClass(action),
      meaning: ACTION_MEANINGS[action],
    })),
    decisions: decisions.map((d) => {
      const r = d.rollbackId ? rollbacks.get(d.rollbackId) : undefined;
      return {
        decisionId: d.decisionId,
        href: decisionHref(d.decisionId),
        decidedAt: utc(d.decidedAt),
        when: ago(d.decidedAt, now),
        action: d.action,
        actionClass: actionClass(d.action),
        incidentId: shorten(d.incidentId, 40),
        reason: d.reason,
        confidence: d.confidence ? `${d.confidence.value} (bar ${d.confidence.threshold})` : '—',
        cause: d.cause?.releaseId ?? '—',
        rollback: d.rollbackId ? { rollbackId: d.rollbackId, href: rollbackHref(d.rollbackId), status: r?.status ?? 'ordered' } : null,
      };
    }),
    truncated: input.truncated,
    ranges: RANGES.map((h) => ({
      hours: h,
      label: h < 24 ? `${h} h` : `${h / 24} d`,
      href: `${serviceHref(name)}?hours=${h}`,
      current: h === input.hours,
    })),
  };
}

/** The look-back a `hours` query parameter asks for: a whole number of hours from 1 to 168, default 6; null when it is not one. */
export function hoursParam(value: unknown): number | null {
  if (value === undefined) return 6;
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value)) return null;
  const hours = Number(value);
  return hours >= 1 && hours <= 168 ? hours : null;
}
