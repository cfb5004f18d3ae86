import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@burnback/platform';
import { formatTimeline, formatWhatIf, replayRecorded, replayWhatIf } from '../replay/engine.js';
import { readExport } from '../replay/format.js';
import { differingOf, formatThroughPipeline } from '../replay/pipeline-report.js';
import { replayThroughPipeline } from '../replay/pipeline.js';
import { REPO_ROOT } from '../local-stack.js';
import { resolve } from 'node:path';
import { createLogger } from '@burnback/platform';

const REPLAY_HELP = `burnback replay <file>: re-run an export's decisions through the decision engine

Prints the decision timeline, marking every decision that differs from the
recorded one; exits 1 when any differs. Each decision is re-run on exactly what
it read (its evidence). Deterministic: the same file gives the same output on
any machine, in any time zone.

Options:
  --policy FILE   a what-if: replay under the policy of this Burnback config file
                  (same format as config/local.yaml) and print which rollbacks it
                  would have skipped and which added, and why (exits 0)
  --through-pipeline
                  replay the raw notifications through the real services (ingest,
                  decider, executor) on fresh Pub/Sub and Firestore emulators and a
                  gcp-sim whose deploy history is restored from the file, on the
                  recorded timeline, and check that the same decisions and rollbacks
                  come out (exits 1 when they do not); needs the gcloud emulators
  --config FILE   with --through-pipeline: the Burnback config the recording was made
                  with (default BURNBACK_CONFIG, else config/local.yaml); each
                  service's policy comes from the file
  --verbose       with --through-pipeline: the services' logs on standard error
  --json          one JSON document instead of text
  --progress      report progress on standard error (on by default on a terminal)`;

export async function runReplay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      'through-pipeline': { type: 'boolean', default: false },
      config: { type: 'string' },
      verbose: { type: 'boolean', default: false },
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

  if (values['through-pipeline']) {
    if (values.policy !== undefined) {
      process.stderr.write('--through-pipeline replays under the recorded policies; a what-if (--policy) runs in-process only\n');
      return 2;
    }
    const configPath = values.config ?? process.env.BURNBACK_CONFIG ?? resolve(REPO_ROOT, 'config/local.yaml');
    let result;
    try {
      result = await replayThroughPipeline(exported.header, exported.lines, {
        configPath,
        progress: (line) => process.stderr.write(`replay: ${line}\n`),
        ...(values.verbose ? { logger: createLogger('replay', { stream: process.stderr }) } : {}),
      });
    } catch (err) {
      process.stderr.write(`cannot replay ${positionals[0]} through the pipeline: ${(err as Error).message}\n`);
      return 2;
    }
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatThroughPipeline(result));
    return differingOf(result) > 0 ? 1 : 0;
  }

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
  const result = replayWhatIf(exported.lines, (service) => config.services.get(service)?.policy ?? config.policy, progress);
  process.stdout.write(
    values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatTimeline(result, 'recorded')}${formatWhatIf(result)}`,
  );
  return 0;
}
