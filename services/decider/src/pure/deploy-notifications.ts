/**
 * Which configured service a Cloud Deploy notification is about, from its
 * attributes alone. Pure: the decider's deploy-event handler asks, then reads
 * the target's history.
 */
import { rolloutOfResource } from '@burnback/contracts';

/** What a service says of its Cloud Deploy target (ServiceConfig's fields). */
export interface DeployTargetOf {
  name: string;
  project: string;
  /** The project's number, when the config names it; else learned at start (see `numbers`), else unknown. */
  projectNumber?: string | null;
  region: string;
  pipeline: string;
  target: string;
}

/**
 * clouddeploy-operations actions on a rollout or a job run that can change what
 * serves: a rollout or job run that started, succeeded, failed, was terminated
 * (job run) or cancelled (rollout). Renders (releases) and the other topics cannot.
 */
const SERVING_ACTIONS: ReadonlySet<string> = new Set(['Start', 'Succeed', 'Failure', 'Terminated', 'Cancelled']);
const DIGITS = /^\d+$/;

/**
 * The configured service whose target a notification names, or null. Matched
 * on location, pipeline and target, and on the project: by id when the
 * resource name carries one (gcp-sim), by number when it carries a number (Cloud
 * Deploy's own names): the service's known number must be it. A service whose
 * number is not known matches a number only when no other project could
 * (loadConfig refuses two projects with one region, pipeline and target unless
 * both name their numbers).
 */
export function serviceOfNotification<S extends DeployTargetOf>(
  services: readonly S[],
  attributes: Record<string, string>,
  numbers: ReadonlyMap<string, string> = new Map(),
): S | null {
  const type = attributes.ResourceType;
  if ((type !== 'Rollout' && type !== 'JobRun') || !SERVING_ACTIONS.has(attributes.Action ?? '')) return null;
  const name = rolloutOfResource(attributes.Resource);
  if (!name || !attributes.TargetId) return null;
  const number = DIGITS.test(name.project) ? name.project : null;
  for (const s of services) {
    if (s.region !== name.location || s.pipeline !== name.pipeline || s.target !== attributes.TargetId) continue;
    if (number === null) {
      if (s.project === name.project) return s;
      continue;
    }
    const known = s.projectNumber ?? numbers.get(s.name) ?? null;
    if (known === null || known === number) return s;
  }
  return null;
}
