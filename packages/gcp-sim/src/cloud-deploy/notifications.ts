import { createHash } from 'node:crypto';
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { Topics } from '@burnback/contracts';
import type { Release, Rollout } from './resources.js';
import { parseReleaseName, parseRolloutName } from './resource-names.js';
import type { DeployNotifier, SimLogger } from './simulation.js';
import type { DeployEvent } from './state.js';

/**
 * Cloud Deploy's Pub/Sub notifications, as https://cloud.google.com/deploy/docs/subscribe-deploy-notifications
 * describes them:
 * - `clouddeploy-resources`: "an operation (create, update, delete) against any Cloud Deploy core resource";
 * - `clouddeploy-operations`: "when Cloud Deploy renders the Skaffold configuration" and "when Cloud Deploy
 *   deploys to a target (Start, Succeed, Failure, Terminated (job run), Cancelled (rollout))": a rollout's
 *   Start, Succeed, Failure and Cancelled, and each of its job runs' Start, Succeed, Failure and Terminated
 *   (ResourceType `JobRun`, the page's "Field values": DeliveryPipeline, Target, Release, Rollout, JobRun);
 * - `clouddeploy-approvals`: "when Cloud Deploy needs an approval (or rejection) of a rollout" and "when a
 *   rollout has been approved or rejected";
 * - `clouddeploy-advances`: "when a rollout has been advanced from one phase to the next" and "when a rollout
 *   is ready to be advanced".
 * Cloud Deploy publishes only to the topics a project created ("Create the Pub/Sub topic or topics, based on
 * which notification types you want to receive"), so a missing topic drops its messages quietly.
 * Everything is in the attributes; `data` is a one-line summary for people (not documented; README.md).
 */
export const DeployNotificationTopics = {
  resources: 'clouddeploy-resources',
  operations: Topics.clouddeployOperations,
  approvals: Topics.clouddeployApprovals,
  advances: 'clouddeploy-advances',
} as const;
export type DeployNotificationTopic = (typeof DeployNotificationTopics)[keyof typeof DeployNotificationTopics];

/**
 * Action values. Start/Succeed/Failure (operations) and Required/Approved/Rejected (approvals) are the
 * values consumers written against Cloud Deploy compare with (e.g. sakajunquality/clouddeploy-functions,
 * operations/message.go and approvals/message.go); Cancelled and Create/Update are the documentation's words.
 */
export const DeployActions = {
  create: 'Create',
  update: 'Update',
  start: 'Start',
  succeed: 'Succeed',
  failure: 'Failure',
  terminated: 'Terminated',
  cancelled: 'Cancelled',
  required: 'Required',
  approved: 'Approved',
  rejected: 'Rejected',
  advanced: 'Advanced',
} as const;
export type DeployAction = (typeof DeployActions)[keyof typeof DeployActions];

export interface DeployNotification {
  topic: DeployNotificationTopic;
  attributes: Record<string, string>;
  data: string;
}

/** A stable 12-digit project number for a project id (gcp-sim has no resource manager). */
export function projectNumberOf(projectId: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(projectId).digest('hex').slice(0, 15)}`) % 900_000_000_000n;
  return String(digits + 100_000_000_000n);
}

function releaseAttributes(release: Release, projectNumber: string): Record<string, string> {
  const ref = parseReleaseName(release.name);
  return {
    Resource: release.name,
    ResourceType: 'Release',
    Location: ref.location,
    ProjectNumber: projectNumber,
    DeliveryPipelineId: ref.pipeline,
    ReleaseId: ref.release,
  };
}

function rolloutAttributes(rollout: Rollout, projectNumber: string): Record<string, string> {
  const ref = parseRolloutName(rollout.name);
  return {
    Resource: rollout.name,
    ResourceType: 'Rollout',
    Location: ref.location,
    ProjectNumber: projectNumber,
    DeliveryPipelineId: ref.pipeline,
    ReleaseId: ref.release,
    RolloutId: ref.rollout,
    TargetId: rollout.targetId,
  };
}

/** A job run's messages: the job run's name in `Resource`, ResourceType `JobRun`, and the rollout's own attributes. */
function jobRunAttributes(rollout: Rollout, jobRun: string, projectNumber: string): Record<string, string> {
  return { ...rolloutAttributes(rollout, projectNumber), Resource: jobRun, ResourceType: 'JobRun' };
}

/** Approval and advance messages name the rollout in `Rollout` (not `Resource`), and carry no ResourceType. */
function rolloutRefAttributes(rollout: Rollout, projectNumber: string): Record<string, string> {
  const { Resource, ResourceType: _resourceType, ...rest } = rolloutAttributes(rollout, projectNumber);
  return { Rollout: Resource!, ...rest };
}

const message = (
  topic: DeployNotificationTopic,
  action: DeployAction,
  attributes: Record<string, string>,
  data: string,
): DeployNotification => ({
  topic,
  attributes: { Action: action, ...attributes },
  data,
});

/** The operation Action for a rollout entering `state`, if Cloud Deploy reports one on clouddeploy-operations. */
function operationAction(state: Rollout['state'], previous: Rollout['state']): DeployAction | undefined {
  if (state === 'IN_PROGRESS' && previous === 'PENDING') return DeployActions.start;
  if (state === 'SUCCEEDED') return DeployActions.succeed;
  if (state === 'FAILED') return DeployActions.failure;
  if (state === 'CANCELLED') return DeployActions.cancelled;
  return undefined;
}

/** The messages Cloud Deploy publishes for one change, in order. */
export function notificationsOf(event: DeployEvent, projectNumber: string): DeployNotification[] {
  const { resources, operations, approvals, advances } = DeployNotificationTopics;
  switch (event.type) {
    case 'release-created': {
      const attrs = releaseAttributes(event.release, projectNumber);
      return [
        message(resources, DeployActions.create, attrs, `Release ${event.release.name} created`),
        message(operations, DeployActions.start, attrs, `Release ${event.release.name} render started`),
      ];
    }
    case 'release-rendered': {
      const ok = event.release.renderState === 'SUCCEEDED';
      return [
        message(
          operations,
          ok ? DeployActions.succeed : DeployActions.failure,
          releaseAttributes(event.release, projectNumber),
          `Release ${event.release.name} render ${ok ? 'succeeded' : 'failed'}`,
        ),
      ];
    }
    case 'release-abandoned':
      return [
        message(
          resources,
          DeployActions.update,
          releaseAttributes(event.release, projectNumber),
          `Release ${event.release.name} abandoned`,
        ),
      ];
    case 'rollout-created':
      return [
        message(resources, DeployActions.create, rolloutAttributes(event.rollout, projectNumber), `Rollout ${event.rollout.name} created`),
      ];
    case 'rollout-state': {
      const attrs = rolloutAttributes(event.rollout, projectNumber);
      const text = `Rollout ${event.rollout.name} is ${event.rollout.state}`;
      const action = operationAction(event.rollout.state, event.previousState);
      return [message(resources, DeployActions.update, attrs, text), ...(action ? [message(operations, action, attrs, text)] : [])];
    }
    case 'approval':
      return [
        message(
          approvals,
          DeployActions[event.action === 'Required' ? 'required' : event.action === 'Approved' ? 'approved' : 'rejected'],
          rolloutRefAttributes(event.rollout, projectNumber),
          `Rollout ${event.rollout.name}: approval ${event.action.toLowerCase()}`,
        ),
      ];
    case 'advance':
      return [
        message(
          advances,
          event.action === 'Required' ? DeployActions.required : DeployActions.advanced,
          { ...rolloutRefAttributes(event.rollout, projectNumber), PhaseId: event.phaseId },
          `Rollout ${event.rollout.name}: ${event.action === 'Required' ? 'ready to advance to' : 'advanced to'} phase ${event.phaseId}`,
        ),
      ];
    case 'job-run': {
      const attrs = jobRunAttributes(event.rollout, event.jobRun, projectNumber);
      const text = `Job run ${event.jobRun} (${event.jobId} job of phase ${event.phaseId}): ${event.action}`;
      const action =
        DeployActions[
          event.action === 'Start'
            ? 'start'
            : event.action === 'Succeed'
              ? 'succeed'
              : event.action === 'Failure'
                ? 'failure'
                : 'terminated'
        ];
      return [
        message(resources, event.action === 'Start' ? DeployActions.create : DeployActions.update, attrs, text),
        message(operations, action, attrs, text),
      ];
    }
    default: {
      const never: never = event;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

const NOT_FOUND = 5;

/**
 * Publishes Cloud Deploy's notifications with @google-cloud/pubsub (the Pub/Sub
 * emulator when PUBSUB_EMULATOR_HOST is set), one at a time so they arrive in
 * the order the changes happened.
 */
export class PubSubDeployNotifier implements DeployNotifier {
  private chain: Promise<void> = Promise.resolve();
  private readonly topics = new Map<string, Topic>();
  private readonly missing = new Set<string>();

  constructor(
    private readonly pubsub: PubSub,
    private readonly projectNumber: string,
    private readonly logger: SimLogger,
    /** Notifications it answers true for are not published. */
    private readonly suppress?: (notification: { topic: string; attributes: Record<string, string> }) => boolean,
  ) {}

  notify(event: DeployEvent): void {
    for (const m of notificationsOf(event, this.projectNumber)) {
      this.chain = this.chain.then(() => this.publish(m));
    }
  }

  flush(): Promise<void> {
    return this.chain;
  }

  async close(): Promise<void> {
    await this.flush();
    await Promise.all([...this.topics.values()].map((t) => t.flush().catch(() => undefined)));
  }

  private async publish(m: DeployNotification): Promise<void> {
    if (this.suppress?.({ topic: m.topic, attributes: { ...m.attributes } })) return;
    let topic = this.topics.get(m.topic);
    if (!topic) {
      topic = this.pubsub.topic(m.topic, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
      this.topics.set(m.topic, topic);
    }
    try {
      await topic.publishMessage({ data: Buffer.from(m.data), attributes: m.attributes });
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) {
        if (!this.missing.has(m.topic)) this.logger.info(`topic ${m.topic} does not exist: its Cloud Deploy notifications are dropped`);
        this.missing.add(m.topic);
        return;
      }
      this.logger.warn('publishing a Cloud Deploy notification failed', {
        topic: m.topic,
        action: m.attributes.Action,
        error: String(err),
      });
    }
  }
}
