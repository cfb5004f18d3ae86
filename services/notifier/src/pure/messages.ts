/**
 * The words of a notice, the same for every destination: a title, the reason
 * first, then what it is about, and the commands to look closer. Pure.
 */
import type { Notice } from './notices.js';

const TITLES: Record<Notice['topic'], string> = {
  escalate: 'needs a human',
  recommend: 'recommends a rollback',
  rollback: 'is rolling back',
  hold: 'holds',
  close: 'incident closed',
  'rollback-started': 'rollback started',
  'rollback-succeeded': 'rolled back',
  'rollback-failed': 'rollback FAILED',
  'rollback-superseded': 'rollback superseded',
};

/** `Burnback: api-backend needs a human`. */
export function titleOf(notice: Notice): string {
  return `Burnback: ${notice.service} ${TITLES[notice.topic]}`;
}

/** `project/region/pipeline/target`, or null when the decision names none. */
export function targetOf(notice: Notice): string | null {
  if (notice.of === 'rollback') return notice.progress.target;
  const t = notice.decision.target;
  return t ? `${t.project}/${t.region}/${t.pipeline}/${t.target}` : null;
}

/** The releases involved: the one blamed (decision), or the one left and the one returned to (rollback). */
export function releasesOf(notice: Notice): string | null {
  if (notice.of === 'decision') return notice.decision.cause ? `blamed ${notice.decision.cause.releaseId}` : null;
  const { fromReleaseId, releaseId } = notice.progress;
  if (fromReleaseId && releaseId) return `${fromReleaseId} → ${releaseId}`;
  if (releaseId) return `to ${releaseId}`;
  return fromReleaseId ? `leaving ${fromReleaseId}` : null;
}

/** `0.62 (needs 0.80): burn 1.00×0.50, timing 0.20×0.30, …`, or null when the decision weighed none. */
export function confidenceOf(notice: Notice): string | null {
  if (notice.of !== 'decision' || notice.decision.confidence === null) return null;
  const c = notice.decision.confidence;
  const factors = c.factors.map((f) => `${f.name} ${f.value.toFixed(2)}×${f.weight.toFixed(2)}`).join(', ');
  return `${c.value.toFixed(2)} (needs ${c.threshold.toFixed(2)})${factors ? `: ${factors}` : ''}`;
}

/** The commands a person runs to look closer (and to approve a recommendation). */
export function commandsOf(notice: Notice): string[] {
  const commands = [`burnback decisions --service ${notice.service}`];
  if (notice.rollbackId) commands.push('burnback status');
  if (notice.topic === 'recommend') commands.push(`burnback approve ${notice.decisionId} --reason "…"`);
  return commands;
}

/** Label and value of each detail line, in order, without the empty ones. */
export function detailsOf(notice: Notice): Array<[string, string]> {
  const lines: Array<[string, string | null]> = [
    ['service', notice.service],
    ['target', targetOf(notice)],
    ['releases', releasesOf(notice)],
    ['confidence', confidenceOf(notice)],
    ['incident', notice.incidentId],
    [notice.of === 'decision' ? 'decision' : 'rollback', notice.of === 'decision' ? notice.decisionId : notice.rollbackId],
    ['at', notice.at],
  ];
  return lines.filter((l): l is [string, string] => l[1] !== null);
}

/**
 * A chat message: the reason first (bold, on one line), then the title, the
 * details and the commands; `*…*` is bold and `code` the command markup in both
 * Slack and Google Chat.
 */
export function chatText(notice: Notice, code: (text: string) => string = (t) => `\`${t}\``): string {
  return [
    `*${notice.reason.replace(/\s*\n\s*/g, ' ')}*`,
    titleOf(notice),
    ...detailsOf(notice).map(([label, value]) => `${label}: ${value}`),
    ...commandsOf(notice).map((c) =>
      notice.topic === 'recommend' && c.startsWith('burnback approve')
        ? `approve: ${approveLine(notice, code(c))}`
        : `look closer: ${code(c)}`,
    ),
  ].join('\n');
}

/** How to approve a recommendation, and until when (the decision says; older deciders do not). */
function approveLine(notice: Notice, command: string): string {
  const until = notice.of === 'decision' ? notice.decision.approvableUntil : null;
  return until ? `${command} before ${until} (or POST /decisions/${notice.decisionId}/approve with the management token)` : command;
}
