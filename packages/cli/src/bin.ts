import { runApprove } from './commands/approve.js';
import { runDev } from './commands/dev.js';
import { runExport } from './commands/export.js';
import { runNotify } from './commands/notify.js';
import { runReplay } from './commands/replay.js';
import { runRollback } from './commands/rollback.js';
import { runSimulate } from './commands/simulate.js';
import { runDecisions } from './commands/decisions.js';
import { runStatus } from './commands/status.js';
import { runTopology } from './commands/topology.js';
import { runTrigger } from './commands/trigger.js';

const USAGE = `burnback <command> [options]

Commands:
  dev        run the whole system locally: emulators, topics, gcp-sim, ingest, decider, executor, notifier
  trigger    = simulate burn (npm run trigger): api-backend burns and is rolled back; --via webhook, --service S
  topology   create Burnback's topics and subscriptions on the Pub/Sub emulator
  status     per service: mode, what serves, cooldown, rollbacks in the last hour, in flight, last decision
  decisions  recent decisions with their verdicts (--service S, --since 2h); --follow streams new ones
  rollback   one rollback's timeline: rollback <rollback id> (decision, accepted, started, phases, outcome)
  approve    approve a recommendation (mode recommend) so it rolls back: approve <decision id> --reason TEXT [--force]
  export     an incident, a service over a time range, or everything, as NDJSON for replay
  replay     re-run an export through the decision engine; --policy F for a what-if
  simulate   play a scenario (scenarios/*.yaml) against the running stack, printing its timeline
  notify     notify test <destination>: send a test message to a notify: destination, print its answer

Run 'burnback <command> --help' for a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev':
      return runDev(rest);
    case 'trigger':
      return runTrigger(rest);
    case 'topology':
      return runTopology(rest);
    case 'status':
      return runStatus(rest);
    case 'decisions':
      return runDecisions(rest);
    case 'rollback':
      return runRollback(rest);
    case 'approve':
      return runApprove(rest);
    case 'export':
      return runExport(rest);
    case 'replay':
      return runReplay(rest);
    case 'notify':
      return runNotify(rest);
    case 'simulate':
      return runSimulate(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`burnback: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
