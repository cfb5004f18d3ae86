/**
 * Which release a rollback leaves and which it returns to, from a pipeline's
 * Cloud Deploy history alone: pure, no clock, no I/O. docs/architecture.md
 * ("How the executor chooses both releases") explains every rule below.
 *
 * The asymmetry behind each choice: counting a rollout as serving when it is
 * not costs a redeploy of the release already serving; counting it as not
 * serving when it is sends the target two releases back. So "may have reached
 * traffic" counts as serving, and a return candidate needs positive evidence
 * (succeeded here, not abandoned, never rolled back away from).
 */

import { BURNBACK_ROLLOUT_PREFIX, type DeployHistory, type HistoryRollout } from '@burnback/contracts';

export type ReleaseDecision =
  | {
      kind: 'rollback';
      /** What is serving and is left. */
      from: { releaseId: string; rolloutName: string; state: string };
      /** Where the target goes back to, and the successful rollout that proves it worked there. */
      to: { releaseId: string; rolloutName: string };
      /** The target's latest rollout (any state): RollbackTarget's rollout_to_roll_back. */
      latestRolloutName: string;
      /** One line per rollout or release passed over, for the audit trail. */
      skipped: string[];
    }
  | { kind: 'refuse'; reason: string };

/** Deploy job states that mean the job ran (or is running): traffic may have moved. */
const DEPLOY_RAN = new Set(['IN_PROGRESS', 'SUCCEEDED', 'FAILED']);

/**
 * Whether a rollout may have put its release in front of traffic, by state:
 * - SUCCEEDED: yes.
 * - IN_PROGRESS, FAILED, CANCELLING, CANCELLED, HALTED: yes once any deploy job
 *   ran (a canary phase serving a share, a verify that failed after the deploy,
 *   a cancel after a phase deployed), no if none did (e.g. failed to render).
 * - PENDING, PENDING_APPROVAL, PENDING_RELEASE, APPROVAL_REJECTED,
 *   STATE_UNSPECIFIED: no, nothing deployed.
 */
export function reachedTraffic(rollout: HistoryRollout): boolean {
  switch (rollout.state) {
    case 'SUCCEEDED':
      return true;
    case 'IN_PROGRESS':
    case 'FAILED':
    case 'CANCELLING':
    case 'CANCELLED':
    case 'HALTED':
      return rollout.deployStartTime > 0 || rollout.phases.some((p) => DEPLOY_RAN.has(p.deployJobState));
    default:
      return false;
  }
}

/** States in which a rollout still runs (or waits to); its rollback would queue behind it. */
export const RUNNING_ROLLOUT_STATES: ReadonlySet<string> = new Set(['IN_PROGRESS', 'CANCELLING']);

/** Later name first: the tie-break of every order of rollouts (here and serving.ts), so each order is one. */
export const laterNameFirst = (a: HistoryRollout, b: HistoryRollout): number => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);

/** Newest first: by create time, ties by name (descending), so "latest" is always one rollout. */
export const newestFirst = (a: HistoryRollout, b: HistoryRollout): number => b.createTime - a.createTime || laterNameFirst(a, b);

/** The target's latest rollout in any state, as Cloud Deploy's rollout_to_roll_back check sees it. */
export function latestRolloutOn(history: DeployHistory, targetId: string): HistoryRollout | null {
  return history.rollouts.filter((r) => r.targetId === targetId).sort(newestFirst)[0] ?? null;
}

const releaseOfName = (rolloutName: string): string => rolloutName.split('/releases/')[1]?.split('/')[0] ?? '';

/**
 * Chooses the release to leave and the release to return to on `targetId`.
 * `requestedReleaseId` (a command that names its release) is checked against
 * the same rules instead of being chosen.
 */
export function chooseReleases(
  history: DeployHistory,
  targetId: string,
  requestedReleaseId: string | null = null,
  options: {
    /** A human asked (a manual request): they may leave what Burnback's own rollback returned to. */
    allowLeavingOwnRollback?: boolean;
    /** The release the decision blamed for the burn: never returned to, whatever Cloud Deploy's history says of it. */
    blamedReleaseId?: string | null;
  } = {},
): ReleaseDecision {
  const onTarget = history.rollouts.filter((r) => r.targetId === targetId).sort(newestFirst);
  const latest = onTarget[0];
  if (!latest) return { kind: 'refuse', reason: `no last known good release on ${targetId}: no rollout was ever made to ${targetId}` };

  const skipped: string[] = [];
  const serving = onTarget.find((r) => {
    if (reachedTraffic(r)) return true;
    skipped.push(`${r.releaseId} (rollout ${lastSegment(r.name)} ${r.state}, never deployed: not serving)`);
    return false;
  });
  if (!serving) {
    return { kind: 'refuse', reason: `no last known good release on ${targetId}: no rollout on ${targetId} ever reached traffic` };
  }
  if (serving.rollbackOfRollout && RUNNING_ROLLOUT_STATES.has(serving.state)) {
    return {
      kind: 'refuse',
      reason: `a rollback to ${serving.releaseId} (rollout ${lastSegment(serving.name)}) is still ${serving.state} on ${targetId}; not rolling back on top of it`,
    };
  }
  // No ping-pong, whatever the decider knew: what serves is Burnback's own rollback, which succeeded. Only a human
  // (a manual request) may ask to leave it.
  if (isOwnSuccessfulRollback(serving) && !options.allowLeavingOwnRollback) {
    return {
      kind: 'refuse',
      reason: `${targetId} serves ${serving.releaseId} through Burnback's own rollback (rollout ${lastSegment(serving.name)} SUCCEEDED): rolling it back would ping-pong; a human must decide`,
    };
  }

  // Releases someone rolled back away from on this target, whoever did it and however it ended.
  const byName = new Map(history.rollouts.map((r) => [r.name, r]));
  const rolledBackFrom = new Set<string>();
  for (const r of history.rollouts) {
    if (r.targetId === targetId && r.rolledBackByRollouts.length > 0) rolledBackFrom.add(r.releaseId);
    if (r.targetId === targetId && r.rollbackOfRollout) {
      rolledBackFrom.add(byName.get(r.rollbackOfRollout)?.releaseId ?? releaseOfName(r.rollbackOfRollout));
    }
  }
  const abandoned = new Set(history.releases.filter((r) => r.abandoned).map((r) => r.releaseId));
  const known = new Set(history.releases.map((r) => r.releaseId));

  /** Why a release cannot be returned to, or null when it can. */
  const unfit = (releaseId: string): string | null => {
    if (releaseId === serving.releaseId) return 'it is the release being left';
    if (releaseId === options.blamedReleaseId) return 'it is the release blamed for the burn';
    if (!known.has(releaseId)) return 'it is not among the pipeline releases';
    if (abandoned.has(releaseId)) return 'it is abandoned';
    if (rolledBackFrom.has(releaseId)) return `it was rolled back away from on ${targetId}`;
    return null;
  };

  const from = { releaseId: serving.releaseId, rolloutName: serving.name, state: serving.state };
  const succeeded = onTarget.filter((r) => r.state === 'SUCCEEDED');

  if (requestedReleaseId !== null) {
    const proof = succeeded.find((r) => r.releaseId === requestedReleaseId);
    const why = proof ? unfit(requestedReleaseId) : `it never succeeded on ${targetId}`;
    if (why || !proof)
      return { kind: 'refuse', reason: `the command asks for ${requestedReleaseId}, which cannot be rolled back to: ${why}` };
    return {
      kind: 'rollback',
      from,
      to: { releaseId: requestedReleaseId, rolloutName: proof.name },
      latestRolloutName: latest.name,
      skipped,
    };
  }

  const passedOver = new Set<string>();
  for (const r of succeeded) {
    const why = unfit(r.releaseId);
    if (!why) {
      return { kind: 'rollback', from, to: { releaseId: r.releaseId, rolloutName: r.name }, latestRolloutName: latest.name, skipped };
    }
    if (r.releaseId !== serving.releaseId && !passedOver.has(r.releaseId)) {
      passedOver.add(r.releaseId);
      skipped.push(`${r.releaseId} (${why})`);
    }
  }
  const detail = passedOver.size > 0 ? `; passed over ${skipped.filter((s) => passedOver.has(s.split(' ')[0]!)).join(', ')}` : '';
  return {
    kind: 'refuse',
    reason: `no last known good release on ${targetId}: no release other than ${serving.releaseId} (serving, rollout ${lastSegment(serving.name)} ${serving.state}) succeeded on ${targetId} without being abandoned or rolled back away from${detail}`,
  };
}

const lastSegment = (name: string): string => name.split('/').pop() ?? name;

/** A rollout Burnback created to roll a target back (its derived id), and that succeeded. */
export function isOwnSuccessfulRollback(rollout: HistoryRollout): boolean {
  return rollout.state === 'SUCCEEDED' && rollout.rollbackOfRollout !== '' && lastSegment(rollout.name).startsWith(BURNBACK_ROLLOUT_PREFIX);
}
