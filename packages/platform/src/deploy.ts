import { createRequire } from 'node:module';
import { CloudDeployClient } from '@google-cloud/deploy';
import type { Config } from './config.js';

/**
 * The real Cloud Deploy client; pointed at an insecure local gRPC server (gcp-sim)
 * when CLOUD_DEPLOY_ENDPOINT is set. The insecure credentials must come from the
 * same @grpc/grpc-js copy the client's google-gax uses, so we take them from there.
 */
export function createDeployClient(config: Pick<Config, 'projectId' | 'cloudDeployEndpoint'>): CloudDeployClient {
  if (!config.cloudDeployEndpoint) return new CloudDeployClient({ projectId: config.projectId });
  const [host, port] = splitHostPort(config.cloudDeployEndpoint);
  const deployRequire = createRequire(require.resolve('@google-cloud/deploy'));
  const gax = deployRequire('google-gax') as { grpc: { credentials: { createInsecure(): unknown } } };
  return new CloudDeployClient({
    apiEndpoint: host,
    port,
    sslCreds: gax.grpc.credentials.createInsecure() as never,
    projectId: config.projectId,
  });
}

export function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i), Number(hostPort.slice(i + 1))];
}
