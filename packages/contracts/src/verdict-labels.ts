/**
 * How a rule's verdict reads for a person (the terminal, the console, chat): by
 * what was found, not by the rule's name. `✓ paused` would read as if the service were paused, when the check
 * passed because it was not; so a passed check reads `✓ not paused`, a failed
 * one `✗ paused`.
 */
import { RuleNames, type RuleName } from './documents.js';

/** What a verdict found, when it passed and when it did not. */
export interface VerdictLabel {
  passed: string;
  failed: string;
}

/** Every rule's labels; a Record, so a new rule does not compile until it is named here. */
export const VERDICT_LABELS: Record<RuleName, VerdictLabel> = {
  [RuleNames.eventTime]: { passed: 'event time read', failed: 'event time unreadable' },
  [RuleNames.enabled]: { passed: 'enabled', failed: 'disabled' },
  [RuleNames.incidentOpen]: { passed: 'incident open', failed: 'incident closed' },
  [RuleNames.errorRatio]: { passed: 'error ratio over its bar', failed: 'error ratio not over its bar' },
  [RuleNames.oneRollbackPerIncident]: { passed: 'no earlier rollback of the incident', failed: 'incident had its one rollback' },
  [RuleNames.returnedRelease]: { passed: 'not a returned release', failed: 'returned release' },
  [RuleNames.burningNow]: { passed: 'not recovered', failed: 'burn not confirmed now' },
  [RuleNames.confidence]: { passed: 'confident', failed: 'not confident' },
  [RuleNames.rateLimit]: { passed: 'under rate limit', failed: 'rate limit reached' },
  [RuleNames.cooldown]: { passed: 'no cooldown', failed: 'in cooldown' },
  [RuleNames.dryRun]: { passed: 'not dry run', failed: 'dry run' },
  [RuleNames.manualRequest]: { passed: 'manual request', failed: 'manual request refused' },
  [RuleNames.acknowledged]: { passed: 'not acknowledged', failed: 'acknowledged' },
  [RuleNames.paused]: { passed: 'not paused', failed: 'paused' },
  [RuleNames.freeze]: { passed: 'no freeze', failed: 'frozen' },
  [RuleNames.fleetBreaker]: { passed: 'fleet breaker not tripped', failed: 'fleet breaker tripped' },
  [RuleNames.mode]: { passed: 'mode acts', failed: 'mode does not act' },
  [RuleNames.approval]: { passed: 'approved in time', failed: 'approval spent or late' },
  [RuleNames.servingUnchanged]: { passed: 'serving unchanged', failed: 'serving changed' },
  [RuleNames.lane]: { passed: 'bulk lane', failed: 'not bulk lane' },
};

/** The policy's prefix of a refusal that a forced request passed over (see packages/policy limits.ts). */
const FORCED = 'bypassed by force';

/**
 * What a verdict found, in words: `not paused`, `in cooldown`; a refusal a
 * forced request passed over reads `paused (forced)`. A rule this version does
 * not know (an older or newer record) reads as its name.
 */
export function verdictFinding(v: { rule?: string; passed?: boolean; detail?: string }): string {
  const labels = v.rule !== undefined && Object.hasOwn(VERDICT_LABELS, v.rule) ? VERDICT_LABELS[v.rule as RuleName] : null;
  if (!v.passed) return labels?.failed ?? v.rule ?? '?';
  if (labels && v.detail?.startsWith(FORCED)) return `${labels.failed} (forced)`;
  return labels?.passed ?? v.rule ?? '?';
}

/** One verdict for the terminal: `✓ not paused`, `✗ in cooldown`, `✓ paused (forced)`. */
export function verdictLabel(v: { rule?: string; passed?: boolean; detail?: string }): string {
  return `${v.passed ? '✓' : '✗'} ${verdictFinding(v)}`;
}
