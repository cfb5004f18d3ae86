/**
 * fast-check runs the same cases on every run of a commit: the seed is fixed
 * (FAST_CHECK_SEED below, changed only by a commit), so a property that kills a
 * mutant kills it every time and StrykerJS's incremental baseline stays true.
 * A failure prints its seed and path (fast-check's own message); rerun with
 * FC_SEED=<seed> to reproduce one from elsewhere, or try other cases with a new
 * FC_SEED. FC_NUM_RUNS raises the runs of properties that do not set their own.
 */
import fc from 'fast-check';

export const FAST_CHECK_SEED = 20261206;

const seed = process.env.FC_SEED === undefined ? FAST_CHECK_SEED : Number(process.env.FC_SEED);
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer (got ${process.env.FC_SEED})`);
const numRuns = process.env.FC_NUM_RUNS === undefined ? 100 : Number(process.env.FC_NUM_RUNS);
if (!Number.isSafeInteger(numRuns) || numRuns < 1)
  throw new Error(`FC_NUM_RUNS must be a whole number above 0 (got ${process.env.FC_NUM_RUNS})`);

fc.configureGlobal({ seed, numRuns });
