import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServiceCompiler, type ServiceCompiler } from '../dev-build.js';
import { debounceRestarts, restartQueue } from '../dev-watch.js';
import {
  DEFAULT_PROJECT,
  LOCAL_MANAGEMENT_TOKEN,
  LOCAL_WEBHOOK_TOKEN,
  REPO_ROOT,
  SERVICES,
  startLocalStack,
  type LocalStack,
  type ServiceName,
} from '../local-stack.js';
import { watchStarters } from '../processes.js';

/** The last line of the banner `burnback dev` prints once everything listens: who waits for the stack waits for this line. */
export const DEV_READY_LINE = 'Press Ctrl-C to stop everything this started.';

/** How long after a build no other build must come before the services it changed are restarted. */
const RESTART_QUIET_MS = 300;

const HELP = `burnback dev: run the whole Burnback system locally (what 'npm start' runs)

Starts (or reuses, when PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST answer)
the gcloud Pub/Sub (8085) and Firestore (8086) emulators, creates the topics and
subscriptions, starts gcp-sim (Cloud Deploy, 8087; its control endpoint, through
which scenarios fail rollbacks, on 127.0.0.1:8088) and ingest (8080), decider
(8081), executor (8082) and notifier (8083; it delivers to the config's notify:
destinations, if any).

The services run as their containers run them: compiled (tsc -b, incremental,
as npm run build; about 20 s on a fresh clone, a second or two after) and
with their image's NODE_OPTIONS (the heap bound of ServiceRuntime in
packages/platform; a NODE_OPTIONS you set is added after it). tsc keeps
watching their sources: a service whose compiled code (or a package's it
loads) changed is restarted, and says so.

Ctrl-C, SIGTERM or SIGHUP (a closed terminal) stops
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

  // Services whose compiled code changed are restarted one at a time each, once builds have settled.
  let stack: LocalStack | undefined;
  let stopping = false;
  const changedBeforeUp = new Set<ServiceName>();
  const restarts = restartQueue(
    (service) => stack!.restart(service as ServiceName),
    (service, err) => {
      if (stopping) return;
      print(
        err
          ? `burnback  ${service} did not start again after a change (${err.message}); it restarts on the next change`
          : `burnback  ${service} restarted after a change`,
      );
    },
  );
  const debounced = debounceRestarts(RESTART_QUIET_MS, (services) => {
    for (const service of services) {
      if (stack) restarts.request(service);
      else changedBeforeUp.add(service as ServiceName);
    }
  });
  let compiler: ServiceCompiler | undefined;
  const compile = async () => {
    compiler = startServiceCompiler({ services: SERVICES, print, onChange: (services) => debounced.add(services) });
    const { errors, ms } = await compiler.firstBuild;
    const missing = SERVICES.map((s) => `services/${s}/dist/main.js`).filter((f) => !existsSync(join(REPO_ROOT, f)));
    if (missing.length > 0) throw new Error(`tsc did not emit ${missing.join(', ')}: fix the errors above`);
    print(
      `burnback  services compiled (tsc -b, ${(ms / 1000).toFixed(1)} s${errors > 0 ? `, ${errors} error(s) above: running what tsc emitted` : ''}); watching their sources`,
    );
  };
  const stopCompiling = async () => {
    debounced.cancel();
    await compiler?.stop();
  };

  try {
    stack = await startLocalStack({
      projectId,
      env: process.env,
      print,
      pretty: !values.json,
      colour: process.stdout.isTTY === true,
      ...(values['rollout-step-ms'] ? { rolloutStepMs: Number(values['rollout-step-ms']) } : {}),
      // As the containers run them: compiled JavaScript, the image's Node flags.
      compiled: true,
      heapBound: true,
      prepare: compile,
    });
  } catch (err) {
    await stopCompiling();
    throw err;
  }
  for (const service of changedBeforeUp) restarts.request(service);
  const running = stack;

  print('');
  print(`Burnback is running locally (project ${projectId}):`);
  for (const [part, where] of Object.entries(running.endpoints)) print(`  ${part.padEnd(30)} ${where}`);
  print('');
  print(
    `Webhook: POST ${running.endpoints['ingest (HTTP front door)']}/webhook/error-budget-alert?auth_token=${process.env.BURNBACK_WEBHOOK_TOKEN ? '<BURNBACK_WEBHOOK_TOKEN>' : LOCAL_WEBHOOK_TOKEN}`,
  );
  print(
    `Console: ${running.endpoints['ingest (HTTP front door)']}/console/ (log in with the management token: ${process.env.BURNBACK_MANAGEMENT_TOKEN ? '<BURNBACK_MANAGEMENT_TOKEN>' : LOCAL_MANAGEMENT_TOKEN})`,
  );
  print(`From another terminal: npm run trigger (a rollback), then the README's walk-through; npm run burnback -- simulate --help`);
  print(DEV_READY_LINE);
  print('');

  return new Promise<number>((resolve) => {
    const shutdown = async (code: number, why: string) => {
      if (stopping) return;
      stopping = true;
      print(`burnback  stopping (${why})…`);
      await stopCompiling();
      // A restart under way ends here too: the stack refuses to start a service while it stops.
      await running.stop();
      print('burnback  stopped');
      resolve(code);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void shutdown(0, signal));
    // Killed with its npm (SIGKILL, or a signal npm does not pass on): nobody could stop the stack any more, so stop it now.
    const unwatch = watchStarters(() => void shutdown(1, 'the npm that started it is gone'));
    void running.crashed.finally(unwatch);
    void running.crashed.then(({ service, code }) => shutdown(1, `${service} exited with code ${code}`));
  });
}
