/**
 * Which decisions waiting for the breaker's turn go together in one group commit
 * (breaker-groups.ts): pure, so the rules are tested and under the mutation gate.
 */

/** The most decisions one group transaction holds: each writes at most seven documents, so 50 and the breaker's are 351 of the 500 a transaction takes. */
export const BREAKER_GROUP_MAX = 50;

/**
 * The most fleet names (burning services and rollbacks in flight) one group's decisions record between them. Each
 * decision records the fleet it read, in its record and again in its decision event: in the 100,000 storm that is
 * up to 2,000 names a decision, and a commit of 50 such decisions (351 writes) took 487,358 protobuf encoding
 * operations at once and ran the decider out of its 128 MiB heap (a heap snapshot at the limit, 2 runs of 3).
 * 50,000 names is 25 such decisions, which that storm ran with; a small fleet's decisions still go 50 at a time.
 */
export const BREAKER_GROUP_FLEET_NAMES = 50_000;

/** What the grouping needs to know of a waiting decision. */
export interface Groupable {
  service: string;
  incidentId: string;
  /** The target's document id. */
  targetDocId: string;
  /** The fleet names the decision records (its fleet view's burning services and rollbacks in flight). */
  fleetNames: number;
}

/**
 * The indexes of the next group, in queue order: the first waiting decision always, then each later one that
 * shares no service, incident or target with those taken (it reads what they write, so it waits for the next turn),
 * while the group holds fewer than BREAKER_GROUP_MAX and its fleet names stay within BREAKER_GROUP_FLEET_NAMES.
 */
export function nextGroup(queue: readonly Groupable[]): number[] {
  const taken: number[] = [];
  const keys = new Set<string>();
  let names = 0;
  for (const [i, q] of queue.entries()) {
    if (taken.length >= BREAKER_GROUP_MAX) break;
    const its = [`s:${q.service}`, `i:${q.incidentId}`, `t:${q.targetDocId}`];
    if (its.some((k) => keys.has(k))) continue;
    if (taken.length > 0 && names + q.fleetNames > BREAKER_GROUP_FLEET_NAMES) continue;
    for (const k of its) keys.add(k);
    names += q.fleetNames;
    taken.push(i);
  }
  return taken;
}
