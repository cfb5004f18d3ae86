import type { ServerErrorResponse, ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { DeployMethods, OPERATIONS_METHODS, type DeployMethod, type DeployRpcs } from './resources.js';
import type { DeploySimulation, SimLogger } from './simulation.js';
import { ApiErrorCodes, DeployApiError } from '../errors.js';

/** Reads are polled (GetRollout, GetOperation every few hundred ms), so only writes and errors are logged. */
const QUIET_METHODS: ReadonlySet<DeployMethod> = new Set<DeployMethod>([
  'ListDeliveryPipelines',
  'GetDeliveryPipeline',
  'ListTargets',
  'GetTarget',
  'ListReleases',
  'GetRelease',
  'ListRollouts',
  'GetRollout',
  'GetOperation',
]);

/**
 * The gRPC face of the Cloud Deploy simulator: one unary handler per simulated
 * RPC, keyed by the proto method name, for google.cloud.deploy.v1.CloudDeploy
 * (`service: 'deploy'`) or google.longrunning.Operations (`'operations'`). RPCs
 * left out answer UNIMPLEMENTED (grpc-js does that), e.g. ListOperations and CancelOperation.
 * An injected latency delays the answer; the call is applied after the delay.
 */
export function createCloudDeployHandlers(
  sim: DeploySimulation,
  logger: SimLogger,
  service: 'deploy' | 'operations' = 'deploy',
  names: { projectId: string; projectNumber: string } | null = null,
): UntypedServiceImplementation {
  const answerOf = (method: DeployMethod, response: unknown): unknown =>
    names && (method === 'GetRelease' || method === 'ListReleases') ? numberedSnapshots(response, names) : response;
  const handlers: UntypedServiceImplementation = {};
  for (const method of Object.values(DeployMethods)) {
    if (OPERATIONS_METHODS.has(method) !== (service === 'operations')) continue;
    handlers[method] = (call: ServerUnaryCall<DeployRpcs[typeof method]['request'], unknown>, callback: sendUnaryData<unknown>) => {
      const fault = sim.takeFault(method, call.request);
      const answer = (): void => {
        try {
          const response = sim.invoke(method, call.request, fault);
          if (!QUIET_METHODS.has(method)) logger.info(`CloudDeploy.${method}`, { request: call.request });
          callback(null, answerOf(method, response));
        } catch (err) {
          callback(toServiceError(method, err, logger));
        }
      };
      if (fault && fault.latencyMs > 0) setTimeout(answer, fault.latencyMs).unref();
      else answer();
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

/**
 * A release's pipeline and target snapshots carry the project number in their
 * names, as Cloud Deploy's own resource names do (gcp-sim's choice; what
 * `gcloud deploy releases describe` shows): how a client learns the number that
 * Cloud Deploy's notifications may name the project by. Everything else keeps the id.
 */
function numberedSnapshots(response: unknown, names: { projectId: string; projectNumber: string }): unknown {
  const from = `projects/${names.projectId}/`;
  const to = `projects/${names.projectNumber}/`;
  const renumber = <T extends { name?: string }>(r: T | undefined): T | undefined =>
    r && typeof r.name === 'string' && r.name.startsWith(from) ? { ...r, name: to + r.name.slice(from.length) } : r;
  const release = (r: Record<string, unknown>) => ({
    ...r,
    deliveryPipelineSnapshot: renumber(r.deliveryPipelineSnapshot as { name?: string } | undefined),
    targetSnapshots: ((r.targetSnapshots as Array<{ name?: string }> | undefined) ?? []).map((t) => renumber(t)),
  });
  const answer = response as Record<string, unknown>;
  if (Array.isArray(answer.releases)) return { ...answer, releases: (answer.releases as Array<Record<string, unknown>>).map(release) };
  return release(answer);
}
