/** A Cloud Deploy rollout's resource name, in parts. */
export interface RolloutName {
  /** A project id, or the project number Cloud Deploy's notifications sometimes carry. */
  project: string;
  location: string;
  pipeline: string;
  releaseId: string;
  rolloutId: string;
}

const ROLLOUT = /^projects\/([^/]+)\/locations\/([^/]+)\/deliveryPipelines\/([^/]+)\/releases\/([^/]+)\/rollouts\/([^/]+)$/;
/** A job run's name is its rollout's, then `/jobRuns/{uuid}`. */
const JOB_RUN = /^(projects\/[^/]+\/locations\/[^/]+\/deliveryPipelines\/[^/]+\/releases\/[^/]+\/rollouts\/[^/]+)\/jobRuns\/[^/]+$/;

/**
 * `projects/{p}/locations/{l}/deliveryPipelines/{pipeline}/releases/{r}/rollouts/{id}`
 * in parts; null for anything else (another resource, a name cut short or with
 * more segments), so a notification about something else is told apart.
 */
export function parseRolloutName(name: string | undefined): RolloutName | null {
  // Stryker disable next-line ConditionalExpression: equivalent; exec(undefined) reads "undefined", which is no rollout either
  const m = name === undefined ? null : ROLLOUT.exec(name);
  if (!m) return null;
  const [, project, location, pipeline, releaseId, rolloutId] = m as unknown as [string, string, string, string, string, string];
  return { project, location, pipeline, releaseId, rolloutId };
}

/**
 * The rollout a Cloud Deploy notification is about: its `Resource` when that is
 * a rollout, the rollout above it when it is a job run (`…/rollouts/{id}/jobRuns/{uuid}`);
 * null for anything else (a release, a target).
 */
export function rolloutOfResource(resource: string | undefined): RolloutName | null {
  // Stryker disable next-line ConditionalExpression: equivalent; exec(undefined) reads "undefined", which is no job run either
  const jobRun = resource === undefined ? null : JOB_RUN.exec(resource);
  return parseRolloutName(jobRun ? jobRun[1] : resource);
}
