/**
 * The cursor of `GET /rollback/recent`: the (decidedAt, decisionId) of the last
 * decision a page held, so the next page starts right after it even when many
 * decisions share one `decidedAt` (an alert storm's batch). Opaque to callers
 * (base64url of a JSON pair), checked when it comes back. Pure.
 */

export interface PageCursor {
  decidedAt: string;
  decisionId: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const DECISION_ID = /^[A-Za-z0-9._:-]{1,200}$/;

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.decidedAt, cursor.decisionId])).toString('base64url');
}

/**
 * The cursor a token carries, or the reason it is not one this route gave.
 * (Its length needs no cap of its own: it comes in a URL, which Node caps at 16 KiB.)
 */
export function decodePageToken(token: string): PageCursor | { problem: string } {
  const problem = { problem: 'pageToken is not one this route gave' };
  // Node's base64url decoder skips characters outside the alphabet: refuse them first.
  if (!BASE64URL.test(token)) return problem;
  let pair: unknown = null;
  try {
    pair = JSON.parse(Buffer.from(token, 'base64url').toString());
  } catch {
    // Not JSON: refused below, as every other shape that is not a pair.
  }
  if (!Array.isArray(pair) || pair.length !== 2) return problem;
  const [decidedAt, decisionId] = pair as unknown[];
  // A time as toISOString writes it, and nothing else (the form decisions store, so the cursor compares as stored).
  if (typeof decidedAt !== 'string') return problem;
  const ms = Date.parse(decidedAt);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== decidedAt) return problem;
  if (typeof decisionId !== 'string' || !DECISION_ID.test(decisionId)) return problem;
  return { decidedAt, decisionId };
}
