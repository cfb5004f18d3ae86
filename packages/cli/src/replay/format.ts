import { z } from 'zod';
import { canonicalJson, DecisionRecord, RollbackRecord, StoredDeployEvent, StoredProgressEvent } from '@burnback/contracts';

/**
 * Burnback's export format: NDJSON, one self-describing line each, in event-time
 * order. The first line is the header (`kind: burnback-export`, the format
 * version, what was selected); every other line is `{kind, at, id, data}`.
 * Lines are canonical JSON (keys sorted), so the same records always give the
 * same bytes. A reader accepts every version up to its own.
 */
export const EXPORT_FORMAT = 'burnback-export';
export const EXPORT_VERSION = 1;

/** A raw notification as ingest kept it (`notifications/{id}`). */
export const ExportedNotification = z.object({
  id: z.string(),
  source: z.string(),
  receivedAt: z.string(),
  incidentId: z.string().nullable(),
  state: z.string().nullable(),
  raw: z.string(),
  messageId: z.string().nullable(),
});
export type ExportedNotification = z.infer<typeof ExportedNotification>;

export const ExportHeader = z.object({
  kind: z.literal(EXPORT_FORMAT),
  version: z.number().int().min(1).max(EXPORT_VERSION),
  project: z.string(),
  /** What was exported: an incident (by incident, decision or rollback id), a service over a range, or everything in a range. */
  selection: z.record(z.string(), z.string()),
  /** How many lines of each kind follow. */
  counts: z.record(z.string(), z.number()),
});
export type ExportHeader = z.infer<typeof ExportHeader>;

export const ExportLine = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('notification'), at: z.string(), id: z.string(), data: ExportedNotification }),
  z.object({ kind: z.literal('deploy-event'), at: z.string(), id: z.string(), data: StoredDeployEvent }),
  z.object({ kind: z.literal('decision'), at: z.string(), id: z.string(), data: DecisionRecord }),
  z.object({ kind: z.literal('rollback'), at: z.string(), id: z.string(), data: RollbackRecord }),
  z.object({ kind: z.literal('progress'), at: z.string(), id: z.string(), data: StoredProgressEvent }),
]);
export type ExportLine = z.infer<typeof ExportLine>;
export type ExportKind = ExportLine['kind'];

/** Within one instant, the order things happen in: what arrived, what was decided, what was done, what came of it. */
const KIND_ORDER: Record<ExportKind, number> = { notification: 0, 'deploy-event': 1, decision: 2, rollback: 3, progress: 4 };

/** Event-time order, then kind, then id: a total order, so an export is the same bytes whatever order the store answered in. */
export function compareLines(a: ExportLine, b: ExportLine): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  if (a.kind !== b.kind) return KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The NDJSON text of an export: the header, then the lines in event-time order. */
export function writeExport(header: Omit<ExportHeader, 'kind' | 'version' | 'counts'>, lines: ExportLine[]): string {
  const sorted = [...lines].sort(compareLines);
  const counts: Record<string, number> = {};
  for (const l of sorted) counts[l.kind] = (counts[l.kind] ?? 0) + 1;
  const head: ExportHeader = { kind: EXPORT_FORMAT, version: EXPORT_VERSION, ...header, counts };
  return [head, ...sorted].map((l) => canonicalJson(l)).join('\n') + '\n';
}

/** Reads an export; throws an Error naming the line at fault. */
export function readExport(text: string): { header: ExportHeader; lines: ExportLine[] } {
  const raw = text.split('\n').filter((l) => l.trim() !== '');
  if (raw.length === 0) throw new Error('empty file: expected a Burnback export (NDJSON, a header line first)');
  const parse = (line: string, n: number): unknown => {
    try {
      return JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${n}: not JSON (${(err as Error).message})`, { cause: err });
    }
  };
  const head = ExportHeader.safeParse(parse(raw[0]!, 1));
  if (!head.success) {
    const issue = head.error.issues[0]!;
    throw new Error(
      `line 1: not a Burnback export header (${issue.path.join('.') || 'header'}: ${issue.message}); this reader knows versions 1 to ${EXPORT_VERSION}`,
    );
  }
  const lines = raw.slice(1).map((line, i) => {
    const parsed = ExportLine.safeParse(parse(line, i + 2));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`line ${i + 2}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
    }
    return parsed.data;
  });
  return { header: head.data, lines };
}
