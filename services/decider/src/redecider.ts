import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Collections, DecisionRecord, errorKind, ErrorKinds, IncidentRecord, type Redecision } from '@burnback/contracts';
import { systemClock, type Clock, type Logger, type ServiceConfig } from '@burnback/platform';
import type { createDecisionCore, RedecideOutcome } from './handler.js';
import type { createTargetHistory } from './deploy-events.js';
import { RedecisionStore } from './redecision-store.js';
import type { Firestore } from '@google-cloud/firestore';

export interface RedeciderDeps {
  db: Firestore;
  services: ReadonlyMap<string, ServiceConfig>;
  logger: Logger;
  core: ReturnType<typeof createDecisionCore>;
  /** Read what serves the target afresh before deciding again (null: decide on what is recorded). */
  history: ReturnType<typeof createTargetHistory> | null;
  clock?: Clock;
  /** Names this decider in leases (default: host, pid and a random suffix). */
  owner?: string;
  /** How long a claim holds an incident (default 60 s). */
  leaseMs?: number;
  /** How often an idle sweep looks for schedules another replica wrote (default 5 s). */
  idleSweepMs?: number;
  /** Incidents decided again at once by this process (default 4). */
  concurrency?: number;
  /** Sweep on its own (default); off: only `redecideNow` (a replay moves the clock and asks). */
  sweep?: boolean;
}

export interface Redecider {
  /** A schedule was written: look again by `dueAt` at the latest. */
  wake(dueAt?: Date): void;
  /** Decides the incident again now, whatever its schedule says (a replay at the recorded moment); null when nothing is scheduled. */
  redecideNow(incidentId: string): Promise<RedecideOutcome | null>;
  close(): Promise<void>;
}

/** How long after a failed attempt the next one comes: 15 s, doubling, at most 5 min. */
const retryInMs = (attempts: number): number => Math.min(300_000, 15_000 * 2 ** Math.min(attempts, 10));

/**
 * Decides again every incident whose schedule is due (`redecisions/`): one loop
 * per decider sweeps them soonest first, claims each with a lease (so replicas
 * share them, and one that dies only delays its claim), and decides it again on
 * the world as it is now: what serves its target is read from Cloud Deploy
 * first, Cloud Monitoring is asked again, and the rate limit, the cooldown, the
 * pause and the freeze are judged now. A closed incident, or one decided since,
 * ends its schedule; the new decision writes the next one if it holds again.
 */
export function startRedecider(deps: RedeciderDeps): Redecider {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const store = new RedecisionStore(deps.db);
  const owner = deps.owner ?? `decider-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leaseMs = deps.leaseMs ?? 60_000;
  const idleSweepMs = deps.idleSweepMs ?? 5_000;
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  const active = new Map<string, Promise<unknown>>();
  let stopped = false;
  let sleeper: { timer: NodeJS.Timeout; resolve: () => void; until: number } | null = null;

  const wake = (dueAt?: Date) => {
    if (!sleeper) return;
    if (dueAt && dueAt.getTime() >= sleeper.until) return;
    clearTimeout(sleeper.timer);
    const { resolve } = sleeper;
    sleeper = null;
    resolve();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleeper = null;
        resolve();
      }, ms);
      timer.unref();
      sleeper = { timer, resolve, until: Date.now() + ms };
    });

  /** One claimed schedule: decide the incident again, or end the schedule when there is nothing to decide. */
  const attempt = async (redecision: Redecision, leaseId: string): Promise<RedecideOutcome | null> => {
    const { incidentId } = redecision;
    const labels = { incidentId, service: redecision.service, afterDecisionId: redecision.afterDecisionId };
    try {
      const [incidentDoc, decisionDoc] = await deps.db.getAll(
        deps.db.collection(Collections.incidents).doc(incidentId),
        deps.db.collection(Collections.decisions).doc(redecision.afterDecisionId),
      );
      const incident = incidentDoc?.exists ? IncidentRecord.parse(incidentDoc.data()) : null;
      const previous = decisionDoc?.exists ? DecisionRecord.parse(decisionDoc.data()) : null;
      const why =
        incident === null
          ? 'the incident is not on record'
          : incident.state === 'closed'
            ? 'the incident closed'
            : incident.lastDecisionId !== redecision.afterDecisionId
              ? `the incident was decided since (${incident.lastDecisionId})`
              : previous === null
                ? `decision ${redecision.afterDecisionId} is not on record`
                : null;
      if (why !== null) {
        await store.drop(incidentId, leaseId);
        logger.info(`incident ${incidentId} is not decided again: ${why}`, { event: 'redecision_dropped', ...labels, reason: why });
        return null;
      }
      const service = deps.services.get(redecision.service);
      if (service && deps.history) {
        // The world as it is now: what serves the target, read from Cloud Deploy (a missed notification is mended here).
        await deps.history.rebuild(service).catch((err: unknown) =>
          logger.warn(`deciding ${incidentId} again on the recorded target: Cloud Deploy could not be read`, {
            event: 'redecision_target_unread',
            ...labels,
            error: err,
          }),
        );
      }
      const outcome = await deps.core.redecide({ previous: previous!, trigger: redecision.trigger, rule: redecision.rule });
      if (outcome.kind === 'stale') await store.drop(incidentId, leaseId);
      // The decision's transaction replaced or removed the schedule; a duplicate (decided before a crash) did too.
      logger.info(`incident ${incidentId} decided again (${redecision.trigger}${redecision.rule ? `: ${redecision.rule}` : ''})`, {
        event: 'redecided',
        ...labels,
        outcome: outcome.kind,
        ...(outcome.kind === 'stale'
          ? { reason: outcome.reason }
          : { decisionId: outcome.decision.decisionId, action: outcome.decision.action }),
      });
      return outcome;
    } catch (err) {
      if (errorKind(err) === ErrorKinds.permanent) {
        await store.drop(incidentId, leaseId).catch(() => undefined);
        logger.error(`incident ${incidentId} cannot be decided again: ${(err as Error).message}`, {
          event: 'redecision_failed',
          ...labels,
          error: err,
        });
        return null;
      }
      const next = new Date(clock.now().getTime() + retryInMs(redecision.attempts));
      await store.retryAt(incidentId, leaseId, next, clock.now()).catch(() => undefined);
      logger.warn(`deciding incident ${incidentId} again failed; trying again at ${next.toISOString()}`, {
        event: 'redecision_retry',
        ...labels,
        error: err,
      });
      return null;
    }
  };

  const claimAndRun = async (incidentId: string, force: boolean): Promise<RedecideOutcome | null> => {
    const claimed = await store.claim(incidentId, owner, clock.now(), leaseMs, force);
    if (!claimed) return null;
    return attempt(claimed.redecision, claimed.leaseId);
  };

  const launch = (incidentId: string) => {
    const run = claimAndRun(incidentId, false)
      .catch((err: unknown) => {
        if (errorKind(err) === ErrorKinds.permanent) {
          logger.error(`redecisions/${incidentId} cannot be read: ${(err as Error).message}`, {
            event: 'redecision_unreadable',
            incidentId,
          });
          return store.postpone(incidentId, new Date(clock.now().getTime() + 300_000)).catch(() => undefined);
        }
        logger.warn(`claiming the re-decision of ${incidentId} failed; the next sweep tries again`, {
          event: 'redecision_claim_failed',
          incidentId,
          error: err,
        });
      })
      .finally(() => {
        active.delete(incidentId);
        wake();
      });
    active.set(incidentId, run);
  };

  const loop = async () => {
    while (!stopped) {
      let waitMs = idleSweepMs;
      if (active.size < concurrency) {
        try {
          const { due, nextDueAt } = await store.due(clock.now(), concurrency);
          for (const id of due) if (!active.has(id) && active.size < concurrency && !stopped) launch(id);
          if (nextDueAt) waitMs = Math.min(idleSweepMs, Math.max(0, nextDueAt.getTime() - clock.now().getTime()));
        } catch (err) {
          logger.warn('looking for incidents to decide again failed; trying again', { event: 'redecision_sweep_failed', error: err });
        }
      }
      if (!stopped) await sleep(Math.max(waitMs, 50));
    }
  };

  const running = deps.sweep === false ? Promise.resolve() : loop();
  if (deps.sweep !== false) logger.info(`redecider ${owner} started`, { event: 'redecider_started', owner });
  return {
    wake,
    redecideNow: (incidentId) => claimAndRun(incidentId, true),
    async close() {
      stopped = true;
      wake();
      await running;
      await Promise.allSettled([...active.values()]);
    },
  };
}
