import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CloudDeployClient } from '@google-cloud/deploy';
import { PubSub } from '@google-cloud/pubsub';
import { GcpSimControl } from '@burnback/gcp-sim';
import { createDeployClient } from '@burnback/platform';
import { DEFAULT_PROJECT, LOCAL_WEBHOOK_TOKEN, localPorts, REPO_ROOT } from '../local-stack.js';
import { alertmanagerChannel, pubsubChannel, Vias, webhookChannel, type Via } from '../simulate/channels.js';
import { Simulation } from '../simulate/player.js';
import { loadScenario, type Scenario } from '../simulate/scenario.js';
import { openStore } from './status.js';

export const SCENARIOS_DIR = join(REPO_ROOT, 'scenarios');

/** The committed scenarios, by name, with what each shows (for --help). */
function committedScenarios(): string {
  try {
    return readdirSync(SCENARIOS_DIR)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => {
        const name = f.replace(/\.yaml$/, '');
        const scenario = loadScenario(join(SCENARIOS_DIR, f));
        return `  ${name.padEnd(17)} ${scenario.description}${scenario.continues ? ` (after ${scenario.continues})` : ''}`;
      })
      .join('\n');
  } catch (err) {
    return `  (cannot list scenarios/: ${(err as Error).message})`;
  }
}

const help = () => `burnback simulate <scenario>: play a scenario against a running 'npm start' stack

<scenario> is a name from scenarios/ or the path of a scenario file of your own
(copy one and edit it). Prints a timeline as it happens; exits 1 when an
expectation is not met. Each expects a fresh stack (restart 'npm start'), except
one that continues another: play it right after that one.

${committedScenarios()}

Options:
  --via pubsub|webhook|alertmanager
                        how notifications reach ingest: Monitoring's Pub/Sub channel (monitoring-incidents,
                        the default), its webhook channel (POST /webhook/error-budget-alert), or Prometheus
                        Alertmanager's webhook (POST /webhook/alertmanager: each burn an error-ratio alert
                        named by burnback_service, on the service's signals.errorRatio.prometheusMetrics)
  --service NAME        play it on another service of the config (default: the scenario's own)
  --run ID              a name for this run (default: random); incident ids are 0.sim-<run>-<name>

Environment: GOOGLE_CLOUD_PROJECT (default ${DEFAULT_PROJECT}), PUBSUB_EMULATOR_HOST (127.0.0.1:8085),
FIRESTORE_EMULATOR_HOST (127.0.0.1:8086), CLOUD_DEPLOY_ENDPOINT (127.0.0.1:8087), BURNBACK_CONFIG,
INGEST_URL (http://127.0.0.1:8080) and BURNBACK_WEBHOOK_TOKEN (${LOCAL_WEBHOOK_TOKEN}) for --via webhook and alertmanager,
GCP_SIM_CONTROL_URL (http://127.0.0.1:8088, gcp-sim's control endpoint) for fail steps.`;

/** gRPC's ALREADY_EXISTS, as Cloud Deploy's client (and gcp-sim behind it) answers a release or rollout id that is taken. */
const ALREADY_EXISTS = 6;

/**
 * What `simulate` says when a scenario stops on an error that is not an unmet
 * expectation. A release or rollout id that is taken means the scenario already
 * ran on this stack: gcp-sim keeps its Cloud Deploy state for as long as it
 * runs, so only a restarted stack can play it again. Anything else most likely
 * means the stack is not up.
 */
export function simulateFailure(err: unknown, scenario: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (code === ALREADY_EXISTS || code === 'ALREADY_EXISTS' || message.includes('ALREADY_EXISTS'))
    return [
      `simulate: ${message}`,
      `the scenario's releases already exist in this stack's Cloud Deploy (gcp-sim keeps them for as long as 'npm start' runs),`,
      `so '${scenario}' has already been played on this stack: restart the stack (stop 'npm start' with Ctrl-C and run`,
      `'npm start' again) to play it again.`,
    ].join('\n');
  return `simulate: ${message} (is 'npm start' running?)`;
}

export async function runSimulate(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        via: { type: 'string', default: Vias.pubsub },
        service: { type: 'string' },
        run: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${help()}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${help()}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`give one scenario: burnback simulate <scenario>\n\n${help()}\n`);
    return 2;
  }
  if (!(values.via in Vias)) {
    const names = Object.keys(Vias);
    process.stderr.write(`--via must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)} (got '${values.via}')\n`);
    return 2;
  }
  const via = values.via as Via;
  const arg = positionals[0]!;
  const path = existsSync(arg) ? arg : join(SCENARIOS_DIR, `${arg}.yaml`);
  let scenario: Scenario;
  try {
    scenario = loadScenario(path);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const { config, db } = openStore(env);
  const serviceName = values.service ?? scenario.service;
  const service = config.services.get(serviceName);
  if (!service) {
    process.stderr.write(
      `${values.service ? '--service names' : 'the scenario names'} service ${serviceName}, which the config does not (it names ${[...config.services.keys()].join(', ')})\n`,
    );
    await db.terminate();
    return 2;
  }
  const ports = localPorts(env);
  const pubsub = new PubSub({ projectId: config.projectId, apiEndpoint: env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085', emulatorMode: true });
  const ingestUrl = env.INGEST_URL ?? `http://127.0.0.1:${ports.ingest}`;
  const token = env.BURNBACK_WEBHOOK_TOKEN ?? LOCAL_WEBHOOK_TOKEN;
  const channel =
    via === Vias.webhook
      ? webhookChannel(ingestUrl, token)
      : via === Vias.alertmanager
        ? alertmanagerChannel(ingestUrl, token, service)
        : pubsubChannel(pubsub);
  const control = new GcpSimControl(env.GCP_SIM_CONTROL_URL ?? `http://127.0.0.1:${ports.gcpSimControl}`);
  let deploy: CloudDeployClient | undefined;
  try {
    deploy = createDeployClient({
      projectId: config.projectId,
      cloudDeployEndpoint: env.CLOUD_DEPLOY_ENDPOINT ?? `127.0.0.1:${ports.gcpSim}`,
    });
    const run = values.run ?? randomBytes(3).toString('hex');
    const ok = await new Simulation({ ...scenario, service: serviceName }, service, {
      db,
      deploy,
      channel,
      control,
      run,
      out: (l) => process.stdout.write(`${l}\n`),
    }).play();
    return ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${simulateFailure(err, arg)}\n`);
    return 1;
  } finally {
    await pubsub.close();
    await deploy?.close();
    await db.terminate();
  }
}
