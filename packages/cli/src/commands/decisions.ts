import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { Collections, DecisionRecord, decodeCloudEvent, EventTypes, Redecision, Topics } from '@burnback/contracts';
import { recentDecisions } from '@burnback/ingest';
import { durationMs, formatDecision, openStore, STORE_HELP, type ShownDecision } from './status.js';

const HELP = `burnback decisions: recent decisions with their verdicts, newest first

Options:
  --service NAME   only this service
  --since D        how far back, by decision time: 30m, 2h, 7d (default 2h)
  --limit N        at most N decisions (default 50)
  --follow         oldest first, then each new decision as it is made, until Ctrl-C
  --json           one JSON document instead of text (with --follow: one decision record per line,
                   or the decision's event when its record cannot be read)

${STORE_HELP}

--follow reads the decision events every decision publishes (burnback-decisions) through a
subscription of its own, burnback-follow-…, deleted when it stops (and expiring by itself a day
after a kill): on the Pub/Sub emulator of 'npm start' (PUBSUB_EMULATOR_HOST, 127.0.0.1:8085 by
default), or with PUBSUB_EMULATOR_HOST=none in a real project, as someone allowed to create
subscriptions there.`;

/** How long creating the follow subscription may take before the CLI says the emulator (or Pub/Sub) does not answer. */
const SUBSCRIBE_TIMEOUT_MS = 15_000;
/** Decision ids remembered to print each decision once (Pub/Sub delivers at least once): the newest this many. */
const REMEMBERED = 10_000;

export interface DecisionsIo {
  out: (text: string) => void;
  err: (line: string) => void;
  /** Resolves when the user stops a `--follow` (Ctrl-C, SIGTERM). */
  stopped: () => Promise<void>;
}

const processIo: DecisionsIo = {
  out: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(`${line}\n`),
  stopped: () =>
    new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    }),
};

/** The decision ids printed, the newest REMEMBERED of them (a Set keeps insertion order). */
class Printed {
  private readonly ids = new Set<string>();
  /** True the first time an id is seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > REMEMBERED) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}

/** The schedules still standing for these decisions' incidents: a pending re-decision and when it is due. */
async function pendingOf(db: Firestore, incidentIds: readonly string[]): Promise<Map<string, Redecision>> {
  const incidents = [...new Set(incidentIds)];
  const docs = incidents.length === 0 ? [] : await db.getAll(...incidents.map((i) => db.collection(Collections.redecisions).doc(i)));
  return new Map(docs.filter((d) => d.exists).map((d) => [d.id, Redecision.parse(d.data())]));
}

/** `burnback decisions [--service S] [--since D] [--limit N] [--follow] [--json]`. */
export async function runDecisions(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
  io: DecisionsIo = processIo,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        service: { type: 'string' },
        since: { type: 'string', default: '2h' },
        limit: { type: 'string', default: '50' },
        follow: { type: 'boolean', short: 'f', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message} (burnback decisions --help)`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    io.out(`${HELP}\n`);
    return 0;
  }
  const sinceMs = durationMs(values.since);
  const limit = Number(values.limit);
  if (sinceMs === null || !Number.isInteger(limit) || limit < 1) {
    io.err(`--since takes 30m, 2h or 7d (got '${values.since}'); --limit a whole number ≥ 1 (got '${values.limit}')`);
    return 2;
  }
  const { config, db } = openStore(env);
  const since = new Date(now.getTime() - sinceMs);
  try {
    if (values.follow) return await follow(db, config.projectId, env, { service: values.service, since, limit, json: values.json }, io);
    const { decisions } = await recentDecisions(db, { since, service: values.service, limit });
    const pending = await pendingOf(
      db,
      decisions.map((d) => d.incidentId),
    );
    if (values.json) io.out(`${JSON.stringify({ decisions, pending: [...pending.values()] }, null, 2)}\n`);
    else
      io.out(
        decisions.length === 0
          ? `no decisions in the last ${values.since}\n`
          : `${decisions.map((d) => formatDecision(d, pending.get(d.incidentId) ?? null)).join('\n')}`,
      );
    return 0;
  } finally {
    await db.terminate();
  }
}

interface FollowOptions {
  service: string | undefined;
  since: Date;
  limit: number;
  json: boolean;
}

/**
 * The recent decisions oldest first, then every new one as the decider publishes
 * it, until the user stops. The subscription is created before the recent ones
 * are read, so a decision made in between is printed (once) rather than lost.
 */
async function follow(db: Firestore, projectId: string, env: NodeJS.ProcessEnv, o: FollowOptions, io: DecisionsIo): Promise<number> {
  const emulator = env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085';
  if (emulator === 'none') delete process.env.PUBSUB_EMULATOR_HOST;
  else process.env.PUBSUB_EMULATOR_HOST = emulator;
  const pubsub = new PubSub({ projectId });
  const name = `burnback-follow-${randomBytes(4).toString('hex')}`;
  const where = emulator === 'none' ? `project ${projectId}` : `the Pub/Sub emulator at ${emulator}`;
  // Listened for from the start: a Ctrl-C at any point still deletes the subscription (once it exists).
  let stopping = false;
  const stopped = io.stopped().then(() => {
    stopping = true;
    return null;
  });
  let subscription: Subscription | null = null;
  try {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        pubsub.topic(Topics.decisions).createSubscription(name, {
          ackDeadlineSeconds: 10,
          messageRetentionDuration: { seconds: 600 },
          expirationPolicy: { ttl: { seconds: 86_400 } },
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${SUBSCRIBE_TIMEOUT_MS / 1000} s`)), SUBSCRIBE_TIMEOUT_MS);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    subscription = pubsub.subscription(name, { flowControl: { maxMessages: 100, allowExcessMessages: false } });
    if (stopping) {
      await subscription.delete().catch(() => undefined);
      await pubsub.close();
      return 0;
    }
  } catch (err) {
    io.err(
      `cannot follow decisions: creating a subscription on ${Topics.decisions} in ${where} failed: ${(err as Error).message} ` +
        `(is 'npm start' running?)`,
    );
    await pubsub.close();
    return 1;
  }

  const printed = new Printed();
  const show = (d: ShownDecision, pending: Redecision | null): void => {
    if (!printed.add(d.decisionId)) return;
    io.out(o.json ? `${JSON.stringify(d)}\n` : `${formatDecision(d, pending)}\n`);
  };
  try {
    // The recent ones, unless the user stops first (a store that does not answer must not hold a Ctrl-C).
    const recent = await Promise.race([
      stopped,
      (async () => {
        const { decisions } = await recentDecisions(db, { since: o.since, service: o.service, limit: o.limit });
        return {
          decisions,
          pending: await pendingOf(
            db,
            decisions.map((d) => d.incidentId),
          ),
        };
      })(),
    ]);
    if (recent === null) return 0;
    for (const d of [...recent.decisions].reverse()) {
      if (stopping) return 0;
      show(d, recent.pending.get(d.incidentId) ?? null);
    }
    io.err(`following new decisions${o.service ? ` of ${o.service}` : ''} from ${where} (Ctrl-C to stop)`);

    // One message at a time, in the order they arrive, so the lines never interleave.
    let queue = Promise.resolve();
    const received = (message: Message): void => {
      queue = queue.then(async () => {
        try {
          const event = decodeCloudEvent(message, [EventTypes.decision]).data;
          if (o.service === undefined || event.service === o.service) {
            // The record says more (what a re-decision decided again); the event is shown when it cannot be read.
            const doc = await db
              .collection(Collections.decisions)
              .doc(event.decisionId)
              .get()
              .catch(() => null);
            const record = doc?.exists ? DecisionRecord.safeParse(doc.data()) : null;
            const pending = await pendingOf(db, [event.incidentId]).catch(() => new Map<string, Redecision>());
            show(record?.success ? record.data : event, pending.get(event.incidentId) ?? null);
          }
        } catch (err) {
          io.err(`skipped a message on ${Topics.decisions}: ${(err as Error).message}`);
        }
        message.ack();
      });
    };
    // Every error is listened for (the library can emit more than one): the first ends the follow.
    const failed = new Promise<Error>((done) => subscription.on('error', (err: Error) => done(err)));
    subscription.on('message', received);
    const outcome = await Promise.race([stopped, failed]);
    await subscription.close();
    await queue;
    if (outcome !== null) {
      io.err(`stopped following: ${outcome.message}`);
      return 1;
    }
    return 0;
  } finally {
    await subscription.close().catch(() => undefined);
    await subscription
      .delete()
      .catch((err: Error) => io.err(`could not delete the subscription ${name} (it expires by itself in a day): ${err.message}`));
    await pubsub.close();
  }
}
