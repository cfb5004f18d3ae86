import { systemClock, type DeployHistoryReader, type Logger, type ReceivedMessage, type ServiceConfig } from '@burnback/platform';
import { newestRolloutsOn, rebuildTarget } from '@burnback/policy';
import { targetDocIdFor, type TargetRecord } from '@burnback/contracts';
import { classifyStoreError, type DeciderDeps } from './handler.js';
import { serviceOfNotification } from './pure/deploy-notifications.js';
import { DecisionStore, type TargetIdentity } from './store.js';
import { createKeyedSerializer, type KeyedSerializer } from './serializer.js';

/** A Cloud Deploy notification that asks for its target to be read again, as `deployEvents/` keeps it. */
export interface AskingNotification {
  messageId: string;
  publishTime: string;
  attributes: Record<string, string>;
}

/** Where a service's target is, in Cloud Deploy's names. */
export const pipelineNameOf = (s: TargetIdentity): string => `projects/${s.project}/locations/${s.region}/deliveryPipelines/${s.pipeline}`;
const identityOf = (s: ServiceConfig): TargetIdentity => ({ project: s.project, region: s.region, pipeline: s.pipeline, target: s.target });

export interface TargetHistoryDeps extends Pick<DeciderDeps, 'db' | 'services' | 'logger' | 'clock' | 'metrics'> {
  /** Cloud Deploy's history, read whenever it may have changed (a replay answers from the recording). */
  deploy: DeployHistoryReader;
  /** Project numbers learned at start (service name → number), for notifications whose names carry the number. */
  projectNumbers?: ReadonlyMap<string, string>;
  /**
   * Turns per target document (targetDocIdFor), shared with the progress handler: both read the target's document
   * and write it back, and two such transactions at once deadlock on the Firestore emulator's locks until it gives
   * one up (~2 s) and it is retried. Default: turns of its own.
   */
  targetTurn?: KeyedSerializer;
}

/**
 * What serves each configured target, from Cloud Deploy's own record: the
 * target's rollouts are read (ListRollouts, every page) and folded by the pure
 * `rebuildTarget` into `targets/{id}`. One read at a time per target in this
 * process, in the target's turn (shared with the rollback progress recorded on
 * it); across replicas a read older than the one recorded changes nothing.
 *
 * Notifications of one rollout come in bursts (five or six for a rollback, a
 * few milliseconds apart), and each asks for the same thing: read the target
 * now. So a rebuild that is queued for its turn and has not read yet serves
 * every notification and re-decision that asks for the same target meanwhile:
 * its read starts after each of them arrived, and each notification is kept in
 * `deployEvents/` with that read, in its one transaction.
 */
export function createTargetHistory(deps: TargetHistoryDeps) {
  const store = new DecisionStore(deps.db, (t) => deps.metrics?.transactionAttempts.inc({ transaction: t }));
  const clock = deps.clock ?? systemClock;
  const targetTurn = deps.targetTurn ?? createKeyedSerializer();
  /** Per target document: the rebuild queued for its turn that has not read yet, and the notifications it serves. */
  const queued = new Map<string, { events: AskingNotification[]; done: Promise<TargetRecord> }>();

  /**
   * Reads the service's target history now (or joins a read queued for it that has not started) and records what
   * serves it. `event`: the notification that asked, kept in `deployEvents/` with what was read (export and
   * replay); none for a rebuild at start or before a re-decision.
   */
  const rebuild = (service: ServiceConfig, event?: AskingNotification): Promise<TargetRecord> => {
    const target = identityOf(service);
    const key = targetDocIdFor(target);
    const waiting = queued.get(key);
    if (waiting) {
      if (event) waiting.events.push(event);
      return waiting.done;
    }
    const events = event ? [event] : [];
    const done = targetTurn(key, async () => {
      // From here on, a notification that arrives waits for a read of its own: this one may have begun before it.
      queued.delete(key);
      const readAt = clock.now().toISOString();
      const rollouts = newestRolloutsOn(await deps.deploy.rolloutsOnTarget(pipelineNameOf(target), target.target), target.target);
      try {
        return await store.updateTarget(
          target,
          readAt,
          (current) => rebuildTarget(current, rollouts, readAt),
          // Applied when read: one time, so a replay that sets the clock to when the notification was applied reads then.
          events.length > 0
            ? { events: events.map((e) => ({ ...e, service: service.name, read: rollouts })), now: () => new Date(readAt) }
            : undefined,
        );
      } catch (err) {
        throw classifyStoreError(err, 'target transaction');
      }
    });
    queued.set(key, { events, done });
    return done;
  };

  /** Every configured target, at start: a fresh install protects production at once. Failures are logged, not fatal. */
  const rebuildAll = async (): Promise<number> => {
    let rebuilt = 0;
    for (const service of deps.services.values()) {
      try {
        const record = await rebuild(service);
        rebuilt++;
        deps.logger.info(
          record.serving
            ? `${service.target} of ${service.pipeline} serves ${record.serving.releaseId} since ${record.serving.since}`
            : `${service.target} of ${service.pipeline} serves nothing Cloud Deploy has on record`,
          { event: 'target_history_read', service: service.name, serving: record.serving?.releaseId, since: record.serving?.since },
        );
      } catch (err) {
        deps.logger.error(
          `cannot read what serves ${service.target} of ${service.pipeline} from Cloud Deploy; its next notification will`,
          {
            event: 'target_history_unreadable',
            service: service.name,
            error: err,
          },
        );
      }
    }
    return rebuilt;
  };

  return { rebuild, rebuildAll, store };
}

/**
 * Cloud Deploy's operation notifications (clouddeploy-operations; everything is
 * in the attributes) in → the target they name is read again from Cloud Deploy
 * and what serves it recorded: a rollout or one of its job runs started (a
 * canary's first deploy job serves its share from then), ended, failed, or was
 * cancelled. Every notification reads the whole history of the target, so one
 * that is missing or comes out of order is mended by the next. Notifications
 * of other resources, topics and targets are acknowledged and ignored.
 */
export function createDeployEventHandler(
  deps: TargetHistoryDeps & {
    /** The decider's target history, whose turns the progress handler shares; default one of its own from `deps`. */
    history?: ReturnType<typeof createTargetHistory>;
  },
): (message: Pick<ReceivedMessage, 'attributes' | 'publishTime' | 'id'>) => Promise<void> {
  const history = deps.history ?? createTargetHistory(deps);
  const clock = deps.clock ?? systemClock;
  const services = [...deps.services.values()];
  return async (message) => {
    const a = message.attributes;
    const service = serviceOfNotification(services, a, deps.projectNumbers);
    if (!service) return;
    const record = await history.rebuild(service, {
      messageId: message.id,
      publishTime: clock.at(message.publishTime).toISOString(),
      attributes: { ...a },
    });
    deps.logger.info(
      record.serving
        ? `${a.ResourceType} ${a.Action}: ${service.target} of ${service.pipeline} serves ${record.serving.releaseId}${record.serving.phase ? ` (${record.serving.phase})` : ''} since ${record.serving.since}`
        : `${a.ResourceType} ${a.Action}: nothing serves ${service.target} of ${service.pipeline}`,
      {
        event: 'target_serving',
        eventId: message.id,
        service: service.name,
        releaseId: record.serving?.releaseId,
        since: record.serving?.since,
        rollout: a.Resource,
        action: a.Action,
      },
    );
  };
}

/** The project numbers Cloud Deploy writes in each service's resource names, learned at start (service name → number). */
export async function learnProjectNumbers(
  services: ServiceConfig[],
  deploy: DeployHistoryReader,
  logger: Logger,
): Promise<Map<string, string>> {
  const numbers = new Map<string, string>();
  for (const s of services) {
    if (s.projectNumber) continue;
    try {
      const number = await deploy.projectNumberOf(pipelineNameOf(identityOf(s)));
      if (number) numbers.set(s.name, number);
    } catch (err) {
      logger.warn(
        `cannot learn the project number of ${s.project} from Cloud Deploy; notifications naming a number match by pipeline and target`,
        {
          event: 'project_number_unknown',
          service: s.name,
          error: err,
        },
      );
    }
  }
  return numbers;
}
