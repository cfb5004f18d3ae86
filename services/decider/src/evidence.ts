/** What a decision reads before its transaction: Cloud Monitoring's burn rates (to confirm a burn) and the fleet (for the circuit breaker). */
import type { AlertEvent, FleetView, MonitoringCheck } from '@burnback/contracts';
import type { Logger, MonitoringPort, ServiceConfig } from '@burnback/platform';
import { confirmationWindows } from '@burnback/policy';
import { mayTouchBreaker, openOverItsBar } from './pure/gates.js';
import type { DecisionStore } from './store.js';

export { openOverItsBar } from './pure/gates.js';

/**
 * Asks Cloud Monitoring whether the service still burns, on the alert policy's
 * two windows, before a decision that could roll back: only for a service that
 * names its SLO, and only for an open alert over its bar (nothing else can roll
 * back, so nothing else is worth the call). The answer, or why there is none,
 * is an input of the pure decision and is recorded with it.
 */
export async function checkMonitoring(
  service: ServiceConfig,
  alert: AlertEvent,
  monitoring: MonitoringPort | null | undefined,
  now: () => Date,
): Promise<MonitoringCheck | null> {
  if (service.slo === null) return null;
  const windows = confirmationWindows(alert, service.policy);
  if (windows === null || !openOverItsBar(alert, service)) return null;
  const base = { slo: service.slo, ...windows };
  const unavailable = (error: string): MonitoringCheck => ({
    status: 'unavailable',
    ...base,
    error,
    onUnavailable: service.onMonitoringUnavailable,
  });
  if (!monitoring) return unavailable('no Cloud Monitoring client is configured');
  try {
    const [long, short] = await Promise.all([
      monitoring.readBurnRate(service.slo, windows.longWindowSeconds),
      monitoring.readBurnRate(service.slo, windows.shortWindowSeconds),
    ]);
    if (long === null || short === null)
      return unavailable(
        `no current burn-rate point for the ${long === null ? windows.longWindowSeconds : windows.shortWindowSeconds} s window`,
      );
    return { status: 'read', ...base, long: long.value, short: short.value, readAt: now().toISOString() };
  } catch (err) {
    return unavailable((err as Error).message);
  }
}

/**
 * Reads the fleet for the circuit breaker, only for an alert that could roll
 * back (a manual request, or an open alert over its bar): nothing else needs it.
 * A read that fails leaves the breaker unable to trip, and the decision says so;
 * it never blocks a decision (the breaker is a guard against storms, not a gate).
 */
export async function readFleetFor(
  store: DecisionStore,
  service: ServiceConfig,
  alert: AlertEvent,
  now: () => Date,
  logger: Logger,
): Promise<FleetView | null> {
  if (!mayTouchBreaker(alert, service)) return null;
  try {
    return await store.readFleet(now(), service.policy.breakerWindowMinutes);
  } catch (err) {
    logger.warn('the fleet could not be read for the circuit breaker', { event: 'fleet_unreadable', error: err });
    return null;
  }
}
