import type { Logger, ReceivedMessage } from '@burnback/platform';
import { rolloutEndedBy } from './pure/rollout-states.js';
import type { RollbackStore } from './store.js';

/**
 * Cloud Deploy's operation notifications (clouddeploy-operations; everything
 * is in the attributes) in → the tracker looks at once at a rollback whose
 * rollout just ended, or which waits for a cancelled rollout on its target,
 * instead of at its next scheduled look. Only a hint: the tracker's own looks
 * are what guarantee the outcome, so a lost, late or duplicated notification
 * costs nothing but time, and everything else is acknowledged and ignored.
 */
export function createDeployEventHandler(deps: {
  store: RollbackStore;
  logger: Logger;
  now?: () => Date;
  /** Called when a rollback was brought forward: the tracker should look for due work now. */
  onNudged: () => void;
}): (message: Pick<ReceivedMessage, 'attributes' | 'id'>) => Promise<void> {
  const { store, logger } = deps;
  const now = deps.now ?? (() => new Date());
  return async (message) => {
    const a = message.attributes;
    if (!rolloutEndedBy(a) || !a.RolloutId) return;
    const nudged: string[] = [];
    try {
      const ids = new Set(await store.idsByRolloutId(a.RolloutId));
      // The serving rollout a rollback cancelled before rolling back: the rollback may go ahead now.
      if (a.Action === 'Cancelled' && a.DeliveryPipelineId && a.TargetId) {
        for (const id of await store.idsNotStartedOn(a.DeliveryPipelineId, a.TargetId)) ids.add(id);
      }
      for (const id of ids) if (await store.nudge(id, now())) nudged.push(id);
    } catch (err) {
      // Retrying a hint is not worth a redelivery (nor, in the end, a dead letter): the tracker's own look comes anyway.
      logger.warn(`rollout ${a.Resource ?? a.RolloutId} ${a.Action}: could not bring its rollback's look forward`, {
        event: 'tracking_nudge_failed',
        eventId: message.id,
        error: err,
      });
    }
    if (nudged.length === 0) return;
    deps.onNudged();
    for (const rollbackId of nudged) {
      logger.info(`rollout ${a.Resource ?? a.RolloutId} ${a.Action}: rollback ${rollbackId} is looked at now`, {
        event: 'tracking_nudged',
        eventId: message.id,
        rollbackId,
        action: a.Action,
      });
    }
  };
}
