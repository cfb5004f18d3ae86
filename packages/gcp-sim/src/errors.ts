/**
 * Google's canonical error codes (google.rpc.Code), name → gRPC wire value.
 * The state layer throws by name; only the gRPC adapter needs the numbers.
 */
export const ApiErrorCodes = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type ApiErrorCode = keyof typeof ApiErrorCodes;

/** The name of a gRPC status number, or undefined when it is not an error code (0 = OK, or out of range). */
export function apiErrorCodeOf(code: number): ApiErrorCode | undefined {
  return (Object.keys(ApiErrorCodes) as ApiErrorCode[]).find((name) => ApiErrorCodes[name] === code);
}

/** An error the simulated API answers with, as Cloud Deploy would (code + message). */
export class DeployApiError extends Error {
  override name = 'DeployApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const invalidArgument = (message: string): DeployApiError => new DeployApiError('INVALID_ARGUMENT', message);
export const notFound = (message: string): DeployApiError => new DeployApiError('NOT_FOUND', message);
export const alreadyExists = (message: string): DeployApiError => new DeployApiError('ALREADY_EXISTS', message);
export const failedPrecondition = (message: string): DeployApiError => new DeployApiError('FAILED_PRECONDITION', message);

/** Thrown by `loadConfig` for a bad environment variable; names the key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
  }
}

/** Thrown for a scenario file (or a BURNBACK_CONFIG read for its services) that gcp-sim cannot use; `at` names the file and the bad key. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(
    readonly at: string,
    message: string,
  ) {
    super(`${at}: ${message}`);
  }
}
