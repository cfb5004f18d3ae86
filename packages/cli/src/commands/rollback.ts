import { parseArgs } from 'node:util';
import { documentIdProblem } from '@burnback/contracts';
import { readRollback, rollbackPage } from '@burnback/ingest';
import { formatRollback } from '../rollback-text.js';
import { openStore, STORE_HELP } from './status.js';

const HELP = `burnback rollback <rollback id>: one rollback's timeline, as the console shows it

The rollback (rb-…; a validation's id starts with rv-), what it left and returned
to, its rollout, how long it took, the decision that ordered it; then every step
in time order: the decision, accepted, started, Cloud Deploy's notifications
about its rollout, the outcome; and the rollout's phases.
'burnback decisions' and 'burnback status' name the rollback ids.

Options:
  --json           the rollback page as one JSON document

${STORE_HELP}`;

/** `burnback rollback <id> [--json]`. */
export async function runRollback(args: string[], env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message} (burnback rollback --help)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write('give one rollback id: burnback rollback <rollback id> (burnback rollback --help)\n');
    return 2;
  }
  const id = positionals[0]!;
  const problem = documentIdProblem(id, 'a rollback id');
  if (problem !== null) {
    process.stderr.write(`${problem}\n`);
    return 2;
  }
  const { db } = openStore(env);
  try {
    const found = await readRollback(db, id, now);
    if (!found) {
      process.stderr.write(
        `no rollback ${JSON.stringify(id)} is on record (a rollback id starts with rb-, a validation's with rv-; 'burnback decisions' names them)\n`,
      );
      return 1;
    }
    const page = rollbackPage(found.rollback, found.decision, found.notices, now.getTime());
    process.stdout.write(values.json ? `${JSON.stringify(page, null, 2)}\n` : `${formatRollback(page)}\n`);
    return 0;
  } finally {
    await db.terminate();
  }
}
