import { parseArgs } from 'node:util';
import { DEFAULT_PROJECT, LOCAL_WEBHOOK_TOKEN, startLocalStack } from '../local-stack.js';
import { watchStarters } from '../processes.js';

/** The last line of the banner `burnback dev` prints once everything listens: who waits for the stack waits for this line. */
export const DEV_READY_LINE = 'Press Ctrl-C to stop everything this started.';

const HELP = `burnback dev: run the whole Burnback system locally (what 'npm start' runs)

Starts (or reuses, when PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST answer)
the gcloud Pub/Sub (8085) and Firestore (8086) emulators, creates the topics and
subscriptions, starts gcp-sim (Cloud Deploy, 8087; its control endpoint, through
which scenarios fail rollbacks, on 127.0.0.1:8088) and ingest (8080), decider
(8081), executor (8082) and notifier (8083; it delivers to the config's notify:
destinations, if any). Ctrl-C, SIGTERM or SIGHUP (a closed terminal) stops
everything it started, and so does the end of the npm that started it. A port
that is taken is reported with the process that holds it.

Options:
  --json               print the services' log lines as raw JSON (piped output stays human otherwise)
  --rollout-step-ms N  how long each rollout state lasts in gcp-sim (default 1000)

Environment: GOOGLE_CLOUD_PROJECT (default ${DEFAULT_PROJECT}), BURNBACK_CONFIG
(default config/local.yaml), BURNBACK_WEBHOOK_TOKEN, GCP_SIM_PORT, GCP_SIM_CONTROL_PORT,
BURNBACK_DEV_PORT_BASE (ingest's port; decider, executor and notifier take the next three).`;

export async function runDev(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false }, 'rollout-step-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  process.env.METADATA_SERVER_DETECTION = 'none';
  const projectId = process.env.GOOGLE_CLOUD_PROJECT || DEFAULT_PROJECT;
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const stack = await startLocalStack({
    projectId,
    env: process.env,
    print,
    pretty: !values.json,
    colour: process.stdout.isTTY === true,
    ...(values['rollout-step-ms'] ? { rolloutStepMs: Number(values['rollout-step-ms']) } : {}),
  });

  print('');
  print(`Burnback is running locally (project ${projectId}):`);
  for (const [part, where] of Object.entries(stack.endpoints)) print(`  ${part.padEnd(30)} ${where}`);
  print('');
  print(
    `Webhook: POST ${stack.endpoints['ingest (HTTP front door)']}/webhook/error-budget-alert?auth_token=${process.env.BURNBACK_WEBHOOK_TOKEN ? '<BURNBACK_WEBHOOK_TOKEN>' : LOCAL_WEBHOOK_TOKEN}`,
  );
  print(`From another terminal: npm run trigger (a rollback), then the README's walk-through; npm run burnback -- simulate --help`);
  print(DEV_READY_LINE);
  print('');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (code: number, why: string) => {
      if (stopping) return;
      stopping = true;
      print(`burnback  stopping (${why})…`);
      await stack.stop();
      print('burnback  stopped');
      resolve(code);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void shutdown(0, signal));
    // Killed with its npm (SIGKILL, or a signal npm does not pass on): nobody could stop the stack any more, so stop it now.
    const unwatch = watchStarters(() => void shutdown(1, 'the npm that started it is gone'));
    void stack.crashed.finally(unwatch);
    void stack.crashed.then(({ service, code }) => shutdown(1, `${service} exited with code ${code}`));
  });
}
