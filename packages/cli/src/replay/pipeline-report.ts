/** What `burnback replay --through-pipeline` found (pipeline.ts), and how it is shown. */
import type { DecisionRecord, RollbackRecord } from '@burnback/contracts';
import { decisionDifferences } from './compare.js';

type Decision = DecisionRecord;

export interface PipelineDecisionResult {
  recorded: Decision;
  replayed: Decision | null;
  differences: string[];
}

export interface PipelineRollbackResult {
  recorded: RollbackRecord;
  replayed: RollbackRecord | null;
  differences: string[];
}

export interface ThroughPipelineResult {
  project: string;
  decisions: PipelineDecisionResult[];
  rollbacks: PipelineRollbackResult[];
  /** Decisions and rollbacks the pipeline made that the recording does not have. */
  extra: { decisions: Decision[]; rollbacks: RollbackRecord[] };
  /** Recorded effects (progress, Cloud Deploy notifications) the pipeline did not produce in time. */
  missing: string[];
  /** What this replay could not restore, said once each (e.g. a policy that changed during the recording). */
  notes: string[];
}

/** A rollback is "the same" when it ended the same way, returning the target to the same release. */
export function rollbackDifferences(recorded: RollbackRecord, replayed: RollbackRecord): string[] {
  const differences: string[] = [];
  if (recorded.status !== replayed.status) differences.push('status');
  if (recorded.releaseId !== replayed.releaseId) differences.push('release');
  if ((recorded.leaving?.releaseId ?? null) !== (replayed.leaving?.releaseId ?? null)) differences.push('leaving');
  return differences;
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/** The through-pipeline timeline: each recorded decision and rollback as the pipeline reproduced it, differences marked. */
export function formatThroughPipeline(result: ThroughPipelineResult): string {
  const out: string[] = [];
  for (const { recorded, replayed, differences } of result.decisions) {
    const shown = replayed ?? recorded;
    out.push(
      `${recorded.decidedAt}  ${pad(recorded.service, 14)} ${pad(shown.action.toUpperCase(), 9)} ${recorded.incidentId}  ${shown.reason}`,
    );
    if (differences.length > 0)
      out.push(
        replayed
          ? `  ≠ recorded: ${recorded.action.toUpperCase()}  ${recorded.reason}  (differs in ${differences.join(', ')})`
          : '  ≠ the pipeline made no such decision',
      );
  }
  for (const { recorded, replayed, differences } of result.rollbacks) {
    const shown = replayed ?? recorded;
    out.push(
      `rollback ${recorded.rollbackId} of ${recorded.command.service}: ${shown.status}, ${shown.leaving?.releaseId ?? '?'} → ${shown.releaseId ?? '?'}`,
    );
    if (differences.length > 0)
      out.push(
        replayed
          ? `  ≠ recorded: ${recorded.status}, ${recorded.leaving?.releaseId ?? '?'} → ${recorded.releaseId ?? '?'}  (differs in ${differences.join(', ')})`
          : '  ≠ the pipeline made no such rollback',
      );
  }
  for (const d of result.extra.decisions)
    out.push(`+ the pipeline also decided ${d.action.toUpperCase()} on ${d.incidentId} (${d.decisionId}): ${d.reason}`);
  for (const r of result.extra.rollbacks) out.push(`+ the pipeline also rolled back ${r.command.service} (${r.rollbackId}): ${r.status}`);
  for (const m of result.missing) out.push(`! not seen: ${m}`);
  for (const n of result.notes) out.push(`note: ${n}`);
  out.push(
    `through the pipeline: ${result.decisions.length} decision(s) and ${result.rollbacks.length} rollback(s) replayed, ${differingOf(result)} differ from the recorded ones`,
  );
  return out.join('\n') + '\n';
}

/** How many recorded decisions and rollbacks the pipeline did not reproduce, plus everything it did that was not recorded. */
export function differingOf(result: ThroughPipelineResult): number {
  return (
    result.decisions.filter((d) => d.differences.length > 0).length +
    result.rollbacks.filter((r) => r.differences.length > 0).length +
    result.extra.decisions.length +
    result.extra.rollbacks.length +
    result.missing.length
  );
}

/**
 * The recorded decisions and rollbacks beside the ones the pipeline made (by id): each with its differences
 * (`missing` when the pipeline made none), and what the pipeline made that the recording does not hold.
 */
export function compareWithRecording(
  decisions: readonly Decision[],
  recordedRollbacks: readonly RollbackRecord[],
  replayedDecisions: readonly Decision[],
  replayedRollbacks: readonly RollbackRecord[],
): Pick<ThroughPipelineResult, 'decisions' | 'rollbacks' | 'extra'> {
  const decisionById = new Map(replayedDecisions.map((d) => [d.decisionId, d]));
  const rollbackById = new Map(replayedRollbacks.map((r) => [r.rollbackId, r]));
  const recordedIds = new Set(decisions.map((d) => d.decisionId));
  const recordedRollbackIds = new Set(recordedRollbacks.map((r) => r.rollbackId));
  return {
    decisions: decisions.map((recorded) => {
      const replayed = decisionById.get(recorded.decisionId) ?? null;
      return { recorded, replayed, differences: replayed ? decisionDifferences(recorded, replayed) : ['missing'] };
    }),
    rollbacks: recordedRollbacks.map((recorded) => {
      const replayed = rollbackById.get(recorded.rollbackId) ?? null;
      return { recorded, replayed, differences: replayed ? rollbackDifferences(recorded, replayed) : ['missing'] };
    }),
    extra: {
      decisions: replayedDecisions.filter((d) => !recordedIds.has(d.decisionId)),
      rollbacks: replayedRollbacks.filter((r) => !recordedRollbackIds.has(r.rollbackId)),
    },
  };
}
