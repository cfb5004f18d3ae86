/** Whether the world still matches a rollback command (the rollout serving its target, the operator's controls): pure, no I/O and no clock. */
import type { Acknowledgement, DeployHistory, Pause, PolicySettings, RollbackCommand } from '@burnback/contracts';
import { servingOf, servingTimeline, supersedingControl } from '@burnback/policy';

/**
 * What changed since the decision, or null: the rollout serving the target (by
 * the decider's own model, policy's servingTimeline) is no longer the one the
 * decision saw. A hotfix shipped, a human rolled back, another release is in
 * its canary: the decision judged another world. An approval whose
 * recommendation recorded no rollout carries none: then the release serving
 * must be the one it blamed (the one approved for rolling back). Other commands
 * without `servingRollout` (deciders that predate it) are not checked.
 */
export function worldChange(cmd: RollbackCommand, history: DeployHistory): string | null {
  const approval = Boolean(cmd.manual?.approves);
  if (!cmd.servingRollout && !approval) return null;
  const { serving } = servingOf(servingTimeline(history.rollouts, cmd.target));
  const now = serving
    ? `${serving.releaseId} serves ${cmd.target} now (rollout ${serving.rollout}${serving.phase ? `, in ${serving.phase}` : ''}, since ${serving.since})`
    : `nothing serves ${cmd.target} now`;
  const after = 'the world changed since the decision, so nothing was rolled back and the incident is decided again';
  if (!cmd.servingRollout) {
    if (!cmd.blamedReleaseId)
      return `superseded: the approved recommendation recorded neither the rollout serving ${cmd.target} nor a release it blamed, so what serves now cannot be matched to what was approved; nothing was rolled back`;
    if (serving?.releaseId === cmd.blamedReleaseId) return null;
    return `superseded: ${now}, not ${cmd.blamedReleaseId}, the release the approved recommendation blamed (it recorded no rollout); ${after}`;
  }
  if (serving?.rollout === cmd.servingRollout) return null;
  return `superseded: ${now}, not rollout ${cmd.servingRollout}${cmd.blamedReleaseId ? ` of ${cmd.blamedReleaseId}, which the decision blamed` : ''}; ${after}`;
}

/**
 * The reason a control set since the decision stops the command (supersedingControl,
 * judged at `at`, ms), or null: the operator's pause and acknowledgement as re-read
 * now, and the service's policy (null when the service is not in the executor's config).
 */
export function controlChangeReason(
  cmd: RollbackCommand,
  at: number,
  controls: { pause: Pause | null; acknowledgement: Acknowledgement | null },
  policy: PolicySettings | null,
): string | null {
  const { pause, acknowledgement } = controls;
  const reason = supersedingControl(cmd, at, { pause, acknowledgement, policy });
  return reason === null
    ? null
    : `superseded: ${reason} since the decision${cmd.evaluatedAt ? ` (${cmd.evaluatedAt})` : ''}; nothing was rolled back`;
}
