/** How a failed Firestore transaction of the decider is answered: ack (permanent) or retry (transient). */
import { errorKind, ErrorKinds, PermanentError, TransientError } from '@burnback/contracts';

/**
 * gRPC codes Firestore answers for a request that is wrong in itself (an invalid
 * document path or field, a document over 1 MiB, a value out of range): the same
 * request gets the same answer on every retry.
 */
const NEVER_SUCCEED_CODES = new Map<number, string>([
  [3, 'INVALID_ARGUMENT'],
  [11, 'OUT_OF_RANGE'],
]);

/**
 * What the Firestore client itself throws, before any request, for a path or a
 * field it will never accept (`incidents/x/y` points at a collection, `..` or
 * `__x__` is reserved, an empty or `//` path). These errors carry no gRPC code.
 */
const CLIENT_VALIDATION =
  /(^Value for argument "\w+" )|(is not a valid (resource path|field path))|(must point to a (document|collection))|(^Resource name '.*' is not valid)|(^Paths? must not)/;

/**
 * INVALID_ARGUMENT about the transaction rather than the request: the server closed or expired it (the emulator
 * under contention says "Transaction is invalid or closed", Firestore "The referenced transaction has expired or
 * is no longer valid"). A new transaction is a new request: a retry succeeds.
 */
const CLOSED_TRANSACTION = /(transaction is invalid or closed)|(transaction has expired or is no longer valid)/i;

/** Why a store error will never succeed on retry, or null when a retry may help. */
export function neverSucceeds(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'number') {
    if (typeof message === 'string' && CLOSED_TRANSACTION.test(message)) return null;
    const name = NEVER_SUCCEED_CODES.get(code);
    return name ? `Firestore refused it (gRPC ${code} ${name})` : null;
  }
  if (typeof message === 'string' && CLIENT_VALIDATION.test(message)) return 'the Firestore client refused the path';
  return null;
}

/**
 * Maps a failed transaction to ack or retry. A stored document that no longer
 * fits, or a request Firestore refuses as invalid, will fail the same way on
 * every retry: it is permanent (dead-lettered with the reason), so one message
 * never holds its service's ordered key nor stops the worker.
 */
export function classifyStoreError(err: unknown, what: string): Error {
  if (errorKind(err) === ErrorKinds.permanent) return err as Error;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === 'ZodError')
    return new PermanentError(`a stored document is invalid: ${message}`, { cause: err });
  const never = neverSucceeds(err);
  if (never) return new PermanentError(`${what} can never succeed: ${never}: ${message}`, { cause: err });
  return new TransientError(`${what} failed: ${message}`, { cause: err });
}
