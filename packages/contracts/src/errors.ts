/**
 * The error decides ack or nack. Classify with `errorKind(err)` (it reads the
 * `kind` field, so it works across package copies), never with bare instanceof.
 */
export const ErrorKinds = { permanent: 'permanent', transient: 'transient' } as const;
export type ErrorKind = (typeof ErrorKinds)[keyof typeof ErrorKinds];

/** Input that will never succeed, however often it is retried: ack and dead-letter with the reason. */
export class PermanentError extends Error {
  readonly kind: ErrorKind = ErrorKinds.permanent;
  override name = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A failure that may pass on retry (a dependency down, contention): nack and retry with backoff. */
export class TransientError extends Error {
  readonly kind: ErrorKind = ErrorKinds.transient;
  override name = 'TransientError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A message that is not a valid Burnback event (bad attributes, bad JSON, schema violation). */
export class InvalidEventError extends PermanentError {
  override name = 'InvalidEventError';
}

/** How an error should be handled; anything unclassified is treated as transient (retry, never lose). */
export function errorKind(err: unknown): ErrorKind {
  if (typeof err === 'object' && err !== null && 'kind' in err) {
    const kind = err.kind;
    if (kind === ErrorKinds.permanent || kind === ErrorKinds.transient) return kind;
  }
  return ErrorKinds.transient;
}
