import pRetry, { AbortError, type Options } from 'p-retry';
import { errorKind, ErrorKinds } from '@burnback/contracts';

/**
 * gRPC codes worth retrying: the call may pass next time. Includes CANCELLED and
 * UNKNOWN (a dropped connection surfaces as either): every call we retry is safe
 * to repeat (reads, and RollbackTarget with a caller-chosen rollout id).
 */
const RETRYABLE_GRPC = new Set([
  1 /* CANCELLED */, 2 /* UNKNOWN */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 13 /* INTERNAL */,
  14 /* UNAVAILABLE */,
]);

export function isRetryableGrpcError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' && RETRYABLE_GRPC.has(code);
}

/**
 * Retries `fn` with exponential backoff while errors are transient; a permanent
 * error (or a non-retryable gRPC code when `grpc` is set) stops at once.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: Options & { grpc?: boolean } = {}): Promise<T> {
  const { grpc, ...rest } = options;
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (err) {
        const stop = grpc ? !isRetryableGrpcError(err) : errorKind(err) === ErrorKinds.permanent;
        if (stop) throw new AbortError(err as Error);
        throw err;
      }
    },
    { retries: 4, minTimeout: 200, maxTimeout: 5_000, factor: 2, randomize: true, ...rest },
  );
}
