import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { LOCAL_MANAGEMENT_TOKEN, localPorts } from '../local-stack.js';

const HELP = `burnback approve <decision id>: approve a recommendation, so it becomes a rollback

A service in mode recommend gets decisions with action recommend: Cloud Deploy's
validate_only check proved the rollback would be accepted, and nothing changed.
Approving one asks ingest (POST /decisions/<id>/approve) to turn it into a rollback.
The decider judges it again now: the pause, freeze windows, the fleet breaker, the
rate limit and the cooldown apply unless --force; the incident must still be open,
the recommendation no older than policy.approvalTtlMinutes (30), and the rollout it
saw still serving. However often it is approved, and by whom, it is one rollback.

Options:
  --reason TEXT    why, for the audit trail (required)
  --by NAME        who approves (default: your user name, $USER)
  --force          bypass pause, freeze, breaker, rate limit and cooldown (saying so)
  --wait SECONDS   how long to wait for the decider's answer (default 20; 0: do not wait)
  --json           print the answers as one JSON document

Exits 0 when a rollback is ordered (or the decider has not answered within --wait),
1 when the approval is refused (by ingest or by the decider), 2 on a usage error.

Environment: INGEST_URL (default http://127.0.0.1:<BURNBACK_DEV_PORT_BASE or 8080>, the
'npm start' stack) and BURNBACK_MANAGEMENT_TOKEN (default the local stack's token).`;

/** Who approves by default: the user name, when it is one the route takes (letters, digits, spaces, ._@+-). */
export function defaultApprover(env: NodeJS.ProcessEnv): string | null {
  let name = env.USER ?? env.USERNAME;
  if (!name) {
    try {
      name = userInfo().username;
    } catch {
      return null;
    }
  }
  return /^[\p{L}\p{N} ._@+-]{1,120}$/u.test(name) ? name : null;
}

/** The route's answer to an approval (202 accepted, or 200: already approved by the same person for the same reason). */
export interface ApprovalAnswer {
  status: 'accepted' | 'already-approved';
  approves: string;
  service: string;
  incidentId: string;
  approvedBy: string;
  reason: string;
  force: boolean;
  approvedAt: string;
  decisionId: string;
  statusPath: string;
}

/** The decision the approval came to, as GET /rollback/status answers it. */
export interface ApprovalOutcome {
  rollbackId: string | null;
  status: string;
  decision: { decisionId: string; action: string; reason: string } | null;
}

/** One line on the approval itself. */
export function describeApproval(a: ApprovalAnswer): string {
  const who = `${a.approvedBy}${a.force ? ' (force)' : ''}: ${a.reason}`;
  return a.status === 'accepted'
    ? `approved ${a.approves} (${a.service}, incident ${a.incidentId}) by ${who}; the decider judges it again now (decision ${a.decisionId})`
    : `${a.approves} was already approved by ${who} at ${a.approvedAt}; nothing new was asked (decision ${a.decisionId})`;
}

/** The decider's answer, in one line, and whether it is a refusal. */
export function describeOutcome(o: ApprovalOutcome): { line: string; refused: boolean } {
  const d = o.decision!;
  if (d.action === 'rollback') return { line: `rollback ${o.rollbackId} ordered (${o.status}): ${d.reason}`, refused: false };
  return { line: `refused by the decider (${d.action}): ${d.reason}`, refused: true };
}

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
}
const processIo: Io = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** `burnback approve <decision id> --reason TEXT [--by NAME] [--force] [--wait S] [--json]`. */
export async function runApprove(args: string[], env: NodeJS.ProcessEnv = process.env, io: Io = processIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        reason: { type: 'string' },
        by: { type: 'string' },
        force: { type: 'boolean', default: false },
        wait: { type: 'string', default: '20' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const usage = (problem: string) => {
    io.err(`${problem} (burnback approve --help)`);
    return 2;
  };
  if (positionals.length !== 1) return usage('give one decision id: burnback approve <decision id> --reason TEXT');
  const waitSeconds = Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0)
    return usage(`--wait must be a number of seconds, 0 or more (got '${values.wait}')`);
  if (!values.reason) return usage('--reason is required: say why, for the audit trail');
  const id = positionals[0]!;
  const by = values.by ?? defaultApprover(env);

  const base = (env.INGEST_URL ?? `http://127.0.0.1:${localPorts(env).ingest}`).replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${env.BURNBACK_MANAGEMENT_TOKEN ?? LOCAL_MANAGEMENT_TOKEN}` };
  const query = new URLSearchParams({ reason: values.reason, ...(by ? { by } : {}), ...(values.force ? { force: 'true' } : {}) });
  const call = async (method: 'GET' | 'POST', path: string) => {
    const res = await fetch(`${base}${path}`, { method, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  let approved;
  try {
    approved = await call('POST', `/decisions/${encodeURIComponent(id)}/approve?${query.toString()}`);
  } catch (err) {
    io.err(`cannot reach ingest at ${base}: ${(err as Error).message} (is 'npm start' running? INGEST_URL says where)`);
    return 1;
  }
  if (approved.status !== 200 && approved.status !== 202) {
    const error = approved.body.error as { message?: string } | undefined;
    const message = `refused (${approved.status}): ${error?.message ?? JSON.stringify(approved.body)}`;
    if (values.json) io.out(JSON.stringify({ approval: approved.body, status: approved.status }));
    else io.err(message);
    return 1;
  }
  const answer = approved.body as unknown as ApprovalAnswer;
  if (!values.json) io.out(describeApproval(answer));

  // The decider judges the approval again: wait for its decision, to say what came of it.
  const deadline = Date.now() + waitSeconds * 1000;
  let outcome: ApprovalOutcome | null = null;
  while (waitSeconds > 0) {
    const read = await call('GET', answer.statusPath).catch(() => null);
    if (read?.status === 200 && (read.body as unknown as ApprovalOutcome).decision) {
      outcome = read.body as unknown as ApprovalOutcome;
      break;
    }
    if (Date.now() >= deadline) break;
    await io.sleep(500);
  }
  if (values.json) io.out(JSON.stringify({ approval: answer, outcome }));
  if (!outcome) {
    if (waitSeconds > 0 && !values.json) io.out(`not decided within ${waitSeconds} s: follow it with GET ${answer.statusPath}`);
    return 0;
  }
  const { line, refused } = describeOutcome(outcome);
  if (!values.json) (refused ? io.err : io.out)(line);
  return refused ? 1 : 0;
}
