// Records a shard's inputs (stryker.inputs.<shard>.json) as they were at a commit, for a
// baseline built by a run that started from that commit before the run recorded its inputs
// itself (scripts/mutation.mjs writes the record at the end of every run it starts). The
// StrykerJS options and shard lists are read from the working tree.
//   node scripts/mutation-record-inputs.mjs <shard> [<commit>, default HEAD]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { SHARDS } from '../stryker.config.mjs';
import { inputsFileOf, inputsOf, inShard, strykerOptionsOf } from './mutation-inputs.mjs';

const [shard, commit = 'HEAD'] = process.argv.slice(2);
if (!(shard in SHARDS)) {
  console.error(`usage: node scripts/mutation-record-inputs.mjs <${Object.keys(SHARDS).join('|')}> [commit]`);
  process.exit(2);
}
const git = (...args) => execFileSync('git', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
const read = (file) => {
  try {
    return git('show', `${commit}:${file}`);
  } catch {
    return null;
  }
};
const inputs = inputsOf(shard, {
  listFiles: () => git('ls-tree', '-r', '--name-only', commit).split('\n').filter(Boolean),
  inShard,
  read,
  strykerOptions: await strykerOptionsOf(shard),
});
writeFileSync(inputsFileOf(shard), JSON.stringify(inputs, null, 2) + '\n');
console.log(`${inputsFileOf(shard)}: the ${shard} shard's inputs at ${commit} (${Object.keys(inputs.files).length} files)`);
