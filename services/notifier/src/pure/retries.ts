/**
 * How long to wait before a delivery's next attempt, and what of a destination's
 * answer may be kept. Pure.
 */
import type { NotifyDestination } from '@burnback/contracts';

/** The wait after the `attempts`-th failed attempt: `minMs`, doubling, at most `maxMs`. */
export function backoffMs(attempts: number, backoff: { minMs: number; maxMs: number }): number {
  return Math.min(backoff.maxMs, backoff.minMs * 2 ** Math.max(0, attempts - 1));
}

/** At most this many characters of an answer are kept (in the record, the logs and a dead letter). */
export const ANSWER_MAX = 500;
export const REDACTED = '[redacted]';

/**
 * A destination's answer as Burnback keeps it: without the destination's secrets
 * (a webhook that echoes its URL, its path or query, the routing key, the signing
 * key), cut at ANSWER_MAX characters without splitting one, and well formed
 * (Firestore refuses a lone surrogate). Null stays null; an empty answer is null.
 */
export function cleanAnswer(answer: string | null, destination: Pick<NotifyDestination, 'url' | 'routingKey' | 'secret'>): string | null {
  if (answer === null || answer === '') return null;
  const secrets = [destination.url, destination.routingKey, destination.secret];
  try {
    // A bare host's path ("/") and an empty query are too short to count as secrets (below).
    const url = new URL(destination.url);
    secrets.push(url.pathname, decodeURIComponent(url.pathname), url.search.slice(1));
  } catch {
    // Not a URL: the config reader refuses those; keep what is listed.
  }
  let clean = answer;
  // The longest first: a secret inside another (a signing key in the URL's path) must not leave the rest of it behind.
  for (const secret of secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4).sort((a, b) => b.length - a.length))
    clean = clean.split(secret).join(REDACTED);
  const cut = Array.from(clean).slice(0, ANSWER_MAX).join('');
  return cut.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
