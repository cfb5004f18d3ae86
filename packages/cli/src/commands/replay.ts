import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@burnback/platform';
import { formatTimeline, formatWhatIf, replayRecorded, replayWhatIf } from '../replay/engine.js';
import { readExport } from '../replay/format.js';

const REPLAY_HELP = `burnback replay <file>: re-run an export's decisions through the decision engine

Prints the decision timeline, marking every decision that differs from the
recorded one; exits 1 when any differs. Each decision is re-run on exactly what
it read (its evidence). Deterministic: the same file gives the same output on
any machine, in any time zone.

Options:
  --policy FILE   a what-if: replay under the policy of this Burnback config file
                  (same format as config/local.yaml) and print which rollbacks it
                  would have skipped and which added, and why (exits 0)
  --json          one JSON document instead of text
  --progress      report progress on standard error (on by default on a terminal)`;

export async function runReplay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${REPLAY_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write('give one export file: burnback replay <file> (see burnback export)\n');
    return 2;
  }
  let exported;
  try {
    exported = readExport(readFileSync(positionals[0]!, 'utf8'));
  } catch (err) {
    process.stderr.write(`cannot replay ${positionals[0]}: ${(err as Error).message}\n`);
    return 2;
  }
  const showProgress = values.progress || process.stderr.isTTY === true;
  let last = -1;
  const progress = showProgress
    ? (done: number, total: number) => {
        const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
        if (pct !== last && (pct % 10 === 0 || done === total)) {
          last = pct;
          process.stderr.write(`replay: ${done} of ${total} (${pct} %)\n`);
        }
      }
    : undefined;

  if (values.policy === undefined) {
    const result = replayRecorded(exported.lines, progress);
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatTimeline(result));
    return result.decisions.some((d) => d.differences.length > 0) ? 1 : 0;
  }

  let config;
  try {
    const project = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(exported.header.project) ? exported.header.project : 'burnback-replay';
    config = loadConfig({ GOOGLE_CLOUD_PROJECT: project, BURNBACK_CONFIG: values.policy });
  } catch (err) {
    process.stderr.write(`cannot read the what-if policy: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 2;
  }
  const result = replayWhatIf(exported.lines, (service) => config.services[service]?.policy ?? config.policy, progress);
  process.stdout.write(
    values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatTimeline(result, 'recorded')}${formatWhatIf(result)}`,
  );
  return 0;
}
