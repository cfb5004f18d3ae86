// The mutation gate of the pure core, read from StrykerJS's JSON report: one line per
// file (with each survivor) and a total over every report given (one per shard).
// Exits non-zero when any gated file is below the per-file floor or the total below
// the total floor, so CI fails on a weak file even when the total hides it.
//   node scripts/mutation-score.mjs [report.json ...] [--file-floor 90] [--total-floor 93]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i === -1) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    console.error(`${name} must be a percentage from 0 to 100 (got ${args[i + 1]})`);
    process.exit(2);
  }
  args.splice(i, 2);
  return value;
};
// The floors: 90 % per file and 93 % in total; MUTATION_FILE_FLOOR / MUTATION_TOTAL_FLOOR (or the flags) override them.
const fromEnv = (name, fallback) => (process.env[name] === undefined ? fallback : Number(process.env[name]));
const fileFloor = option('--file-floor', fromEnv('MUTATION_FILE_FLOOR', 90));
const totalFloor = option('--total-floor', fromEnv('MUTATION_TOTAL_FLOOR', 93));
for (const [name, value] of [
  ['file', fileFloor],
  ['total', totalFloor],
])
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    console.error(`the ${name} floor must be a percentage from 0 to 100 (got ${value})`);
    process.exit(2);
  }
const reportPaths = args.length ? args : ['decision', 'ingest', 'contracts'].map((s) => `reports/mutation/${s}.json`);

const files = {};
for (const reportPath of reportPaths) {
  try {
    Object.assign(files, JSON.parse(readFileSync(reportPath, 'utf8')).files);
  } catch (err) {
    console.error(`no mutation report at ${reportPath} (did StrykerJS finish?): ${err.message}`);
    process.exit(1);
  }
}
const detected = new Set(['Killed', 'Timeout']);
const counted = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);
let totalDetected = 0;
let totalCounted = 0;
const rows = [];
const below = [];
for (const [file, { mutants }] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
  const d = mutants.filter((m) => detected.has(m.status)).length;
  const c = mutants.filter((m) => counted.has(m.status)).length;
  totalDetected += d;
  totalCounted += c;
  const score = c ? (100 * d) / c : 100;
  const weak = score < fileFloor;
  if (weak) below.push(`${file} ${score.toFixed(1)} %`);
  rows.push(`${weak ? '✗' : ' '} ${file}: ${score.toFixed(1)} % (${d}/${c})`);
  for (const m of mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
    rows.push(`    ${m.status.toLowerCase()}: ${m.mutatorName} at line ${m.location.start.line}: ${JSON.stringify(m.replacement ?? '')}`);
  }
}
const total = totalCounted ? (100 * totalDetected) / totalCounted : 100;
console.log(rows.join('\n'));
console.log(
  `mutation score of the pure core: ${total.toFixed(2)} % (${totalDetected} of ${totalCounted} mutants detected; ` +
    `floors: ${fileFloor} % per file, ${totalFloor} % in total)`,
);
let failed = false;
if (below.length) {
  console.error(`below ${fileFloor} % per file: ${below.join(', ')} (their survivors are listed above)`);
  failed = true;
}
if (total < totalFloor) {
  console.error(`the total ${total.toFixed(2)} % is below ${totalFloor} %`);
  failed = true;
}
process.exit(failed ? 1 : 0);
