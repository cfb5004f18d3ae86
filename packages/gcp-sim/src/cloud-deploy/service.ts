import type { ServerErrorResponse, UntypedServiceImplementation, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { DeployMethods, type DeployMethod, type DeployRpcs } from './resources.js';
import type { DeploySimulation, SimLogger } from './simulation.js';
import { ApiErrorCodes, DeployApiError } from '../errors.js';

/** Reads are polled (GetRollout every few hundred ms), so only writes and errors are logged. */
const QUIET_METHODS: ReadonlySet<DeployMethod> = new Set<DeployMethod>([
  'ListDeliveryPipelines',
  'GetDeliveryPipeline',
  'ListTargets',
  'GetTarget',
  'ListReleases',
  'GetRelease',
  'ListRollouts',
  'GetRollout',
]);

/**
 * The gRPC face of the simulator: one unary handler per simulated CloudDeploy
 * RPC, keyed by the proto method name. RPCs left out answer UNIMPLEMENTED (grpc-js does that).
 */
export function createCloudDeployHandlers(sim: DeploySimulation, logger: SimLogger): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const method of Object.values(DeployMethods)) {
    handlers[method] = (call: ServerUnaryCall<DeployRpcs[typeof method]['request'], unknown>, callback: sendUnaryData<unknown>) => {
      try {
        const response = sim.invoke(method, call.request);
        if (!QUIET_METHODS.has(method)) logger.info(`CloudDeploy.${method}`, { request: call.request });
        callback(null, response);
      } catch (err) {
        callback(toServiceError(method, err, logger));
      }
    };
  }
  return handlers;
}

function toServiceError(method: DeployMethod, err: unknown, logger: SimLogger): ServerErrorResponse {
  if (err instanceof DeployApiError) {
    logger.info(`CloudDeploy.${method} answered ${err.code}`, { message: err.message });
    return Object.assign(new Error(err.message), { code: ApiErrorCodes[err.code], details: err.message });
  }
  logger.warn(`CloudDeploy.${method} failed inside gcp-sim`, { error: String(err) });
  return Object.assign(new Error(String(err)), { code: ApiErrorCodes.INTERNAL, details: `gcp-sim: ${String(err)}` });
}
