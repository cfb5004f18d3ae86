/** What an alert measures, in the policy's terms: its value, the error ratio it stands for, and the bar it must clear. Pure. */
import { SignalKinds, type AlertEvent, type PolicySettings } from '@burnback/contracts';
import { burnPolicyOf } from './confidence.js';

export const pct = (x: number): string => `${+(x * 100).toFixed(3)} %`;

/**
 * The alert's value in its signal's own measure: ingest's signalValue (an error
 * ratio with the comparison's direction applied, or a burn rate), else the
 * observed value for events from an ingest that did not classify yet.
 */
export function measuredValue(event: AlertEvent): number | null {
  return event.signalValue ?? event.observedValue;
}

/** The error ratio an alert's value stands for, or null when the alert carries none (or measures no error ratio). */
export function errorRatioOf(event: AlertEvent, policy: PolicySettings): number | null {
  const value = measuredValue(event);
  if (value === null) return null;
  switch (event.signal) {
    case SignalKinds.errorRatio:
      return value;
    case SignalKinds.burnRate:
      return value * (1 - policy.sloGoal);
    case SignalKinds.budget:
    case SignalKinds.unsupported:
      return null;
    default: {
      const never: never = event.signal;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown signal ${String(never)}`);
    }
  }
}

/**
 * The bar an alert's value must clear. An error ratio is held to the error-ratio
 * threshold (runbook: 1 % over 1 h). A burn rate is held to the threshold of the
 * policy it comes from (ingest's burnPolicy: fast 14.4×, slow 6×); without one,
 * to the fast threshold for windows up to 1 h and the slow one otherwise.
 * Budget and unsupported signals have no bar: they never roll back.
 */
export function thresholdFor(event: AlertEvent, policy: PolicySettings): { value: number; text: string } | null {
  const fast = { value: policy.fastBurnRate, text: `the fast-burn threshold of ${policy.fastBurnRate}×` };
  const slow = { value: policy.slowBurnRate, text: `the slow-burn threshold of ${policy.slowBurnRate}×` };
  switch (event.signal) {
    case SignalKinds.errorRatio:
      return { value: policy.errorRatioThreshold, text: `the threshold of ${pct(policy.errorRatioThreshold)}` };
    case SignalKinds.burnRate:
      return burnPolicyOf(event) === 'fast' ? fast : slow;
    case SignalKinds.budget:
    case SignalKinds.unsupported:
      return null;
    default: {
      const never: never = event.signal;
      // Stryker disable next-line StringLiteral: unreachable; the compiler proves the switch exhaustive
      throw new Error(`unknown signal ${String(never)}`);
    }
  }
}

export function describeSignal(event: AlertEvent, ratio: number): string {
  if (event.signal !== SignalKinds.burnRate) return `error ratio ${pct(ratio)}`;
  const window =
    event.lookbackSeconds === null
      ? ''
      : ` over ${event.lookbackSeconds >= 3600 ? `${event.lookbackSeconds / 3600} h` : `${event.lookbackSeconds / 60} min`}`;
  return `burn rate ${measuredValue(event)}×${window} (error ratio ${pct(ratio)})`;
}

/** Why a budget or unsupported signal is never a rollback, for the decision's trace. */
export function notABurn(event: AlertEvent): string {
  return event.signal === SignalKinds.budget
    ? `the alert is an SLO budget signal (${event.sloSelector ?? 'budget'}), cumulative over the compliance period, not a current burn: it never rolls back on its own`
    : `the alert measures something Burnback does not act on: ${event.unsupportedReason ?? 'unsupported signal'}`;
}
