// `npm run test:mutation`: StrykerJS over each shard of the pure core (stryker.config.mjs),
// one after the other, then the gate (scripts/mutation-score.mjs: 90 % per file, 93 % in
// total) over the shards that ran. Other arguments go to StrykerJS (e.g. --force).
//   npm run test:mutation [-- --shard decision] [-- --budget-seconds 2700] [-- --force] [-- --require-verified]
//
// Each shard's baseline is kept with the hashes of what it silently depends on (stryker.inputs.<shard>.json,
// scripts/mutation-inputs.mjs): when one changed, the shard runs in full (--force).
//
// --budget-seconds bounds the whole run (CI's time is finite): a shard still running when
// the budget is spent is stopped, and it and the shards after it are reported as not
// verified, with what to do, instead of failing the build on time. A shard whose committed
// baseline is current takes minutes; one whose baseline is stale re-runs every changed mutant.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { inputChanges, inputsFileOf, inputsOf, inShard, listRepositoryFiles, strykerOptionsOf } from './mutation-inputs.mjs';
import { SHARDS } from '../stryker.config.mjs';

/**
 * StrykerJS keeps, in a shard's report and incremental file, the results of files
 * it did not mutate this run (from the baseline it started from). Keep the shard's
 * own files only, so the gate reads each file's result from its own shard's run.
 */
const keepShardFiles = (shard, path) => {
  if (!existsSync(path)) return;
  const json = JSON.parse(readFileSync(path, 'utf8'));
  json.files = Object.fromEntries(Object.entries(json.files ?? {}).filter(([file]) => inShard(shard, file)));
  writeFileSync(path, path.startsWith('stryker.') ? JSON.stringify(json, null, 2) + '\n' : JSON.stringify(json));
};

const args = process.argv.slice(2);
const take = (name) => {
  const at = args.indexOf(name);
  if (at === -1) return undefined;
  const value = args[at + 1];
  args.splice(at, 2);
  return value;
};
let shards = Object.keys(SHARDS);
const only = take('--shard');
if (only !== undefined) {
  if (!(only in SHARDS)) {
    console.error(`--shard must be one of ${shards.join(', ')} (got ${only})`);
    process.exit(2);
  }
  shards = [only];
}
// --require-verified (CI): a shard that could not be verified in the budget fails the run, rather than passing on
// a stale baseline; the fix is to run the shard locally and commit its refreshed baseline.
const requireVerified = args.includes('--require-verified');
if (requireVerified) args.splice(args.indexOf('--require-verified'), 1);
const budgetText = take('--budget-seconds');
const budgetMs = budgetText === undefined ? Infinity : Number(budgetText) * 1000;
if (!(budgetMs > 0)) {
  console.error(`--budget-seconds must be a number of seconds above 0 (got ${budgetText})`);
  process.exit(2);
}

/** Runs StrykerJS on one shard in its own process group; resolves to its exit code, or 'out of time'. */
const runShard = (shard, timeLeftMs, extra) =>
  new Promise((resolve) => {
    const child = spawn('npx', ['stryker', 'run', ...args, ...extra], {
      stdio: 'inherit',
      detached: true,
      env: { ...process.env, BURNBACK_MUTATION_SHARD: shard },
    });
    let timedOut = false;
    const timer = Number.isFinite(timeLeftMs)
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid, 'SIGKILL'); // StrykerJS and its test runner processes
          } catch {
            /* already gone */
          }
        }, timeLeftMs)
      : null;
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve(timedOut ? 'out of time' : (code ?? signal));
    });
  });

const started = Date.now();
const ran = [];
const unverified = [];
let failed = false;
for (const shard of shards) {
  const left = budgetMs - (Date.now() - started);
  if (left <= 0) {
    unverified.push(shard);
    continue;
  }
  console.log(`::group::mutation testing: the ${shard} shard`);
  // What the incremental baseline cannot see (fixtures, helpers, imported modules, configs, tool versions):
  // when any of it changed since the baseline was recorded, every mutant of the shard is tested again.
  const inputs = inputsOf(shard, { listFiles: listRepositoryFiles, inShard, strykerOptions: await strykerOptionsOf(shard) });
  const recorded = existsSync(inputsFileOf(shard)) ? JSON.parse(readFileSync(inputsFileOf(shard), 'utf8')) : null;
  const { force, notes } = inputChanges(recorded, inputs);
  const list = (lines) => `\n  ${lines.slice(0, 20).join('\n  ')}${lines.length > 20 ? `\n  … and ${lines.length - 20} more` : ''}`;
  if (notes.length > 0) console.log(`the ${shard} shard's inputs since its baseline (StrykerJS sees these itself):${list(notes)}`);
  const forced = args.includes('--force') || force.length > 0;
  if (force.length > 0 && !args.includes('--force'))
    console.log(`the ${shard} shard's baseline was recorded with other inputs, so every mutant is tested again (--force):${list(force)}`);
  const t0 = Date.now();
  const result = await runShard(shard, left, forced && !args.includes('--force') ? ['--force'] : []);
  console.log(`the ${shard} shard: ${result === 0 ? 'done' : result} after ${Math.round((Date.now() - t0) / 1000)} s`);
  console.log('::endgroup::');
  if (result !== 'out of time') {
    keepShardFiles(shard, `reports/mutation/${shard}.json`);
    keepShardFiles(shard, `stryker.incremental.${shard}.json`);
  }
  if (result === 'out of time') unverified.push(shard);
  else if (result !== 0) {
    console.error(`StrykerJS failed on the ${shard} shard (exit ${result})`);
    failed = true;
  } else {
    ran.push(shard);
    // The baseline now matches these inputs (read before the run: a file edited meanwhile forces the next run).
    writeFileSync(inputsFileOf(shard), JSON.stringify(inputs, null, 2) + '\n');
  }
}
if (unverified.length > 0 && requireVerified) failed = true;
if (unverified.length > 0)
  (requireVerified ? console.error : console.warn)(
    `NOT VERIFIED: the ${unverified.join(', ')} shard(s) did not finish within the ${budgetMs / 1000} s budget, so their ` +
      `committed baseline (stryker.incremental.<shard>.json) is stale. Run \`npm run test:mutation -- --shard <shard>\` ` +
      `locally and commit the updated baseline; until then those files are not held by the gate.`,
  );
if (ran.length > 0) {
  const gate = await new Promise((resolve) => {
    const child = spawn('node', ['scripts/mutation-score.mjs', ...ran.map((s) => `reports/mutation/${s}.json`)], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
  if (gate !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
