/**
 * The fleet page's rows: one per configured service, with what needs a human
 * (a failed rollback, an escalation, a recommendation waiting for approval, a
 * pause) named, and the services that need one first. Pure.
 */
import type { DecisionAction } from '@burnback/contracts';
import { ago, decisionHref, rollbackHref, serviceHref, shorten, utc } from './format.js';

/** How far back the fleet looks for what needs a human (escalations, failed rollbacks). */
export const ATTENTION_HOURS = 6;
const HOUR_MS = 3_600_000;

/** What the fleet page knows of one service, from its documents. */
export interface FleetInput {
  name: string;
  /** auto, recommend or observe; `off` when its rollbacks are switched off. */
  mode: string;
  /** `pipeline/target`. */
  target: string;
  serving: { releaseId: string; since: string; phase: string | null } | null;
  /** The operator's pause (in force or not: the row says which). */
  pause: { until: string; by: string; reason: string } | null;
  /** The freeze window in force now, in words; null when none is. */
  freeze: string | null;
  inFlight: { rollbackId: string; status: string; releaseId: string | null; since: string } | null;
  lastDecision: { decisionId: string; action: DecisionAction; reason: string; decidedAt: string } | null;
  /** Decisions of the last ATTENTION_HOURS (any order). */
  recentDecisions: ReadonlyArray<{ decisionId: string; action: DecisionAction; decidedAt: string; approvableUntil?: string | null }>;
  /** Rollbacks that failed (with when they ended). */
  failedRollbacks: ReadonlyArray<{ rollbackId: string; finishedAt: string }>;
}

export type AttentionKind = 'failed-rollback' | 'escalation' | 'approval' | 'paused';

/** One thing that needs a human, with where to look. */
export interface Attention {
  kind: AttentionKind;
  text: string;
  /** When it happened (epoch ms): the fleet lists the most recent first. */
  at: number;
  href: string;
}

export interface FleetRow {
  name: string;
  href: string;
  mode: string;
  target: string;
  serving: { releaseId: string; since: string; sinceText: string; phase: string | null } | null;
  pause: { text: string } | null;
  freeze: string | null;
  inFlight: { rollbackId: string; href: string; text: string } | null;
  lastDecision: { decisionId: string; href: string; action: DecisionAction; reason: string; when: string } | null;
  attention: Attention[];
  needsHuman: boolean;
}

/** How urgent each kind is, most first: a failed rollback left the service as it was. */
const URGENCY: Record<AttentionKind, number> = { 'failed-rollback': 0, escalation: 1, approval: 2, paused: 3 };

/** What needs a human on one service at `now`, the most urgent kind first, then the most recent. */
export function attentionOf(s: FleetInput, now: number): Attention[] {
  const since = now - ATTENTION_HOURS * HOUR_MS;
  const found: Attention[] = [];
  for (const r of s.failedRollbacks) {
    const at = Date.parse(r.finishedAt);
    if (at >= since && at <= now)
      found.push({
        kind: 'failed-rollback',
        text: `rollback ${r.rollbackId} failed ${ago(at, now)}`,
        at,
        href: rollbackHref(r.rollbackId),
      });
  }
  const escalations = s.recentDecisions
    .filter((d) => d.action === 'escalate')
    .map((d) => ({ d, at: Date.parse(d.decidedAt) }))
    .filter(({ at }) => at >= since && at <= now)
    .sort((a, b) => b.at - a.at || a.d.decisionId.localeCompare(b.d.decisionId));
  if (escalations.length > 0) {
    const newest = escalations[0]!;
    found.push({
      kind: 'escalation',
      text:
        escalations.length === 1
          ? `escalated ${ago(newest.at, now)}`
          : `${escalations.length} escalations in the last ${ATTENTION_HOURS} h, the latest ${ago(newest.at, now)}`,
      at: newest.at,
      href: decisionHref(newest.d.decisionId),
    });
  }
  for (const d of s.recentDecisions) {
    if (d.action !== 'recommend' || !d.approvableUntil) continue;
    const until = Date.parse(d.approvableUntil);
    if (until > now)
      found.push({
        kind: 'approval',
        text: `a recommendation awaits approval until ${utc(until)}`,
        at: Date.parse(d.decidedAt),
        href: decisionHref(d.decisionId),
      });
  }
  if (s.pause && Date.parse(s.pause.until) > now)
    found.push({
      kind: 'paused',
      text: `paused by ${s.pause.by} until ${utc(s.pause.until)}: ${shorten(s.pause.reason, 120)}`,
      at: now,
      href: serviceHref(s.name),
    });
  return found.sort((a, b) => URGENCY[a.kind] - URGENCY[b.kind] || b.at - a.at || a.href.localeCompare(b.href));
}

/** One service's row. */
export function fleetRow(s: FleetInput, now: number): FleetRow {
  const attention = attentionOf(s, now);
  const pauseInForce = s.pause && Date.parse(s.pause.until) > now ? s.pause : null;
  return {
    name: s.name,
    href: serviceHref(s.name),
    mode: s.mode,
    target: s.target,
    serving: s.serving ? { ...s.serving, sinceText: `since ${utc(s.serving.since)} (${ago(s.serving.since, now)})` } : null,
    pause: pauseInForce ? { text: `until ${utc(pauseInForce.until)} by ${pauseInForce.by}: ${pauseInForce.reason}` } : null,
    freeze: s.freeze,
    inFlight: s.inFlight
      ? {
          rollbackId: s.inFlight.rollbackId,
          href: rollbackHref(s.inFlight.rollbackId),
          text:
            s.inFlight.status === 'ordered'
              ? `ordered ${ago(s.inFlight.since, now)}; the executor has not taken it up yet`
              : `${s.inFlight.status}${s.inFlight.releaseId ? ` → ${s.inFlight.releaseId}` : ''}, ordered ${ago(s.inFlight.since, now)}`,
        }
      : null,
    lastDecision: s.lastDecision
      ? {
          decisionId: s.lastDecision.decisionId,
          href: decisionHref(s.lastDecision.decisionId),
          action: s.lastDecision.action,
          reason: s.lastDecision.reason,
          when: ago(s.lastDecision.decidedAt, now),
        }
      : null,
    attention,
    needsHuman: attention.length > 0,
  };
}

/**
 * Every service's row, those that need a human first: the most urgent thing
 * first (a failed rollback, then an escalation, a recommendation to approve, a
 * pause), then the most recent, then by name; the rest by name. The order does
 * not depend on the order of the input.
 */
export function fleetView(services: readonly FleetInput[], now: number): FleetRow[] {
  const rows = services.map((s) => fleetRow(s, now));
  return rows.sort((a, b) => {
    if (a.needsHuman !== b.needsHuman) return a.needsHuman ? -1 : 1;
    if (a.needsHuman) {
      const x = a.attention[0]!;
      const y = b.attention[0]!;
      const byUrgency = URGENCY[x.kind] - URGENCY[y.kind] || y.at - x.at;
      if (byUrgency !== 0) return byUrgency;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}
