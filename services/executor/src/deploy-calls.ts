/** The executor's Cloud Deploy calls: retried while the error is transient, and the rest classified (a refusal, a denied permission, a shutdown). */
import { TransientError } from '@burnback/contracts';
import { isRetryableGrpcError, withRetry } from '@burnback/platform';
import type { RollbackStepsDeps } from './step-deps.js';

/** Cloud Deploy answered a non-retryable error to a call that starts the rollback: the rollback fails with the reason. */
export class DeployRefusal extends Error {
  override name = 'DeployRefusal';
  constructor(
    readonly code: number,
    detail: string,
  ) {
    super(`Cloud Deploy refused the rollback (gRPC ${code}): ${detail}`);
  }
}

/** gRPC PERMISSION_DENIED and UNAUTHENTICATED: an IAM grant still propagating, or missing for good. */
const PERMISSION_CODES: ReadonlyMap<number, string> = new Map([
  [7, 'PERMISSION_DENIED'],
  [16, 'UNAUTHENTICATED'],
]);

/**
 * Cloud Deploy denied a call the executor needs (PERMISSION_DENIED,
 * UNAUTHENTICATED). Waited out for a while, since a grant can take minutes to
 * propagate; then the rollback fails naming the permission.
 */
export class DeployPermissionDenied extends Error {
  override name = 'DeployPermissionDenied';
  constructor(
    readonly code: number,
    /** The permission the call needs: the one Cloud Deploy named, else the call's own. */
    readonly permission: string,
    detail: string,
  ) {
    super(`Cloud Deploy denied ${permission} (gRPC ${code} ${PERMISSION_CODES.get(code) ?? ''}): ${detail}`);
  }
}

/** What each Cloud Deploy call the executor makes needs (https://cloud.google.com/iam/docs/roles-permissions/clouddeploy). */
export const CallPermissions = {
  readHistory: 'clouddeploy.rollouts.list',
  rollbackTarget: 'clouddeploy.rollouts.rollback',
  cancelRollout: 'clouddeploy.rollouts.cancel',
  getRollout: 'clouddeploy.rollouts.get',
} as const;

/** The permission a denial names (`Permission 'x' denied …`), else the one the call needs. */
export function deniedPermission(message: string, call: keyof typeof CallPermissions): string {
  return /[Pp]ermission '([a-z][a-zA-Z0-9_.]+)'/.exec(message)?.[1] ?? CallPermissions[call];
}

const NOT_FOUND = 5;

/** The Cloud Deploy calls of the rollback steps, with the retries and the signal of `deps`. */
export function createDeployCalls(deps: Pick<RollbackStepsDeps, 'deploy' | 'signal' | 'retry'>) {
  const { deploy } = deps;

  const callDeploy = <T>(fn: () => Promise<T>) =>
    withRetry(fn, {
      grpc: true,
      retries: deps.retry?.retries ?? 5,
      minTimeout: deps.retry?.minTimeout ?? 500,
      maxTimeout: deps.retry?.maxTimeout ?? 10_000,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });

  /**
   * A Cloud Deploy call whose non-retryable answer is a refusal of the rollback, except: a shutdown that stops its
   * retries (the command is redelivered and resumes), and a denied permission (waited out; see `start`).
   */
  const askDeploy = async <T>(call: keyof typeof CallPermissions, fn: () => Promise<T>): Promise<T> => {
    try {
      return await callDeploy(fn);
    } catch (err) {
      // p-retry rejects with the signal's reason, a DOMException whose legacy code (20) is no gRPC answer.
      if (deps.signal?.aborted || (err as Error)?.name === 'AbortError')
        throw new TransientError(`stopped by the executor's shutdown during ${call}; the command's redelivery resumes it`, { cause: err });
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && PERMISSION_CODES.has(code))
        throw new DeployPermissionDenied(code, deniedPermission((err as Error).message, call), (err as Error).message);
      if (typeof code === 'number' && !isRetryableGrpcError(err)) throw new DeployRefusal(code, (err as Error).message);
      throw err;
    }
  };

  /** The rollout's status, or null when Cloud Deploy has no rollout of that name. */
  const findRollout = async (name: string) => {
    try {
      return await callDeploy(() => deploy.getRollout(name));
    } catch (err) {
      if ((err as { code?: unknown }).code === NOT_FOUND) return null;
      throw err;
    }
  };

  return { callDeploy, askDeploy, findRollout };
}

export type DeployCalls = ReturnType<typeof createDeployCalls>;
