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

/** The longest token accepted: a timestamp and a decision id (64 hex characters) fit in far less. */
export const MAX_PAGE_TOKEN_LENGTH = 512;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DECISION_ID = /^[A-Za-z0-9._:-]{1,200}$/;

export function encodePageToken(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.decidedAt, cursor.decisionId]), 'utf8').toString('base64url');
}

/** The cursor a token carries, or the reason it is not one this route gave. */
export function decodePageToken(token: string): PageCursor | { problem: string } {
  const problem = { problem: 'pageToken is not one this route gave' };
  if (token.length === 0 || token.length > MAX_PAGE_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) return problem;
  let pair: unknown;
  try {
    pair = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return problem;
  }
  if (!Array.isArray(pair) || pair.length !== 2) return problem;
  const [decidedAt, decisionId] = pair as unknown[];
  if (typeof decidedAt !== 'string' || !ISO_INSTANT.test(decidedAt) || Number.isNaN(Date.parse(decidedAt))) return problem;
  if (typeof decisionId !== 'string' || !DECISION_ID.test(decisionId)) return problem;
  return { decidedAt, decisionId };
}
