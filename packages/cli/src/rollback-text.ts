/**
 * One rollback for the terminal (`burnback rollback <id>`): what the console's
 * rollback page shows (services/ingest's rollbackPage, the same view model), as
 * text: the rollback in one line, its facts, its timeline from the decision
 * through the executor's stages and Cloud Deploy's notifications to the
 * outcome, and the rollout's phases.
 */
import type { RollbackPage } from '@burnback/ingest';
import { shortResourceNames } from './human-log.js';

/** Columns of a table, each padded to its widest cell (the last left as it is). */
function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, [...cell].length)), []);
  return rows.map((row) =>
    `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd(),
  );
}

export function formatRollback(r: RollbackPage): string {
  const what = r.validateOnly ? 'validation' : 'rollback';
  const facts: string[][] = [
    ['target', r.target],
    ['releases', `${r.from ?? 'unknown'} → ${r.to ?? 'not chosen yet'}`],
    [
      'rollout',
      r.rollout.name
        ? `${shortResourceNames(r.rollout.name)}${r.rollout.state ? ` ${r.rollout.state}` : ''}${r.rollout.rollsBack ? ` (rolls back ${shortResourceNames(r.rollout.rollsBack)})` : ''}`
        : 'not created yet',
    ],
    ...(r.requestedBy ? [['asked by', r.requestedBy]] : []),
    ...(r.failureReason
      ? [
          [
            r.status === 'superseded' ? 'superseded' : 'why it failed',
            `${r.failureReason}${r.supersededBy ? ` (by a ${r.supersededBy})` : ''}`,
          ],
        ]
      : []),
    ...r.durations.map((d) => [d.label, d.value]),
    ['decision', r.decision ? `${r.decision.decisionId} ${r.decision.action}: ${r.decision.reason}` : `${r.decisionId} (not found)`],
  ];
  const steps = r.steps.map((s) => [s.offset, s.at, s.stage, shortResourceNames(s.detail)]);
  const phases = r.phases.map((p) => [p.id, p.state, p.deployJobState || '—']);
  return [
    `${what} ${r.rollbackId} of ${r.service}: ${r.status} (incident ${r.incidentId})`,
    ...table(facts),
    '',
    'timeline',
    ...(steps.length > 0 ? table(steps) : ['  nothing recorded yet']),
    '',
    'Cloud Deploy phases',
    ...(phases.length > 0
      ? [...table([['phase', 'state', 'deploy job'], ...phases]), '  (as the decider last read the rollout from Cloud Deploy)']
      : ['  not read from Cloud Deploy (yet)']),
  ].join('\n');
}
