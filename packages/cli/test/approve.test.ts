import { defaultApprover, describeApproval, describeOutcome, runApprove, type ApprovalAnswer } from '../src/commands/approve';
import { formatDecision } from '../src/commands/status';

const ID = 'dec-0123456789abcdef01234567';
const ANSWER: ApprovalAnswer = {
  status: 'accepted',
  approves: ID,
  service: 'api-backend',
  incidentId: '0.rec',
  approvedBy: 'alice',
  reason: 'bad canary',
  force: false,
  approvedAt: '2026-11-26T10:00:00.000Z',
  decisionId: 'dec-approval00000000000000000',
  statusPath: '/rollback/status/dec-approval00000000000000000',
};
const ENV = { INGEST_URL: 'http://ingest.test/', BURNBACK_MANAGEMENT_TOKEN: 'secret-token', USER: 'alice' };

/** Runs `burnback approve` against answers given in order (fetch is stubbed), capturing its lines. */
async function approve(args: string[], answers: Array<[number, unknown] | Error>, env: NodeJS.ProcessEnv = ENV) {
  const calls: Array<{ url: string; method: string; auth: string }> = [];
  const fetchMock = jest.spyOn(global, 'fetch').mockImplementation(async (url, init) => {
    calls.push({
      // The command passes the URL as a string.
      url: url as string,
      method: init?.method ?? 'GET',
      auth: (init?.headers as Record<string, string>).authorization!,
    });
    const next = answers.shift();
    if (next === undefined) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return new Response(JSON.stringify(next[1]), { status: next[0] });
  });
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await runApprove(args, env, { out: (l) => out.push(l), err: (l) => err.push(l), sleep: async () => {} });
    return { code, out, err, calls };
  } finally {
    fetchMock.mockRestore();
  }
}

describe('burnback approve', () => {
  it('--help says what an approval does and what applies to it', async () => {
    const { code, out } = await approve(['--help'], []);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^burnback approve <decision id>: approve a recommendation, so it becomes a rollback/);
    for (const words of ['--reason TEXT', '--by NAME', '--force', '--wait SECONDS', 'approvalTtlMinutes (30)', 'INGEST_URL'])
      expect(out[0]).toContain(words);
  });

  it.each([
    [[], 'give one decision id: burnback approve <decision id> --reason TEXT (burnback approve --help)'],
    [[ID, 'dec-2', '--reason', 'x'], 'give one decision id: burnback approve <decision id> --reason TEXT (burnback approve --help)'],
    [[ID], '--reason is required: say why, for the audit trail (burnback approve --help)'],
    [[ID, '--reason', 'x', '--wait', 'soon'], "--wait must be a number of seconds, 0 or more (got 'soon') (burnback approve --help)"],
    [[ID, '--reason', 'x', '--wait=-1'], "--wait must be a number of seconds, 0 or more (got '-1') (burnback approve --help)"],
  ])('refuses %j before asking anything: %s', async (args, message) => {
    const { code, err, calls } = await approve(args, []);
    expect(code).toBe(2);
    expect(err).toEqual([message]);
    expect(calls).toEqual([]);
  });

  it('refuses an option it does not know, with the help', async () => {
    const { code, err } = await approve([ID, '--reason', 'x', '--now'], []);
    expect(code).toBe(2);
    expect(err[0]).toMatch(/Unknown option '--now'[\s\S]*burnback approve <decision id>/);
  });

  it("asks ingest's route with the management token, who and why, then prints what the decider made of it", async () => {
    const { code, out, err, calls } = await approve(
      [ID, '--reason', 'bad canary', '--force'],
      [
        [202, { ...ANSWER, force: true }],
        [404, { error: { code: 'not-found', message: 'no rollback' } }],
        [
          200,
          { rollbackId: 'rb-1', status: 'ordered', decision: { decisionId: 'd', action: 'rollback', reason: 'roll back: approval: …' } },
        ],
      ],
    );
    expect(code).toBe(0);
    expect(calls[0]).toEqual({
      url: `http://ingest.test/decisions/${ID}/approve?reason=bad+canary&by=alice&force=true`,
      method: 'POST',
      auth: 'Bearer secret-token',
    });
    expect(calls.slice(1).map((c) => [c.method, c.url])).toEqual([
      ['GET', 'http://ingest.test/rollback/status/dec-approval00000000000000000'],
      ['GET', 'http://ingest.test/rollback/status/dec-approval00000000000000000'],
    ]);
    expect(out).toEqual([
      `approved ${ID} (api-backend, incident 0.rec) by alice (force): bad canary; the decider judges it again now (decision dec-approval00000000000000000)`,
      'rollback rb-1 ordered (ordered): roll back: approval: …',
    ]);
    expect(err).toEqual([]);
  });

  it('exits 1 with the reason when ingest refuses, or when the decider does', async () => {
    const refused = await approve(
      [ID, '--reason', 'x', '--by', 'bob'],
      [[410, { error: { code: 'gone', message: `recommendation ${ID} could be approved until …` } }]],
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([`refused (410): recommendation ${ID} could be approved until …`]);
    expect(refused.calls[0]!.url).toBe(`http://ingest.test/decisions/${ID}/approve?reason=x&by=bob`);

    const held = await approve(
      [ID, '--reason', 'x'],
      [
        [202, ANSWER],
        [
          200,
          {
            rollbackId: null,
            status: 'no-rollback',
            decision: { decisionId: 'd', action: 'hold', reason: 'no rollback: api-backend is paused' },
          },
        ],
      ],
    );
    expect(held.code).toBe(1);
    expect(held.err).toEqual(['refused by the decider (hold): no rollback: api-backend is paused']);
  });

  it('--wait 0 does not wait; an answer not in time says where to follow it; --json prints one document', async () => {
    const quick = await approve([ID, '--reason', 'x', '--wait', '0'], [[202, ANSWER]]);
    expect(quick.code).toBe(0);
    expect(quick.calls).toHaveLength(1);
    expect(quick.out).toHaveLength(1);

    const late = await approve([ID, '--reason', 'x', '--wait', '0.001'], [[202, ANSWER], new Error('reset'), [404, {}]]);
    expect(late.code).toBe(0);
    expect(late.out[1]).toBe('not decided within 0.001 s: follow it with GET /rollback/status/dec-approval00000000000000000');

    const json = await approve([ID, '--reason', 'x', '--wait', '0', '--json'], [[202, ANSWER]]);
    expect(json.out.map((l) => JSON.parse(l) as unknown)).toEqual([{ approval: ANSWER, outcome: null }]);
    const jsonRefused = await approve([ID, '--reason', 'x', '--json'], [[409, { error: { message: 'closed' } }]]);
    expect(jsonRefused.out.map((l) => JSON.parse(l) as unknown)).toEqual([{ approval: { error: { message: 'closed' } }, status: 409 }]);
  });

  it("says where it looked when ingest cannot be reached; without INGEST_URL, the local stack's port and token", async () => {
    const down = await approve([ID, '--reason', 'x'], [new Error('connect ECONNREFUSED')], {
      USER: 'alice',
      BURNBACK_DEV_PORT_BASE: '9100',
    });
    expect(down.code).toBe(1);
    expect(down.err).toEqual([
      "cannot reach ingest at http://127.0.0.1:9100: connect ECONNREFUSED (is 'npm start' running? INGEST_URL says where)",
    ]);
    expect(down.calls[0]!.auth).toBe('Bearer local-dev-management-token');
  });

  it('names the approver after the user, when the name is one the route takes', () => {
    expect(defaultApprover({ USER: 'alice' })).toBe('alice');
    expect(defaultApprover({ USERNAME: 'bob.smith' })).toBe('bob.smith');
    expect(defaultApprover({ USER: 'a/b' })).toBeNull();
  });

  it('describes an approval answered again as already approved, and a rollback ordered', () => {
    expect(describeApproval({ ...ANSWER, status: 'already-approved' })).toBe(
      `${ID} was already approved by alice: bad canary at 2026-11-26T10:00:00.000Z; nothing new was asked (decision dec-approval00000000000000000)`,
    );
    expect(
      describeOutcome({ rollbackId: 'rb-1', status: 'started', decision: { decisionId: 'd', action: 'rollback', reason: 'r' } }),
    ).toEqual({
      line: 'rollback rb-1 ordered (started): r',
      refused: false,
    });
    expect(
      describeOutcome({ rollbackId: null, status: 'no-rollback', decision: { decisionId: 'd', action: 'escalate', reason: 'e' } }),
    ).toEqual({
      line: 'refused by the decider (escalate): e',
      refused: true,
    });
  });
});

describe('a recommendation in burnback decisions says how to approve it', () => {
  const record = {
    decisionId: ID,
    incidentId: '0.rec',
    service: 'api-backend',
    incidentState: 'open',
    action: 'recommend' as const,
    reason: 'recommend a rollback (validate only): …',
    verdicts: [{ rule: 'mode' as const, passed: false, detail: 'mode recommend: …' }],
    decidedAt: '2026-11-26T10:00:00.000Z',
    alertEventId: 'e',
    rollbackId: 'rv-1',
    target: null,
    confidence: null,
    cause: null,
    monitoring: null,
    controls: null,
    fleet: null,
    evidence: null,
    redecisionOf: null,
    redecideAt: null,
    approvableUntil: '2026-11-26T10:30:00.000Z',
  };

  it('with its decision id, the command and the route, until when; other decisions say nothing of it', () => {
    expect(formatDecision(record).split('\n')).toEqual([
      '2026-11-26T10:00:00.000Z  api-backend  RECOMMEND  incident 0.rec',
      '  recommend a rollback (validate only): …',
      '  ✗ mode does not act',
      '  validation rv-1: npm run burnback -- rollback rv-1',
      `  approve before 2026-11-26T10:30:00.000Z to roll back: npm run burnback -- approve ${ID} --reason "…" (or POST /decisions/${ID}/approve?reason=… with the management token)`,
      '',
    ]);
    expect(formatDecision({ ...record, action: 'hold', approvableUntil: null, rollbackId: null })).not.toMatch(
      /approve|burnback -- rollback/,
    );
    expect(formatDecision({ ...record, action: 'rollback', approvableUntil: null, rollbackId: 'rb-7' })).toContain(
      '\n  rollback rb-7: npm run burnback -- rollback rb-7\n',
    );
  });
});
