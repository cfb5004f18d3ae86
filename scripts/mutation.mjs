// `npm run test:mutation`: StrykerJS over each shard of the pure core (stryker.config.mjs),
// one after the other, then the gate (scripts/mutation-score.mjs: 90 % per file, 93 % in
// total, over both shards' reports). Extra arguments go to StrykerJS (e.g. --force).
//   npm run test:mutation [-- --shard decision] [-- --force]
import { spawnSync } from 'node:child_process';
import { SHARDS } from '../stryker.config.mjs';

const args = process.argv.slice(2);
let shards = Object.keys(SHARDS);
const at = args.indexOf('--shard');
if (at !== -1) {
  const wanted = args[at + 1];
  if (!(wanted in SHARDS)) {
    console.error(`--shard must be one of ${shards.join(', ')} (got ${wanted})`);
    process.exit(2);
  }
  shards = [wanted];
  args.splice(at, 2);
}
let failed = false;
for (const shard of shards) {
  console.log(`::group::mutation testing: the ${shard} shard`);
  const started = Date.now();
  const run = spawnSync('npx', ['stryker', 'run', ...args], { stdio: 'inherit', env: { ...process.env, BURNBACK_MUTATION_SHARD: shard } });
  console.log(`the ${shard} shard took ${Math.round((Date.now() - started) / 1000)} s`);
  console.log('::endgroup::');
  if (run.status !== 0) {
    console.error(`StrykerJS failed on the ${shard} shard (exit ${run.status ?? run.signal})`);
    failed = true;
  }
}
const gate = spawnSync('node', ['scripts/mutation-score.mjs', ...shards.map((s) => `reports/mutation/${s}.json`)], {
  stdio: 'inherit',
});
process.exit(failed || gate.status !== 0 ? 1 : 0);
