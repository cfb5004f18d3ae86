import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@burnback/platform';
import { httpSender, testDeliveries, type Sender } from '@burnback/notifier';
import { DEFAULT_PROJECT, REPO_ROOT } from '../local-stack.js';

const HELP = `burnback notify test <destination>: send a test message to one of the config's notify: destinations

Sends what the notifier would send, marked as a test: PagerDuty gets a trigger and at
once its resolve (an alert that opens and closes), Slack, Google Chat and webhooks one
message (a webhook's signed as the notifier signs it). Prints each answer the
destination gave; exits 1 when one was not a 2xx. Never prints URLs, routing keys or
secrets.

Environment: BURNBACK_CONFIG (default config/local.yaml), the \${VAR}s its notify: block
reads, GOOGLE_CLOUD_PROJECT (default ${DEFAULT_PROJECT}).`;

export async function runNotify(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  send: Sender = httpSender,
  now = new Date(),
): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    out(HELP);
    return 0;
  }
  const [sub, name, ...extra] = positionals;
  if (sub !== 'test' || name === undefined || extra.length > 0) {
    process.stderr.write(`usage: burnback notify test <destination>\n\n${HELP}\n`);
    return 2;
  }
  const config = loadConfig(
    {
      ...env,
      GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT || DEFAULT_PROJECT,
      BURNBACK_CONFIG: env.BURNBACK_CONFIG || resolve(REPO_ROOT, 'config/local.yaml'),
    },
    { resolveNotify: true },
  );
  const destination = config.notify.find((d) => d.name === name);
  if (!destination) {
    const known = config.notify.map((d) => d.name);
    process.stderr.write(
      `no notify destination named '${name}' in ${config.configPath}${known.length ? ` (it names ${known.join(', ')})` : ' (it has no notify: block)'}\n`,
    );
    return 1;
  }
  let ok = true;
  for (const planned of testDeliveries(destination, now)) {
    const answer = await send(planned, AbortSignal.timeout(30_000));
    const good = answer.status !== null && answer.status >= 200 && answer.status < 300;
    ok &&= good;
    out(
      `${destination.name} (${destination.kind}) ${planned.action}: ${
        answer.status === null
          ? `no answer: ${answer.error ?? 'unknown error'}`
          : `HTTP ${answer.status}${answer.answer ? ` ${answer.answer}` : ''}`
      }`,
    );
  }
  return ok ? 0 : 1;
}
