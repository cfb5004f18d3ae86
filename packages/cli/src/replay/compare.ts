/**
 * What "differs" means to replay: structural equality of JSON values and the
 * paths at which two differ. A replay is byte-identical when these say so, so
 * they are held by the mutation gate like the engine they judge. Pure.
 */
import type { DecisionRecord } from '@burnback/contracts';

type Decision = DecisionRecord;

/**
 * Structural equality of JSON values (key order ignored; `undefined` members are
 * absent, as in stored JSON). Faster than comparing canonical JSON text, which
 * dominated replay's cost.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let count = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    count++;
    if (!sameJson(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) count--;
  return count === 0;
}

/**
 * Where two JSON values differ, as paths (`target.serving.since`, `state.recentRollbacks.0`):
 * the first place down each branch, in key order; `undefined` members count as absent.
 */
export function jsonDifferences(a: unknown, b: unknown, path = ''): string[] {
  const bothObjects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object';
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) return sameJson(a, b) ? [] : [path || '(the whole value)'];
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort((x, y) =>
    Array.isArray(a) ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0,
  );
  return keys.flatMap((k) => jsonDifferences(ao[k], bo[k], path ? `${path}.${k}` : k));
}

/** How many differing paths of what a decision read are named before the rest are counted. */
const READ_PATHS_SHOWN = 3;

/**
 * When the decider last re-read the target's Cloud Deploy history, not what it
 * read: through the pipeline, the re-read a Cloud Deploy notification starts
 * races the next alert, so the same timeline may carry another read time. What
 * the decision depends on (the timeline, what serves, the latest rollout, the
 * burns and quarantines) is still compared.
 */
export const READ_TIMES: ReadonlySet<string> = new Set(['target.historyReadAt', 'target.updatedAt']);

/**
 * What must match for a decision to be "the same": its action, every rule's
 * outcome, the release it blamed, its rollback, and what it read (its evidence:
 * the alert, the policy, and the service, incident and target documents, field
 * by field, but for the target's READ_TIMES). A decision that came out the same
 * from a different world is not a reproduction: the paths that differ are named.
 */
export function decisionDifferences(recorded: Decision, replayed: Decision): string[] {
  const differences: string[] = [];
  if (recorded.action !== replayed.action) differences.push('action');
  const outcomes = (d: Decision) => d.verdicts.map((v) => [v.rule, v.passed]);
  if (!sameJson(outcomes(recorded), outcomes(replayed))) differences.push('verdicts');
  const [was, is] = [recorded.cause?.releaseId ?? 'none', replayed.cause?.releaseId ?? 'none'];
  if (was !== is) differences.push(`cause (${was} recorded, ${is} now)`);
  if (recorded.rollbackId !== replayed.rollbackId) differences.push('rollback');
  const read = jsonDifferences(recorded.evidence, replayed.evidence).filter((path) => !READ_TIMES.has(path));
  if (read.length > 0) {
    const more = read.length > READ_PATHS_SHOWN ? ` and ${read.length - READ_PATHS_SHOWN} more` : '';
    differences.push(`what it read (${read.slice(0, READ_PATHS_SHOWN).join(', ')}${more})`);
  }
  return differences;
}
