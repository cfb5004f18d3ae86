/**
 * The rollback page: one rollback from the decision that ordered it to its
 * outcome, with Cloud Deploy's own notifications about its rollout and the
 * rollout's phases as the decider last read them, then its audit trail. Pure.
 */
import { isFinalStage, type DecisionRecord, type HistoryRollout, type RollbackRecord } from '@burnback/contracts';
import { actionClass, ago, decisionHref, duration, elapsed, serviceHref, utc } from './format.js';

/** A Cloud Deploy notification the decider kept (deployEvents/), as the rollback page reads it. */
export interface DeployNotice {
  publishTime: string;
  attributes: Readonly<Record<string, string>>;
  /** The target's rollouts the decider read for it (newest first), when kept. */
  read?: readonly HistoryRollout[] | undefined;
}

export interface RollbackStep {
  at: string;
  /** From the first step: "+3.2 s". */
  offset: string;
  kind: 'decision' | 'audit' | 'deploy';
  stage: string;
  detail: string;
  className: string;
  href: string | null;
}

export interface RollbackPage {
  rollbackId: string;
  service: string;
  serviceHref: string;
  incidentId: string;
  /** The decision that ordered it (also when its record cannot be read). */
  decisionId: string;
  status: string;
  statusClass: string;
  finished: boolean;
  validateOnly: boolean;
  target: string;
  from: string | null;
  to: string | null;
  rollout: { name: string | null; state: string | null; rollsBack: string | null };
  failureReason: string | null;
  supersededBy: string | null;
  requestedBy: string | null;
  durations: Array<{ label: string; value: string }>;
  decision: { decisionId: string; href: string; action: string; actionClass: string; reason: string } | null;
  steps: RollbackStep[];
  phases: Array<{ id: string; state: string; deployJobState: string }>;
  audit: Array<{ at: string; stage: string; detail: string }>;
}

/** Whether a Cloud Deploy notification is about this rollback's rollout (by its rollout id, or its full name). */
export function isAboutRollout(notice: DeployNotice, rolloutId: string, rolloutName: string | null): boolean {
  const a = notice.attributes;
  if (a.RolloutId === rolloutId) return true;
  const named = [a.Rollout, a.Resource].filter((n): n is string => typeof n === 'string');
  return named.some(
    (n) => (rolloutName !== null && (n === rolloutName || n.startsWith(`${rolloutName}/`))) || n.endsWith(`/rollouts/${rolloutId}`),
  );
}

/** The phases of the rollout as the newest read that holds it says (reads newest first); none when no read holds it. */
export function phasesOf(notices: readonly DeployNotice[], rolloutName: string | null, rolloutId: string): RollbackPage['phases'] {
  const newestFirst = [...notices].sort((a, b) => Date.parse(b.publishTime) - Date.parse(a.publishTime));
  for (const n of newestFirst) {
    const rollout = n.read?.find((r) => r.name === rolloutName || r.name.endsWith(`/rollouts/${rolloutId}`));
    if (rollout) return rollout.phases.map((p) => ({ id: p.id, state: p.state, deployJobState: p.deployJobState }));
  }
  return [];
}

const noticeText = (n: DeployNotice): { stage: string; detail: string } => {
  const a = n.attributes;
  const what = a.ResourceType ?? (a.Rollout ? 'Rollout' : 'notification');
  const resource = a.Resource ?? a.Rollout ?? '';
  const job = what === 'JobRun' && resource.includes('/jobRuns/') ? ` job run ${resource.slice(resource.lastIndexOf('/') + 1)}` : '';
  return {
    stage: `Cloud Deploy: ${what} ${a.Action ?? ''}`.trim(),
    detail: `${a.RolloutId ? `rollout ${a.RolloutId}` : resource}${job}${a.ReleaseId ? ` (release ${a.ReleaseId})` : ''}${a.TargetId ? ` on ${a.TargetId}` : ''}`,
  };
};

/**
 * Every step in time order: the decision, each audit line, and each Cloud
 * Deploy notification about the rollout (steps at the same time keep that order).
 */
export function rollbackSteps(record: RollbackRecord, decision: DecisionRecord | null, notices: readonly DeployNotice[]): RollbackStep[] {
  type Raw = Omit<RollbackStep, 'offset' | 'at'> & { t: number };
  const raw: Raw[] = [];
  if (decision)
    raw.push({
      t: Date.parse(decision.decidedAt),
      kind: 'decision',
      stage: `decided: ${decision.action}`,
      detail: decision.reason,
      className: actionClass(decision.action),
      href: decisionHref(decision.decisionId),
    });
  for (const a of record.audit)
    raw.push({ t: Date.parse(a.at), kind: 'audit', stage: a.stage, detail: a.detail, className: `stage-${a.stage}`, href: null });
  for (const n of notices) {
    if (!isAboutRollout(n, record.command.rolloutId, record.rolloutName)) continue;
    raw.push({ t: Date.parse(n.publishTime), kind: 'deploy', ...noticeText(n), className: 'stage-deploy', href: null });
  }
  const ordered = raw.map((r, i) => ({ r, i })).sort((a, b) => a.r.t - b.r.t || a.i - b.i);
  const first = ordered.length > 0 ? ordered[0]!.r.t : 0;
  return ordered.map(({ r }) => {
    const { t, ...rest } = r;
    return { ...rest, at: utc(t), offset: t === first ? '+0 s' : `+${duration(t - first)}` };
  });
}

export function rollbackPage(
  record: RollbackRecord,
  decision: DecisionRecord | null,
  notices: readonly DeployNotice[],
  now: number,
): RollbackPage {
  const cmd = record.command;
  const ordered = Date.parse(cmd.requestedAt);
  const started = record.audit.find((a) => a.stage === 'started');
  const finished = isFinalStage(record.status) ? record.audit.find((a) => a.stage === record.status) : undefined;
  const durations = [
    ...(started ? [{ label: 'ordered → started', value: duration(Date.parse(started.at) - ordered) }] : []),
    ...(finished ? [{ label: `ordered → ${record.status}`, value: duration(Date.parse(finished.at) - ordered) }] : []),
    ...(!isFinalStage(record.status) ? [{ label: 'in flight for', value: elapsed(now - ordered) }] : []),
    { label: 'ordered', value: `${utc(ordered)} (${ago(ordered, now)})` },
  ];
  return {
    rollbackId: record.rollbackId,
    service: cmd.service,
    serviceHref: serviceHref(cmd.service),
    incidentId: cmd.incidentId,
    decisionId: cmd.decisionId,
    status: record.status,
    statusClass: `rollback-${record.status}`,
    finished: isFinalStage(record.status),
    validateOnly: cmd.validateOnly === true,
    target: `projects/${cmd.project}/locations/${cmd.region}/deliveryPipelines/${cmd.pipeline}/targets/${cmd.target}`,
    from: record.leaving?.releaseId ?? cmd.blamedReleaseId ?? null,
    to: record.releaseId,
    rollout: { name: record.rolloutName, state: record.rolloutState, rollsBack: record.rolloutToRollBack },
    failureReason: record.failureReason,
    supersededBy: record.supersededBy,
    requestedBy: cmd.manual ? `${cmd.manual.requestedBy}${cmd.manual.force ? ' (force)' : ''}` : null,
    durations,
    decision: decision
      ? {
          decisionId: decision.decisionId,
          href: decisionHref(decision.decisionId),
          action: decision.action,
          actionClass: actionClass(decision.action),
          reason: decision.reason,
        }
      : null,
    steps: rollbackSteps(record, decision, notices),
    phases: phasesOf(notices, record.rolloutName, cmd.rolloutId),
    audit: record.audit.map((a) => ({ at: utc(a.at), stage: a.stage, detail: a.detail })),
  };
}
