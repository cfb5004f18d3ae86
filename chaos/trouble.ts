/**
 * What a failed chaos run prints from its workers' logs, so CI's output says
 * why (the log folder is gone with CI's machine): each worker's last warnings
 * and errors, one line each, oldest first. The crash points' own lines are
 * left out (the report counts them); everything else a worker warned about is
 * in, with the error message it carried.
 */
const EXPECTED = new Set(['chaos_armed', 'chaos_crash']);

export function troubleLines(worker: string, log: string, limit: number): string[] {
  const lines: string[] = [];
  for (const raw of log.split('\n')) {
    if (!raw.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (entry.severity !== 'WARNING' && entry.severity !== 'ERROR' && entry.severity !== 'CRITICAL') continue;
    if (typeof entry.event === 'string' && EXPECTED.has(entry.event)) continue;
    const error = entry.error as { message?: unknown } | undefined;
    const because = typeof error?.message === 'string' ? `: ${error.message.split('\n')[0]}` : '';
    const text = (key: string, otherwise: string) => (typeof entry[key] === 'string' ? entry[key] : otherwise);
    lines.push(`${text('time', '?')} ${worker} ${entry.severity} ${text('event', '-')} ${text('message', '')}${because}`);
  }
  return lines.slice(-limit);
}
