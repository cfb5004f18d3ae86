import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';

export const CLOUD_DEPLOY_SERVICE = 'google.cloud.deploy.v1.CloudDeploy';
/** The LRO service the clients poll (`op.promise()` calls GetOperation on the same endpoint). */
export const OPERATIONS_SERVICE = 'google.longrunning.Operations';

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

/** The options that give the JSON shape the state is kept in (see cloud-deploy/resources.ts). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const DEPLOY_PROTO = 'google/cloud/deploy/v1/cloud_deploy.proto';

let definitions: protoLoader.PackageDefinition | undefined;

function serviceDefinition(name: string): ServiceDefinition {
  // cloud_deploy.proto imports google/longrunning/operations.proto, so one load has both services.
  definitions ??= protoLoader.loadSync(DEPLOY_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: deployProtoIncludeDirs() });
  const service = definitions[name];
  if (!service || typeof service !== 'object' || 'format' in service) throw new Error(`${name} not found in the bundled protos`);
  return service;
}

/** The CloudDeploy service definition, loaded once (parsing the protos takes a few hundred ms). */
export function cloudDeployServiceDefinition(): ServiceDefinition {
  return serviceDefinition(CLOUD_DEPLOY_SERVICE);
}

export function operationsServiceDefinition(): ServiceDefinition {
  return serviceDefinition(OPERATIONS_SERVICE);
}

let root: protobuf.Root | undefined;

/** protobufjs types of the same protos, for packing messages into google.protobuf.Any. */
function protoRoot(): protobuf.Root {
  if (!root) {
    const includeDirs = deployProtoIncludeDirs();
    const loaded = new protobuf.Root();
    loaded.resolvePath = (_origin, target) => includeDirs.map((dir) => join(dir, target)).find((p) => existsSync(p)) ?? target;
    loaded.loadSync(DEPLOY_PROTO);
    loaded.resolveAll();
    root = loaded;
  }
  return root;
}

/** `value` (proto-loader JSON: enums as names, int64 as strings) as a google.protobuf.Any of `typeName`. */
export function packAny(typeName: string, value: object): { typeUrl: string; value: Uint8Array } {
  const type = protoRoot().lookupType(typeName);
  return { typeUrl: `type.googleapis.com/${typeName}`, value: type.encode(type.fromObject(value)).finish() };
}
