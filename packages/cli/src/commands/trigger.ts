import { runSimulate } from './simulate.js';

/** The scenario `trigger` plays: the simplest one, a burn (scenarios/burn.yaml). */
export const TRIGGER_SCENARIO = 'burn';

const HELP = `burnback trigger (npm run trigger): burnback simulate ${TRIGGER_SCENARIO}, the simplest scenario

Plays scenarios/${TRIGGER_SCENARIO}.yaml against the running 'npm start' stack: api-backend burns its
error budget now (an open incident, error ratio 2.5 %, threshold 1 %), Burnback blames the
release serving production (rel-002 on a fresh stack) and rolls production back to rel-001.
Prints the timeline; exits 1 when Burnback decides otherwise (the timeline says why: on a
stack that already rolled back, the burn escalates, since production serves the release
Burnback returned to). What it does lives in the scenario file: edit a copy of it and run
'burnback simulate ./mine.yaml'.

Options (those of burnback simulate):
  --via pubsub|webhook|alertmanager
                        Monitoring's Pub/Sub channel (default), its webhook channel
                        (POST /webhook/error-budget-alert on ingest), or Alertmanager's
                        webhook (POST /webhook/alertmanager)
  --webhook             the same as --via webhook
  --service NAME        burn another service of the config, e.g. checkout
  --run ID              incident ids are 0.sim-<run>-burn (default: random)

Replaced: --state closed|below and --incident ID. A close or a burn under the threshold is a
step of a scenario ('close: { incident: burn }', 'burn: { incident: burn, errorRatio: 0.005 }'):
copy scenarios/${TRIGGER_SCENARIO}.yaml, add it, and run 'burnback simulate ./mine.yaml'; --run ID names the incidents.

Environment: as for burnback simulate (burnback simulate --help).`;

/** Options trigger had before it became an alias, and what replaced them. */
const REPLACED: Record<string, string> = {
  '--state': `--state is replaced by scenario steps: copy scenarios/${TRIGGER_SCENARIO}.yaml, add '- close: { incident: burn }' (closed) or give the burn 'errorRatio: 0.005' (below), and run 'burnback simulate ./mine.yaml'`,
  '--incident': `--incident is replaced by --run ID: the incident is 0.sim-<run>-burn`,
};

/** `burnback trigger [options]` = `burnback simulate burn [options]`; --webhook is kept as --via webhook. */
export async function runTrigger(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const replaced = args.map((a) => a.split('=')[0]!).find((a) => a in REPLACED);
  if (replaced) {
    process.stderr.write(`${REPLACED[replaced]}\n`);
    return 2;
  }
  return runSimulate([TRIGGER_SCENARIO, ...args.flatMap((a) => (a === '--webhook' ? ['--via', 'webhook'] : [a]))], env);
}
