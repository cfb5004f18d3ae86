/**
 * What a person should hear of a Burnback event: a decision (its action, or its
 * incident's close) or a rollback's stage. Pure: the notifier's handler turns each
 * event into at most one notice, then each notice into deliveries (deliveries.ts).
 */
import {
  DecisionActions,
  EventTypes,
  ProgressStages,
  type CloudEvent,
  type DecisionEvent,
  type RollbackProgress,
} from '@burnback/contracts';
import type { NotifyTopic } from '@burnback/contracts';

interface NoticeBase {
  topic: NotifyTopic;
  /** What the notice is of, unique per event: the decision id, or `{rollback id}/{stage}`. Part of every delivery's id. */
  key: string;
  service: string;
  incidentId: string;
  decisionId: string;
  rollbackId: string | null;
  /** One line: the decision's reason, or the rollback stage's detail. */
  reason: string;
  /** When it happened (the decision's or the stage's time). */
  at: string;
  /** The CloudEvent as received, for destinations that take it whole (the generic webhook). */
  event: CloudEvent;
}

export interface DecisionNotice extends NoticeBase {
  of: 'decision';
  decision: DecisionEvent;
}

export interface RollbackNotice extends NoticeBase {
  of: 'rollback';
  progress: RollbackProgress;
}

export type Notice = DecisionNotice | RollbackNotice;

/** A decision's topic: its action, or `close` for the notification that closed its incident; null when no one need hear it. */
export function decisionTopic(decision: DecisionEvent): NotifyTopic | null {
  if (decision.incidentState === 'closed') return 'close';
  switch (decision.action) {
    case DecisionActions.escalate:
      return 'escalate';
    case DecisionActions.recommend:
      return 'recommend';
    case DecisionActions.rollback:
      return 'rollback';
    case DecisionActions.hold:
      return 'hold';
    default:
      // ignore: an alert on something Burnback does not act on (a CPU alert, a test notification).
      return null;
  }
}

/**
 * A rollback stage's topic: started, and how it ended. `accepted` is a step of the
 * executor's own, and a validate-only rollback (mode recommend) changes nothing:
 * its decision (`recommend`) is what a person hears.
 */
export function progressTopic(progress: RollbackProgress): NotifyTopic | null {
  if (progress.validateOnly === true) return null;
  switch (progress.stage) {
    case ProgressStages.started:
      return 'rollback-started';
    case ProgressStages.succeeded:
      return 'rollback-succeeded';
    case ProgressStages.failed:
      return 'rollback-failed';
    case ProgressStages.superseded:
      return 'rollback-superseded';
    default:
      return null;
  }
}

/** The notice of a decision or rollback-progress event, or null when it is nothing a person hears of. */
export function noticeOf(event: CloudEvent): Notice | null {
  if (event.type === EventTypes.decision) {
    const decision = (event as CloudEvent<typeof EventTypes.decision>).data;
    const topic = decisionTopic(decision);
    if (topic === null) return null;
    return {
      of: 'decision',
      topic,
      key: decision.decisionId,
      service: decision.service,
      incidentId: decision.incidentId,
      decisionId: decision.decisionId,
      rollbackId: decision.rollbackId,
      reason: decision.reason,
      at: decision.decidedAt,
      event,
      decision,
    };
  }
  if (event.type === EventTypes.rollbackProgress) {
    const progress = (event as CloudEvent<typeof EventTypes.rollbackProgress>).data;
    const topic = progressTopic(progress);
    if (topic === null) return null;
    return {
      of: 'rollback',
      topic,
      key: `${progress.rollbackId}/${progress.stage}`,
      service: progress.service,
      incidentId: progress.incidentId,
      decisionId: progress.decisionId,
      rollbackId: progress.rollbackId,
      reason: progress.detail,
      at: progress.at,
      event,
      progress,
    };
  }
  return null;
}
