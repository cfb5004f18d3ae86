import { dirname, join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';

export const CLOUD_DEPLOY_SERVICE = 'google.cloud.deploy.v1.CloudDeploy';

/**
 * Where the Cloud Deploy protos live: @google-cloud/deploy ships only
 * google/cloud/deploy/v1, and the google/api, longrunning, rpc and type protos
 * it imports come from the google-gax that @google-cloud/deploy depends on
 * (resolved from the deploy package, so a second gax copy cannot be picked up).
 */
export function deployProtoIncludeDirs(): string[] {
  const deployPackage = require.resolve('@google-cloud/deploy/package.json');
  const gaxPackage = require.resolve('google-gax/package.json', { paths: [dirname(deployPackage)] });
  return [join(dirname(deployPackage), 'build', 'protos'), join(dirname(gaxPackage), 'build', 'protos')];
}

/** The options that give the JSON shape the state is kept in (see deploy-resources.ts). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cloudDeploy: ServiceDefinition | undefined;

/** The CloudDeploy service definition, loaded once (parsing the protos takes a few hundred ms). */
export function cloudDeployServiceDefinition(): ServiceDefinition {
  if (!cloudDeploy) {
    const definition = protoLoader.loadSync('google/cloud/deploy/v1/cloud_deploy.proto', {
      ...PROTO_LOADER_OPTIONS,
      includeDirs: deployProtoIncludeDirs(),
    });
    const service = definition[CLOUD_DEPLOY_SERVICE];
    if (!service || !('RollbackTarget' in service)) throw new Error(`${CLOUD_DEPLOY_SERVICE} not found in the bundled protos`);
    cloudDeploy = service;
  }
  return cloudDeploy;
}
