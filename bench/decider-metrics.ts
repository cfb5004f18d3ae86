/**
 * What the benchmarks read from the decider's and ingest's /metrics while the pipeline runs: the decider's
 * transactions' attempts, where its messages waited (Pub/Sub or its own queue), how late each one's event loop ran,
 * and what Pub/Sub handed ingest again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalStack } from '@burnback/cli';

/** The /metrics URL of the decider or ingest in a local stack. */
const metricsUrl = (stack: LocalStack, service: 'ingest' | 'decider'): string =>
  `${stack.endpoints[service === 'ingest' ? 'ingest (HTTP front door)' : 'decider (health, metrics)']}/metrics`;

/** The sum of a metric's samples in a /metrics text, over the lines that carry `label` when given. */
const metricSum = (text: string, name: string, label?: string): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name) && (label === undefined || l.includes(label)))
    .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

/** The decider's decisions and its decision transactions' attempts, from its /metrics (a retry is contention). */
export async function deciderContention(stack: LocalStack): Promise<string> {
  const text = await (await fetch(metricsUrl(stack, 'decider'))).text();
  const attempts = metricSum(text, 'burnback_transaction_attempts_total', 'transaction="decision"');
  const progress = metricSum(text, 'burnback_transaction_attempts_total', 'transaction="progress"');
  return `decision transaction attempts: ${attempts} (the fast lane's, and the bulk lane's duplicates and conflicts); progress transaction attempts ${progress}`;
}

/**
 * Where the decider's messages waited (burnback_message_wait_seconds from its /metrics): per subscription and
 * stage, the bucket bounds that hold the median and every message (Pub/Sub's delivery, then the worker's queue).
 */
export async function deciderWaits(stack: LocalStack, subscriptions: readonly string[]): Promise<string> {
  const text = await (await fetch(metricsUrl(stack, 'decider'))).text();
  const parts: string[] = [];
  for (const subscription of subscriptions)
    for (const stage of ['delivery', 'queue']) {
      const buckets = text
        .split('\n')
        .filter(
          (l) =>
            l.startsWith('burnback_message_wait_seconds_bucket{') &&
            l.includes(`subscription="${subscription}"`) &&
            l.includes(`stage="${stage}"`),
        )
        .map((l) => ({ le: /le="([^"]+)"/.exec(l)![1]!, n: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
      const total = buckets.find((b) => b.le === '+Inf')?.n ?? 0;
      if (total === 0) continue;
      const bound = (share: number) => buckets.find((b) => b.n >= total * share)?.le ?? '?';
      parts.push(`${subscription} ${stage}: median ≤ ${bound(0.5)} s, all ≤ ${bound(1)} s`);
    }
  return `where the decider's messages waited (${parts.length > 0 ? parts.join('; ') : 'no messages'})`;
}

/**
 * How late a service's event loop ran during a storm: its /metrics scraped every second (prom-client's
 * nodejs_eventloop_lag_max_seconds, the longest delay since the last scrape). A loop busy with the bulk lane
 * delays every fast-lane message it receives, and every ack and lease extension it sends; a quiet one says the
 * wait is elsewhere (Pub/Sub's delivery).
 */
export function sampleEventLoopLag(stack: LocalStack, service: 'ingest' | 'decider' = 'decider'): { stop: () => Promise<string> } {
  const url = metricsUrl(stack, service);
  const maxima: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const text = await (await fetch(url)).text();
        // The process metrics carry the registry's default labels ({component="decider"}).
        const line = text.split('\n').find((l) => /^nodejs_eventloop_lag_max_seconds(\{[^}]*\})? /.test(l));
        if (line) maxima.push(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000);
      } catch {
        /* the service answers between its turns; a missed second is left out */
      }
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      if (maxima.length === 0) return `${service} event-loop lag: not read`;
      const sorted = [...maxima].sort((a, b) => a - b);
      const over = (ms: number) => maxima.filter((m) => m > ms).length;
      return `${service} event-loop lag, the longest each second over ${maxima.length} s: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms; seconds with a delay over 100 ms ${over(100)}, over 1 s ${over(1000)}`;
    },
  };
}

/**
 * How many messages ingest settled (acked, dead-lettered or nacked) on its subscription, against how many were
 * published: the difference is what Pub/Sub handed it again (a lease that lapsed, an ack that came too late).
 */
export async function ingestHandledAgain(stack: LocalStack, published: number): Promise<string> {
  const text = await (await fetch(metricsUrl(stack, 'ingest'))).text();
  const settled = metricSum(text, 'burnback_messages_total{', 'subscription="burnback-ingest"');
  return `ingest settled ${settled.toLocaleString('en')} messages for ${published.toLocaleString('en')} notifications published: ${Math.max(0, settled - published).toLocaleString('en')} handed to it again`;
}
