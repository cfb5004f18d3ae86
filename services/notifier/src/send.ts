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
const ANSWER_MAX = 500;

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
    const text = await response.text().catch(() => '');
    return { status: response.status, answer: text.slice(0, ANSWER_MAX) || null, error: null };
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : e.cause?.message ? ` (${e.cause.message})` : ''}`;
    // undici's messages name host and port at most, never the path or query where webhook secrets live.
    return { status: null, answer: null, error: why.replace(/https?:\/\/\S+/g, '<url>') };
  }
};
