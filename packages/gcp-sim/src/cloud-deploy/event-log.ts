import type { DeployEvent } from './state-types.js';
import type { SimLogger } from './sim-api.js';

/** One line in the simulator's log for each change in the world; `willFail`: whether a rollout has a failure planned. */
export function logDeployEvent(logger: SimLogger, event: DeployEvent, willFail: (rollout: string) => boolean): void {
  switch (event.type) {
    case 'rollout-state':
      logger.info('rollout state changed', { rollout: event.rollout.name, from: event.previousState, to: event.rollout.state });
      break;
    case 'rollout-created':
      logger.info('rollout created', {
        rollout: event.rollout.name,
        target: event.rollout.targetId,
        state: event.rollout.state,
        rollbackOfRollout: event.rollout.rollbackOfRollout || undefined,
        willFail: willFail(event.rollout.name),
      });
      break;
    case 'release-created':
    case 'release-rendered':
    case 'release-abandoned':
      logger.info(event.type.replace('-', ' '), { release: event.release.name, renderState: event.release.renderState });
      break;
    case 'approval':
      logger.info(`approval ${event.action.toLowerCase()}`, { rollout: event.rollout.name });
      break;
    case 'advance':
      logger.info(`advance ${event.action.toLowerCase()}`, { rollout: event.rollout.name, phase: event.phaseId });
      break;
    case 'job-run':
      logger.info(`job run ${event.action.toLowerCase()}`, { rollout: event.rollout.name, phase: event.phaseId, job: event.jobId });
      break;
    default: {
      const never: never = event;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}
