export { PermanentError, TransientError, InvalidEventError, errorKind, ErrorKinds, type ErrorKind } from '@burnback/contracts';

/** Thrown by loadConfig; `key` names the environment variable or config path that is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`${key}: ${problem}`);
  }
}
