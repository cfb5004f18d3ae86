import type { Metrics } from '@burnback/platform';

/** How many attempts the decider's transactions of one kind made (`burnback_transaction_attempts_total`), all labels summed. */
export async function transactionAttempts(metrics: Metrics, transaction: 'decision' | 'progress' | 'target'): Promise<number> {
  return (await metrics.registry.getSingleMetricAsString('burnback_transaction_attempts_total'))
    .split('\n')
    .filter((l) => l.includes(`transaction="${transaction}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
