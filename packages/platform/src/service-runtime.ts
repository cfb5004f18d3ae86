/**
 * Flat memory: how much memory each Burnback service's container has, and the
 * Node flags that keep the service inside it. The one source of these numbers:
 *
 * - the Dockerfile sets `ENV NODE_OPTIONS=<nodeOptions>` in each service's target;
 * - infra/modules/burnback-services gives each Cloud Run service `<memoryMiB>Mi`;
 * - docker-compose.yml gives each service container `mem_limit: <memoryMiB>m`;
 * - `npm start` (`burnback dev`) runs each service with the same NODE_OPTIONS.
 *
 * packages/cli/test/containers.test.ts and infra/test hold those files to these values.
 *
 * Why these numbers (docs/architecture.md, "Flat memory"): left alone, V8 sizes
 * its heap from the machine (about 4 GiB on a 24 GiB host) and lets it grow
 * lazily, so under a 10,000-alert storm the services reached 370-460 MiB of RSS.
 * With the old generation capped the heap is collected instead of grown. What
 * is not heap (code, the Google clients' native and gRPC buffers, Node itself)
 * measured about 95 MiB in a bare Node process with the client libraries
 * loaded; NON_HEAP_ALLOWANCE_MIB keeps that much of the limit free of heap.
 */

/** One service's memory limit and the Node flags its process runs with. */
export interface ServiceRuntimeLimits {
  /** The container's memory limit, MiB (Cloud Run `resources.limits.memory = "<n>Mi"`, compose `mem_limit: <n>m`). */
  readonly memoryMiB: number;
  /** NODE_OPTIONS for the service's process: V8's heap bound, sized to fit memoryMiB. */
  readonly nodeOptions: string;
}

/**
 * 256 MiB: the target is a peak RSS of at most 256 MB under a 10,000-alert storm.
 * Cloud Run takes 256Mi with 1 vCPU in its first-generation execution environment
 * (the second generation's minimum is 512 MiB), which infra/ pins for that reason.
 * A heap of 128 MiB old generation plus 3 x 4 MiB young generation, with the
 * non-heap allowance, stays under it: 128 + 12 + 96 = 236 MiB.
 */
const FLAT: ServiceRuntimeLimits = {
  memoryMiB: 256,
  nodeOptions: '--max-old-space-size=128 --max-semi-space-size=4',
};

/** Each Burnback service (a folder of services/): its memory limit and Node flags. The same for all four. */
export const ServiceRuntime = {
  ingest: FLAT,
  decider: FLAT,
  executor: FLAT,
  notifier: FLAT,
} as const satisfies Record<string, ServiceRuntimeLimits>;
export type RuntimeServiceName = keyof typeof ServiceRuntime;

/**
 * Memory a service needs besides V8's heap (code, native and gRPC buffers, Node itself), MiB: about what a bare
 * Node process with the Google client libraries loaded measured (94-97 MiB, which includes their own heap, so it errs high).
 */
export const NON_HEAP_ALLOWANCE_MIB = 96;

/** Cloud Run's spelling of a memory limit in MiB. */
export const cloudRunMemory = (memoryMiB: number): string => `${memoryMiB}Mi`;

/**
 * The heap bound a NODE_OPTIONS value sets, MiB: the old generation
 * (`--max-old-space-size`) plus the young generation (3 x `--max-semi-space-size`:
 * two semi-spaces and the new large-object space); null for a flag it lacks.
 */
export function heapBoundMiB(nodeOptions: string): { oldSpace: number | null; semiSpace: number | null; total: number | null } {
  const flag = (name: string): number | null => {
    const matches = [...nodeOptions.matchAll(new RegExp(`(?:^|\\s)--${name}[=\\s](\\d+)(?=\\s|$)`, 'g'))];
    // As Node reads them: the last one wins.
    const last = matches.at(-1);
    return last ? Number(last[1]) : null;
  };
  const oldSpace = flag('max-old-space-size');
  const semiSpace = flag('max-semi-space-size');
  return { oldSpace, semiSpace, total: oldSpace === null || semiSpace === null ? null : oldSpace + 3 * semiSpace };
}

/**
 * NODE_OPTIONS for a service run locally as its container runs it: its own
 * flags, then whatever NODE_OPTIONS the developer set (so `--inspect` can be
 * added, or a flag overridden: Node takes the last).
 */
export function serviceNodeOptions(service: RuntimeServiceName, inherited: string | undefined): string {
  return [ServiceRuntime[service].nodeOptions, inherited?.trim()].filter(Boolean).join(' ');
}
