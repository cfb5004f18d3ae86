import type { Logger } from '@burnback/platform';
import { targetDocIdFor } from '@burnback/contracts';
import { nextGroup, type Groupable } from './pure/breaker-group.js';
import type { Serializer } from './serializer.js';
import type { DecisionRequest, DecisionSnapshot, DecisionStore, DecisionWrite } from './store.js';

type Outcome = { written: DecisionWrite | null; snapshot: DecisionSnapshot };

interface Queued {
  request: DecisionRequest;
  /** What the group's choice reads of it (pure/breaker-group.ts), made once when it is queued. */
  candidate: Groupable;
  /** performance.now() when it was queued. */
  queuedAt: number;
  resolve: (outcome: Outcome) => void;
  reject: (err: unknown) => void;
}

export interface BreakerGroups {
  /** Decides under the breaker's turn, in a group with whatever else waits for it; resolves with this decision's outcome. */
  decide(request: DecisionRequest): Promise<Outcome>;
}

/**
 * Group commit for the decisions that may touch the fleet breaker's document.
 * They take turns (the `turn` the decider's rollback ends share), and each turn
 * decides the decisions then waiting, up to BREAKER_GROUP_MAX (fewer when they
 * record a large fleet: pure/breaker-group.ts), in one transaction
 * (DecisionStore.decideGroup): 100 burns at once cost a few transactions, not
 * 100 one after the other. Two decisions on one service,
 * incident or target never share a group (the second reads what the first
 * wrote, in the next turn). A group that fails is decided again one decision at
 * a time, so one bad decision costs only itself.
 */
export function createBreakerGroups(store: DecisionStore, turn: Serializer, logger: Logger): BreakerGroups {
  const queue: Queued[] = [];

  /** The next group (pure/breaker-group.ts), taken out of the queue; the rest keep their order. */
  const takeGroup = (): Queued[] => {
    const indexes = nextGroup(queue.map((q) => q.candidate));
    const group = indexes.map((i) => queue[i]!);
    for (const i of [...indexes].reverse()) queue.splice(i, 1);
    return group;
  };

  const settleOne = async (q: Queued) => {
    try {
      q.resolve(
        await store.decideOnce(q.request.decisionId, q.request.service, q.request.incidentId, q.request.target, q.request.decideFn),
      );
    } catch (err) {
      q.reject(err);
    }
  };

  const drainOnce = async () => {
    const group = takeGroup();
    if (group.length === 0) return;
    if (group.length === 1) return settleOne(group[0]!);
    // Where the group's time goes: its reads (until the first decision runs), its decisions, its commit; and attempts.
    const turnAt = performance.now();
    let attempts = 0;
    let readsDoneAt = 0;
    let decidedAt = 0;
    const last = group.length - 1;
    const requests = group.map((q, i) => ({
      ...q.request,
      decideFn: async (snapshot: DecisionSnapshot) => {
        if (i === 0) {
          attempts += 1;
          readsDoneAt = performance.now();
        }
        const write = await q.request.decideFn(snapshot);
        if (i === last) decidedAt = performance.now();
        return write;
      },
    }));
    try {
      const outcomes = await store.decideGroup(requests);
      const doneAt = performance.now();
      logger.info(`a group of ${group.length} decisions under the breaker committed`, {
        event: 'breaker_group',
        decisions: group.length,
        written: outcomes.filter((o) => o.written !== null).length,
        attempts,
        queued: queue.length,
        timings: {
          waitedMs: Math.round(turnAt - group[0]!.queuedAt),
          readsMs: Math.round(readsDoneAt - turnAt),
          decideMs: Math.round(decidedAt - readsDoneAt),
          commitMs: Math.round(doneAt - decidedAt),
        },
      });
      group.forEach((q, i) => q.resolve(outcomes[i]!));
    } catch (err) {
      logger.info(`a group of ${group.length} decisions under the breaker failed; deciding them one at a time`, {
        event: 'breaker_group_failed',
        decisions: group.length,
        error: (err as Error).message,
      });
      for (const q of group) await settleOne(q);
    }
  };

  return {
    decide(request) {
      return new Promise<Outcome>((resolve, reject) => {
        const candidate = {
          service: request.service,
          incidentId: request.incidentId,
          targetDocId: targetDocIdFor(request.target),
          fleetNames: request.fleetNames ?? 0,
        };
        queue.push({ request, candidate, queuedAt: performance.now(), resolve, reject });
        // One turn per decision queued: each turn takes at least one, so none is left behind.
        void turn(drainOnce);
      });
    },
  };
}
