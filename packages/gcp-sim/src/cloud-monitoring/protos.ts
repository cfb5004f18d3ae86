import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { PROTO_LOADER_OPTIONS } from '../cloud-deploy/protos.js';

export const METRIC_SERVICE = 'google.monitoring.v3.MetricService';

/**
 * Where the Monitoring protos live: @google-cloud/monitoring ships
 * google/monitoring/v3, and the google/api and rpc protos it imports come from
 * the google-gax it depends on (resolved from the monitoring package).
 */
export function monitoringProtoIncludeDirs(): string[] {
  const monitoringPackage = require.resolve('@google-cloud/monitoring/package.json');
  // gax 5 exports no package.json: from its entry point (build/src/index.js) up to the package.
  const gaxEntry = createRequire(monitoringPackage).resolve('google-gax');
  return [join(dirname(monitoringPackage), 'build', 'protos'), join(dirname(gaxEntry), '..', 'protos')];
}

let definitions: protoLoader.PackageDefinition | undefined;

/** The MetricService definition, loaded once; same loader options as Cloud Deploy's (enums as names, int64 as strings). */
export function metricServiceDefinition(): ServiceDefinition {
  definitions ??= protoLoader.loadSync('google/monitoring/v3/metric_service.proto', {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: monitoringProtoIncludeDirs(),
  });
  const service = definitions[METRIC_SERVICE];
  if (!service || typeof service !== 'object' || 'format' in service) throw new Error(`${METRIC_SERVICE} not found in the bundled protos`);
  return service;
}
