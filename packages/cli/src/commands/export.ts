import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Firestore } from '@google-cloud/firestore';
import { Collections, DecisionRecord, RollbackRecord, StoredDeployEvent, StoredProgressEvent } from '@burnback/contracts';
import { ExportedNotification, writeExport, type ExportLine } from '../replay/format.js';
import { durationMs, openStore, STORE_HELP } from './status.js';

const EXPORT_HELP = `burnback export: write decisions and what led to them as NDJSON, for replay

One of:
  --incident ID    one incident (also --decision ID or --rollback ID: the incident it belongs to)
  --service NAME   one service, over --since (default 24h) [--until RFC3339]
  --all            every service, over --since (default 24h) [--until RFC3339]
Options:
  --out FILE       write to FILE instead of standard output

Each line is one record, in event-time order: raw notifications, Cloud Deploy
notifications, decisions (each with its evidence), rollbacks, progress. The
first line is a header naming the format version and the selection.

${STORE_HELP}`;

/** How far before the first decision Cloud Deploy's notifications are exported (what served before the burn). */
const DEPLOY_LOOKBACK_MS = 24 * 3_600_000;
const CHUNK = 30;

const chunks = <T>(xs: T[]): T[][] => Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));

/** The decisions a selection names. */
async function selectDecisions(
  db: Firestore,
  selection: { incident?: string; service?: string; since: Date; until: Date },
): Promise<DecisionRecord[]> {
  const decisions = db.collection(Collections.decisions);
  if (selection.incident !== undefined)
    return (await decisions.where('incidentId', '==', selection.incident).get()).docs.map((d) => DecisionRecord.parse(d.data()));
  const inRange = await decisions
    .where('decidedAt', '>=', selection.since.toISOString())
    .where('decidedAt', '<=', selection.until.toISOString())
    .get();
  // The service is filtered here rather than in the query, so a real project needs no composite index.
  return inRange.docs
    .map((d) => DecisionRecord.parse(d.data()))
    .filter((d) => selection.service === undefined || d.service === selection.service);
}

/** Everything an export of these decisions holds: the decisions, their notifications, rollbacks and progress, and the deploy history. */
export async function collectExport(db: Firestore, decisions: DecisionRecord[]): Promise<ExportLine[]> {
  const lines: ExportLine[] = decisions.map((d) => ({ kind: 'decision', at: d.decidedAt, id: d.decisionId, data: d }));
  if (decisions.length === 0) return lines;
  const getAll = async (collection: string, ids: string[]) => {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const docs = await db.getAll(...unique.map((id) => db.collection(collection).doc(id)));
    return docs.filter((d) => d.exists).map((d) => d.data()!);
  };
  const notificationIds = decisions.map((d) => d.evidence?.notificationId ?? d.alertEventId);
  for (const n of await getAll(Collections.notifications, notificationIds)) {
    const data = ExportedNotification.parse(n);
    lines.push({ kind: 'notification', at: data.receivedAt, id: data.id, data });
  }
  const rollbackIds = decisions.flatMap((d) => (d.rollbackId ? [d.rollbackId] : []));
  for (const r of await getAll(Collections.rollbacks, rollbackIds)) {
    const data = RollbackRecord.parse(r);
    lines.push({ kind: 'rollback', at: data.createdAt, id: data.rollbackId, data });
  }
  const incidents = [...new Set(decisions.map((d) => d.incidentId))];
  for (const chunk of chunks(incidents)) {
    const docs = (await db.collection(Collections.progressEvents).where('progress.incidentId', 'in', chunk).get()).docs;
    for (const doc of docs) {
      const data = StoredProgressEvent.parse(doc.data());
      lines.push({ kind: 'progress', at: data.progress.at, id: data.eventId, data });
    }
  }
  const times = decisions.map((d) => Date.parse(d.decidedAt));
  const services = new Set(decisions.map((d) => d.service));
  const from = new Date(Math.min(...times) - DEPLOY_LOOKBACK_MS).toISOString();
  const to = new Date(Math.max(...times)).toISOString();
  const deploys = await db.collection(Collections.deployEvents).where('publishTime', '>=', from).where('publishTime', '<=', to).get();
  for (const doc of deploys.docs) {
    const data = StoredDeployEvent.parse(doc.data());
    if (services.has(data.service)) lines.push({ kind: 'deploy-event', at: data.publishTime, id: data.messageId, data });
  }
  return lines;
}

export async function runExport(args: string[], env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      incident: { type: 'string' },
      decision: { type: 'string' },
      rollback: { type: 'string' },
      service: { type: 'string' },
      all: { type: 'boolean', default: false },
      since: { type: 'string', default: '24h' },
      until: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${EXPORT_HELP}\n`);
    return 0;
  }
  const chosen = [values.incident, values.decision, values.rollback, values.service, values.all ? 'all' : undefined].filter(
    (v) => v !== undefined,
  );
  if (chosen.length !== 1) {
    process.stderr.write('give exactly one of --incident, --decision, --rollback, --service or --all\n');
    return 2;
  }
  const sinceMs = durationMs(values.since);
  // RFC 3339 with a zone only: a local time would select different decisions on machines in other zones.
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
  const until = values.until === undefined ? now : rfc3339.test(values.until) ? new Date(values.until) : new Date(NaN);
  if (sinceMs === null || Number.isNaN(until.getTime())) {
    process.stderr.write(`--since takes 30m, 2h or 7d (got '${values.since}'); --until an RFC 3339 time (got '${values.until}')\n`);
    return 2;
  }
  const { config, db } = openStore(env);
  try {
    let incident = values.incident;
    if (values.decision !== undefined || values.rollback !== undefined) {
      const [collection, id] =
        values.decision !== undefined ? [Collections.decisions, values.decision] : [Collections.rollbacks, values.rollback!];
      const doc = await db.collection(collection).doc(id).get();
      if (!doc.exists) {
        process.stderr.write(`no ${collection === Collections.decisions ? 'decision' : 'rollback'} ${id} in project ${config.projectId}\n`);
        return 1;
      }
      incident =
        collection === Collections.decisions
          ? DecisionRecord.parse(doc.data()).incidentId
          : RollbackRecord.parse(doc.data()).command.incidentId;
    }
    const decisions = await selectDecisions(db, {
      incident,
      service: values.service,
      since: new Date(until.getTime() - sinceMs),
      until,
    });
    if (decisions.length === 0) {
      process.stderr.write(`nothing to export: no decision matches in project ${config.projectId}\n`);
      return 1;
    }
    const selection: Record<string, string> =
      incident !== undefined
        ? { incident }
        : {
            ...(values.service ? { service: values.service } : { all: 'true' }),
            since: new Date(until.getTime() - sinceMs).toISOString(),
            until: until.toISOString(),
          };
    const text = writeExport({ project: config.projectId, selection }, await collectExport(db, decisions));
    if (values.out) writeFileSync(values.out, text);
    else process.stdout.write(text);
    return 0;
  } finally {
    await db.terminate();
  }
}
