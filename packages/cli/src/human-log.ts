/**
 * The services' log as `npm start` prints it for a human: one line per entry,
 * `22:10:05.123 executor  INFO     message`, with a dead letter's reason and a
 * decision's verdicts on the same line. Cloud Deploy's full resource names
 * (`projects/…/deliveryPipelines/…/releases/…/rollouts/…`) are shortened to
 * `pipeline/rollout` (or release, target), so a line about a rollout fits a
 * terminal; `--json` prints the entries as they are. A line that is not what
 * Burnback's logger writes is shown as it is, never dropped.
 */
import { verdictLabel } from '@burnback/contracts';

const SEVERITY_COLOUR: Record<string, string> = {
  ERROR: '\x1b[31m',
  CRITICAL: '\x1b[31m',
  WARNING: '\x1b[33m',
  INFO: '\x1b[36m',
  DEBUG: '\x1b[90m',
};

interface LogEntry {
  severity?: string;
  message?: string;
  time?: string;
  event?: string;
  reason?: string;
  verdicts?: Array<{ rule?: string; passed?: boolean; detail?: string } | null>;
  confidence?: { value?: number };
}

/** What a human needs beyond the message: a dead letter's reason; a decision's verdicts and confidence. */
function detailOf(entry: LogEntry): string {
  if (entry.event === 'dead_letter' && typeof entry.reason === 'string' && entry.reason) return ` (reason: ${entry.reason})`;
  if (entry.event === 'decision' && Array.isArray(entry.verdicts)) {
    const verdicts = entry.verdicts
      .filter((v): v is NonNullable<typeof v> => v !== null && typeof v === 'object')
      .map(verdictLabel)
      .join(', ');
    const confidence = typeof entry.confidence?.value === 'number' ? `; confidence ${entry.confidence.value}` : '';
    return ` [${verdicts}${confidence}]`;
  }
  return '';
}

/**
 * A Cloud Deploy resource name under a delivery pipeline: its pipeline, then a release or a target, a rollout,
 * a job run. Each part is one path segment (no `/`, no space), so matching is linear in the line's length.
 */
const DEPLOY_RESOURCE =
  /projects\/[^/\s]+\/locations\/[^/\s]+\/deliveryPipelines\/([^/\s]+)(?:\/(?:releases|targets)\/([^/\s]+))?(?:\/rollouts\/([^/\s]+))?(?:\/jobRuns\/([^/\s]+))?/g;

/**
 * Cloud Deploy's full resource names shortened to what names them for a reader, under their pipeline (two
 * pipelines can hold rollouts of one name): `pipeline/rollout`, `pipeline/rollout/jobRun`, `pipeline/release`
 * or `pipeline/target`, a pipeline by its name.
 */
export function shortResourceNames(text: string): string {
  return text.replace(DEPLOY_RESOURCE, (_all, pipeline: string, releaseOrTarget?: string, rollout?: string, jobRun?: string) => {
    const leaf = rollout !== undefined ? (jobRun !== undefined ? `${rollout}/${jobRun}` : rollout) : releaseOrTarget;
    return leaf !== undefined ? `${pipeline}/${leaf}` : pipeline;
  });
}

/** `HH:MM:SS.mmm` (UTC, as every time Burnback records) of an entry's time; of `now` when it has none. */
function clockOf(time: string | undefined, now: Date): string {
  const at = time !== undefined && !Number.isNaN(Date.parse(time)) ? new Date(time) : now;
  return at.toISOString().slice(11, 23);
}

/**
 * One log line for a human, `22:10:05.123 executor  INFO     message`, with a
 * dead letter's reason and a decision's verdicts on the same line; raw JSON when
 * not pretty. Colour only for a terminal. A line that is not JSON (a library's
 * warning) is stamped with the time it was read.
 */
export function formatLogLine(service: string, line: string, pretty: boolean, colour = false, now: Date = new Date()): string {
  if (!pretty) return line;
  const plain = () => `${clockOf(undefined, now)} ${service.padEnd(9)} ${shortResourceNames(line)}`;
  try {
    const entry = JSON.parse(line) as LogEntry | null;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return plain();
    // Only what has the type Burnback's logger writes is read; anything else shows as the line it is.
    const severity = typeof entry.severity === 'string' ? entry.severity : 'DEFAULT';
    const [on, off] = colour ? [(Object.hasOwn(SEVERITY_COLOUR, severity) ? SEVERITY_COLOUR[severity] : '') ?? '', '\x1b[0m'] : ['', ''];
    const time = typeof entry.time === 'string' ? entry.time : undefined;
    const message = shortResourceNames(`${typeof entry.message === 'string' ? entry.message : line}${detailOf(entry)}`);
    return `${clockOf(time, now)} ${service.padEnd(9)} ${on}${severity.padEnd(8)}${off} ${message}`;
  } catch {
    return plain();
  }
}
