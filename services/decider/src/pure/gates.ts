/**
 * What the decider reads before a decision, and what a rollback's end releases:
 * the gates that decide whether Cloud Monitoring and the fleet breaker are
 * consulted at all. Pure: no I/O, no clock.
 */
import { isFinalStage, type AlertEvent, type RollbackProgress } from '@burnback/contracts';
import type { ServiceConfig } from '@burnback/platform';
import { measuredValue, thresholdFor } from '@burnback/policy';

/** An open alert whose value is over its bar: the only kind that could roll back, so the only one worth a read before deciding. */
export function openOverItsBar(alert: AlertEvent, service: Pick<ServiceConfig, 'policy'>): boolean {
  if (alert.state !== 'open') return false;
  const bar = thresholdFor(alert, service.policy);
  const measured = measuredValue(alert);
  return bar !== null && measured !== null && measured > bar.value;
}

/**
 * Whether a decision may take a place under the fleet breaker, so its
 * transaction must read (and may write) `fleet/breaker`: a manual request, or
 * an open alert over its bar. Every other decision never touches it, so a
 * storm of them never serialises on one document.
 */
export function mayTouchBreaker(alert: AlertEvent, service: Pick<ServiceConfig, 'policy'>): boolean {
  return Boolean(alert.manual) || openOverItsBar(alert, service);
}

/** Whether a progress event takes a rollback out of the breaker's in-flight count: a real (not validate-only) rollback's end. */
export function releasesBreaker(progress: Pick<RollbackProgress, 'validateOnly' | 'stage'>): boolean {
  return !progress.validateOnly && isFinalStage(progress.stage);
}
