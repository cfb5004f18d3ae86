import type { PlannedDelivery } from './pure/deliveries.js';

/** One destination's answer to one request: its HTTP status (null: none came), the start of its body, or why none came. */
export interface Answer {
  status: number | null;
  answer: string | null;
  error: string | null;
}

export type Sender = (planned: PlannedDelivery, signal: AbortSignal) => Promise<Answer>;

/** How long one request may take before it counts as no answer. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** How much of an answer is read: a destination that answers megabytes costs no memory. */
const ANSWER_READ_BYTES = 8 * 1024;

async function startOf(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  // Node's web streams are async iterable; leaving the loop early cancels the rest of the body.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk));
    size += chunk.byteLength;
    if (size >= maxBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/**
 * POSTs a planned delivery with Node's fetch. The error never holds the URL: a chat
 * webhook's URL is its secret. Redirects are not followed (a 3xx is an answer).
 */
export const httpSender: Sender = async (planned, signal) => {
  try {
    const response = await fetch(planned.url, {
      method: 'POST',
      headers: { 'User-Agent': 'Burnback-notifier', ...planned.headers },
      body: planned.body,
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
    // The start of the answer (the handler keeps a cleaned, cut copy: pure/retries.ts cleanAnswer); never all of a huge one.
    const text = await startOf(response, ANSWER_READ_BYTES).catch(() => '');
    return { status: response.status, answer: text || null, error: null };
  } catch (err) {
    // No answer, whatever the reason (refused, reset, timed out, aborted): the handler decides whether to try again.
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : e.name === 'AbortError'
          ? 'the request was cut off'
          : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : e.cause?.message ? ` (${e.cause.message})` : ''}`;
    // undici's messages name host and port at most, never the path or query where webhook secrets live.
    return { status: null, answer: null, error: why.replace(/https?:\/\/\S+/g, '<url>') };
  }
};
