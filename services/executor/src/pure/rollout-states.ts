/** How the executor reads Cloud Deploy's rollout states and operation actions: pure, no I/O and no clock. */

/** Rollback rollouts that have deployed nothing yet: cancelled when tracking gives up on them. */
const NOT_STARTED: ReadonlySet<string> = new Set(['PENDING_APPROVAL', 'PENDING', 'PENDING_RELEASE']);

/** clouddeploy-operations actions on a rollout after which it does not change again. */
const ROLLOUT_ENDED: ReadonlySet<string> = new Set(['Succeed', 'Failure', 'Cancelled']);

/** Whether a rollout in `state` has deployed nothing yet (so giving up on it means cancelling it). */
export function deployedNothingYet(state: string): boolean {
  return NOT_STARTED.has(state);
}

/**
 * Whether a Cloud Deploy operation notification (its attributes) says a rollout
 * ended, naming it: the tracker then looks at its rollback at once.
 */
export function rolloutEndedBy(attributes: Readonly<Record<string, string | undefined>>): boolean {
  return attributes.ResourceType === 'Rollout' && ROLLOUT_ENDED.has(attributes.Action ?? '') && Boolean(attributes.RolloutId);
}
