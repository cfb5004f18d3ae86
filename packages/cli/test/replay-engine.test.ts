import {
  DEFAULT_POLICY,
  EVIDENCE_VERSION,
  PolicySettings,
  policyHashOf,
  rollbackIdFor,
  type DecisionRecord,
  type RollbackProgress,
} from '@burnback/contracts';
import { decide, initialServiceState } from '@burnback/policy';
import { alertEvent, blamedTarget } from '@burnback/testkit/fixtures';
import { formatTimeline, formatWhatIf, replayRecorded, replayWhatIf } from '../src/replay/engine';
import { compareLines, readExport, writeExport, type ExportLine } from '../src/replay/format';

const T0 = '2026-11-26T10:00:00.000Z';
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

/** A decision record as the decider writes it: decided on its evidence, by the same engine. */
function recorded(incidentId: string, minutes: number, state = initialServiceState('api-backend')): DecisionRecord {
  const alert = alertEvent(incidentId, { startedAt: at(minutes - 5), observedAt: at(minutes) });
  const target = blamedTarget(alert.startedAt);
  const d = decide(state, alert, DEFAULT_POLICY, null, target, null, {});
  return {
    decisionId: `dec-${incidentId}`,
    incidentId,
    service: 'api-backend',
    incidentState: 'open',
    action: d.action,
    reason: d.reason,
    verdicts: d.verdicts,
    decidedAt: d.decidedAt,
    alertEventId: alert.notificationId,
    rollbackId: d.action === 'rollback' ? rollbackIdFor(incidentId) : null,
    target: { project: 'p', region: 'us-central1', pipeline: 'api-backend-pipeline', target: 'production' },
    confidence: d.confidence,
    cause: d.cause,
    monitoring: null,
    controls: { pause: null, acknowledgement: null, evaluatedAt: null },
    fleet: null,
    redecisionOf: null,
    redecideAt: null,
    evidence: {
      version: EVIDENCE_VERSION,
      alert,
      notificationId: alert.notificationId,
      policy: DEFAULT_POLICY,
      policyHash: policyHashOf(DEFAULT_POLICY),
      state,
      incident: null,
      target,
    },
  };
}
const line = (d: DecisionRecord): ExportLine => ({ kind: 'decision', at: d.decidedAt, id: d.decisionId, data: d });

describe('the export format', () => {
  it('orders by event time, then what arrived before what was decided, done and reported, then id', () => {
    const d = recorded('0.a', 0);
    const lines: ExportLine[] = [
      line({ ...d, decisionId: 'dec-b' }),
      line({ ...d, decisionId: 'dec-a' }),
      {
        kind: 'notification',
        at: d.decidedAt,
        id: 'n',
        data: { id: 'n', source: 'pubsub', receivedAt: d.decidedAt, incidentId: '0.a', state: 'open', raw: '{}', messageId: null },
      },
      line({ ...d, decisionId: 'dec-early', decidedAt: at(-1) }),
    ];
    expect([...lines].sort(compareLines).map((l) => l.id)).toEqual(['dec-early', 'n', 'dec-a', 'dec-b']);
  });

  it('writes canonical NDJSON with a header that counts each kind, and reads it back', () => {
    const text = writeExport({ project: 'p', selection: { incident: '0.a' } }, [line(recorded('0.a', 0))]);
    const [head, first] = text.trim().split('\n');
    expect(head).toBe('{"counts":{"decision":1},"kind":"burnback-export","project":"p","selection":{"incident":"0.a"},"version":1}');
    expect(Object.keys(JSON.parse(first!) as object)).toEqual(['at', 'data', 'id', 'kind']);
    expect(readExport(text).lines).toHaveLength(1);
    // The same records in another order: the same bytes.
    const two = [line(recorded('0.a', 0)), line(recorded('0.b', 1))];
    expect(writeExport({ project: 'p', selection: {} }, [...two].reverse())).toBe(writeExport({ project: 'p', selection: {} }, two));
  });

  it('names the line at fault', () => {
    expect(() => readExport('')).toThrow('empty file: expected a Burnback export (NDJSON, a header line first)');
    expect(() => readExport('{"kind":"burnback-export","version":9,"project":"p","selection":{},"counts":{}}')).toThrow(
      /^line 1: not a Burnback export header \(version: .*\); this reader knows versions 1 to 1$/,
    );
    const head = '{"kind":"burnback-export","version":1,"project":"p","selection":{},"counts":{}}';
    expect(() => readExport(`${head}\nnot json`)).toThrow(/^line 2: not JSON/);
    expect(() => readExport(`${head}\n{"kind":"decision","at":"x","id":"d","data":{}}`)).toThrow(/^line 2: data\.decisionId: /);
  });
});

describe('replay', () => {
  it('reproduces decisions from their evidence, and marks what differs from the record', () => {
    const rollback = recorded('0.a', 0);
    const result = replayRecorded([line(rollback), line({ ...recorded('0.b', 1), action: 'hold' })]);
    expect(result.decisions.map((d) => d.differences)).toEqual([[], ['action']]);
    const text = formatTimeline(result);
    expect(text).toContain(`${T0}  api-backend    ROLLBACK  0.a  roll back: error ratio 2.5 %`);
    expect(text).toMatch(/^ {2}≠ recorded: HOLD {2}roll back: .*\(differs in action\)$/m);
    expect(text.trim().split('\n').at(-1)).toBe('2 decision(s) replayed, 1 differs from the recorded ones');
  });

  it('skips, and says so, decisions recorded before evidence was kept', () => {
    const result = replayRecorded([line({ ...recorded('0.a', 0), evidence: null })]);
    expect(result).toEqual({ decisions: [], skipped: [{ decisionId: 'dec-0.a', why: 'recorded before decisions kept their evidence' }] });
    expect(formatTimeline(result)).toBe(
      '  skipped dec-0.a: recorded before decisions kept their evidence\n0 decision(s) replayed, 0 differ from the recorded ones, 1 skipped\n',
    );
  });

  it('a what-if re-folds the service history: a skipped rollback frees the cooldown for the next burn, which it then adds', () => {
    const first = recorded('0.a', 0);
    // Recorded: the second burn 10 min later was held by the cooldown of the first rollback.
    const afterFirst = {
      ...initialServiceState('api-backend'),
      recentRollbacks: [{ rollbackId: first.rollbackId!, decidedAt: T0, outcome: null, finishedAt: null }],
    };
    const second = recorded('0.b', 10, afterFirst);
    expect(second.action).toBe('hold');
    const lines = [line(first), line(second)];
    // Same policy: nothing changes.
    const same = replayWhatIf(lines, () => DEFAULT_POLICY);
    expect(same.decisions.every((d) => d.differences.length === 0)).toBe(true);
    // A stricter confidence bar (the burn is blamed at 0.925): the first rollback is skipped, and the second burn escalates.
    const strict = PolicySettings.parse({ ...DEFAULT_POLICY, minConfidence: 0.95 });
    const whatIf = replayWhatIf(lines, () => strict);
    expect(whatIf.skippedRollbacks.map((d) => d.incidentId)).toEqual(['0.a']);
    expect(whatIf.addedRollbacks).toEqual([]);
    expect(whatIf.decisions[1]!.replayed.action).toBe('escalate');
    expect(formatWhatIf(whatIf)).toBe(
      `- would skip the rollback of api-backend for incident 0.a (${T0}): ${whatIf.decisions[0]!.replayed.reason}\nwhat-if: 1 rollback(s) skipped, 0 added; 2 of 2 decision(s) change action\n`,
    );
    // A looser cooldown: the second burn is added.
    const loose = PolicySettings.parse({ ...DEFAULT_POLICY, cooldownMinutes: 5 });
    expect(replayWhatIf(lines, () => loose).addedRollbacks.map((d) => d.incidentId)).toEqual(['0.b']);
  });

  it('a recorded outcome applies only to a rollback the what-if also orders', () => {
    const first = recorded('0.a', 0);
    const progress: RollbackProgress = {
      rollbackId: first.rollbackId!,
      decisionId: first.decisionId,
      incidentId: '0.a',
      service: 'api-backend',
      target: 'production',
      stage: 'succeeded',
      sequence: 3,
      rolloutName: null,
      releaseId: 'rel-001',
      detail: '',
      at: at(40),
    };
    const afterFirst = {
      ...initialServiceState('api-backend'),
      recentRollbacks: [{ rollbackId: first.rollbackId!, decidedAt: T0, outcome: 'succeeded' as const, finishedAt: at(40) }],
    };
    const second = recorded('0.b', 50, afterFirst);
    const lines: ExportLine[] = [line(first), { kind: 'progress', at: at(40), id: 'p', data: { eventId: 'p', progress } }, line(second)];
    // Recorded: the cooldown counted from the finish at 40 min, so the burn at 50 min was held.
    expect(second.action).toBe('hold');
    expect(replayWhatIf(lines, () => DEFAULT_POLICY).decisions.every((d) => d.differences.length === 0)).toBe(true);
  });
});

describe('replay in any time zone', () => {
  it('a weekly freeze in a zone a day ahead of UTC replays the same in every process time zone', () => {
    // Thursday 10:00 UTC is Friday 00:00 in Pacific/Kiritimati (UTC+14): frozen there on Fridays.
    const policy = PolicySettings.parse({
      ...DEFAULT_POLICY,
      freeze: [{ days: ['fri'], start: '00:00', end: '06:00', timeZone: 'Pacific/Kiritimati' }],
    });
    const base = recorded('0.tz', 0);
    const d = decide(base.evidence!.state!, base.evidence!.alert, policy, null, base.evidence!.target, null, {});
    expect(d.action).toBe('escalate');
    const record: DecisionRecord = {
      ...base,
      action: d.action,
      reason: d.reason,
      verdicts: d.verdicts,
      rollbackId: null,
      evidence: { ...base.evidence!, policy },
    };
    const saved = process.env.TZ;
    const outputs: string[] = [];
    try {
      for (const tz of ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Kolkata']) {
        process.env.TZ = tz;
        outputs.push(formatTimeline(replayRecorded([line(record)])));
      }
    } finally {
      process.env.TZ = saved;
    }
    expect(new Set(outputs).size).toBe(1);
    expect(outputs[0]).toContain('ESCALATE  0.tz  escalate: weekly freeze fri 00:00–06:00 Pacific/Kiritimati is in force');
    expect(outputs[0]).toContain('0 differ from the recorded ones');
  });
});
