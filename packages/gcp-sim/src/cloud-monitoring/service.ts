import type { ServerErrorResponse, ServerUnaryCall, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { ApiErrorCodes, DeployApiError } from '../errors.js';
import type { SimLogger } from '../cloud-deploy/simulation.js';
import type { ListTimeSeriesRequest, MonitoringSimulation } from './simulation.js';

/**
 * The gRPC face of gcp-sim's Cloud Monitoring: google.monitoring.v3.MetricService
 * with ListTimeSeries only (every other RPC answers UNIMPLEMENTED, which grpc-js
 * does). An injected latency delays the answer; the burn rate is read after the delay.
 */
export function createMonitoringHandlers(sim: MonitoringSimulation, logger: SimLogger): UntypedServiceImplementation {
  return {
    ListTimeSeries: (call: ServerUnaryCall<ListTimeSeriesRequest, unknown>, callback: sendUnaryData<unknown>) => {
      const fault = sim.takeFault('ListTimeSeries', call.request);
      const answer = (): void => {
        try {
          callback(null, sim.listTimeSeries(call.request, fault));
        } catch (err) {
          callback(toServiceError(err, logger));
        }
      };
      if (fault && fault.latencyMs > 0) setTimeout(answer, fault.latencyMs).unref();
      else answer();
    },
  };
}

function toServiceError(err: unknown, logger: SimLogger): ServerErrorResponse {
  if (err instanceof DeployApiError) {
    logger.info(`MetricService.ListTimeSeries answered ${err.code}`, { message: err.message });
    return Object.assign(new Error(err.message), { code: ApiErrorCodes[err.code], details: err.message });
  }
  logger.warn('MetricService.ListTimeSeries failed inside gcp-sim', { error: String(err) });
  return Object.assign(new Error(String(err)), { code: ApiErrorCodes.INTERNAL, details: `gcp-sim: ${String(err)}` });
}
