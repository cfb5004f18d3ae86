import { rollbackIdFor, rolloutIdFor } from '@burnback/contracts';
import {
  chaosHappened,
  checkProperties,
  expectedActions,
  InputKinds,
  mostInAnyHour,
  settledProperty,
  type ChaosInput,
  type ChaosService,
  type InputKind,
  type Observed,
  type ObservedDecision,
} from './properties.js';
import type { WorkerExit } from './supervisor.js';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const MIN = 60_000;

const services: ChaosService[] = [
  { name: 'sole', pipeline: 'sole-pipeline', maxRollbacksPerHour: 3, cooldownMinutes: 30 },
  { name: 'contended', pipeline: 'contended-pipeline', maxRollbacksPerHour: 1, cooldownMinutes: 0 },
];
const input = (id: string, kind: InputKind, service: string | null, incidentId: string | null): ChaosInput => ({
  id,
  kind,
  service,
  incidentId,
  decisionId: service === null ? null : `dec-${id}`,
  bytes: Buffer.from(id),
  copies: 1,
});
const inputs: ChaosInput[] = [
  input('sole/burn', InputKinds.burn, 'sole', '0.sole-burn'),
  input('sole/renotify', InputKinds.renotify, 'sole', '0.sole-burn'),
  input('sole/calm', InputKinds.calm, 'sole', '0.sole-calm'),
  input('contended/burn-0', InputKinds.burn, 'contended', '0.c-0'),
  input('contended/burn-1', InputKinds.burn, 'contended', '0.c-1'),
  input('invalid-0/invalid-json', InputKinds.invalidJson, null, null),
  input('invalid-1/unmapped', InputKinds.unmapped, null, '0.nobody-1'),
];
const decision = (inputId: string, action: string, reason = 'because'): ObservedDecision => {
  const i = inputs.find((x) => x.id === inputId)!;
  return {
    decisionId: i.decisionId!,
    incidentId: i.incidentId!,
    service: i.service!,
    action,
    reason,
    rollbackId: action === 'rollback' ? rollbackIdFor(i.incidentId!) : null,
  };
};
const rollout = (incidentId: string, pipeline: string, minutes = 0) => ({
  name: `projects/p/locations/l/deliveryPipelines/${pipeline}/releases/rel-001/rollouts/${rolloutIdFor(rollbackIdFor(incidentId))}`,
  pipeline,
  rolloutId: rolloutIdFor(rollbackIdFor(incidentId)),
  createdAt: T0 + minutes * MIN,
  state: 'SUCCEEDED',
});
/** A run that did everything right: the sole burn and the first contended burn rolled back, the rest refused. */
const good = (): Observed => ({
  rollouts: [rollout('0.sole-burn', 'sole-pipeline'), rollout('0.c-1', 'contended-pipeline')],
  decisions: [
    decision('sole/burn', 'rollback'),
    decision('sole/renotify', 'hold'),
    decision('sole/calm', 'hold'),
    decision('contended/burn-0', 'hold', 'no rollback: 1 rollback(s) of contended in the last hour; the limit is 1'),
    decision('contended/burn-1', 'rollback'),
  ],
  rollbacks: [
    { rollbackId: rollbackIdFor('0.sole-burn'), incidentId: '0.sole-burn', service: 'sole', status: 'succeeded', tracked: false },
    { rollbackId: rollbackIdFor('0.c-1'), incidentId: '0.c-1', service: 'contended', status: 'succeeded', tracked: false },
  ],
  deadLetters: [
    { input: 'invalid-0/invalid-json', reason: 'not JSON', source: 'burnback-ingest' },
    { input: 'invalid-0/invalid-json', reason: 'not JSON', source: 'burnback-ingest' },
  ],
});
const check = (observed: Observed) => checkProperties(services, inputs, observed);
const violationsOf = (observed: Observed, index: number) => check(observed)[index]!.violations;

describe('the chaos properties', () => {
  it('a run that did everything right passes every property, with its figures', () => {
    const results = check(good());
    expect(results.map((r) => [r.passed, r.summary])).toEqual([
      [true, '2 qualifying incident(s) (one per burning service), 2 rollback rollout(s) in gcp-sim'],
      [true, 'most rollbacks in any hour, per service: sole 1/3, contended 1/1'],
      [true, '5 distinct valid notification(s), 5 decision(s): 3 hold, 2 rollback'],
      [true, '2 rollback record(s): 2 succeeded'],
      [true, '1 unreadable input(s), 2 dead letter(s) (one per copy delivered)'],
    ]);
  });

  it('a qualifying incident with no rollout is named, with what its decisions said', () => {
    const observed = { ...good(), rollouts: [rollout('0.c-1', 'contended-pipeline')] };
    expect(violationsOf(observed, 0)).toEqual([
      'incident 0.sole-burn (service sole) qualifies but has no rollback rollout in gcp-sim; 0.sole-burn: rollback (because); hold (because)',
      'incident 0.sole-burn (service sole): decided rollback, but gcp-sim has no rollout for it',
    ]);
  });

  it('two rollouts for one incident, or a rollout for each of two contended incidents, break exactly-once', () => {
    const doubled = { ...good(), rollouts: [...good().rollouts, { ...rollout('0.sole-burn', 'sole-pipeline', 1), name: 'second' }] };
    expect(violationsOf(doubled, 0)).toEqual([
      expect.stringMatching(/^incident 0.sole-burn \(service sole\): 2 rollback rollouts in gcp-sim \(.*, second\)$/),
    ]);
    const both = { ...good(), rollouts: [...good().rollouts, rollout('0.c-0', 'contended-pipeline', 5)] };
    expect(violationsOf(both, 0)).toEqual([
      'service contended: 2 of its incidents were rolled back (0.c-0, 0.c-1); only the first decided qualifies',
    ]);
    // ... which also takes the contended service over its rate limit.
    expect(violationsOf(both, 1)).toEqual(['service contended: 2 rollback rollouts within one hour, over its maxRollbacksPerHour of 1']);
  });

  it('no contended incident rolled back is named by service, with each decision', () => {
    const observed = { ...good(), rollouts: [rollout('0.sole-burn', 'sole-pipeline')] };
    expect(violationsOf(observed, 0)).toEqual([
      'service contended: none of its 2 burning incidents was rolled back (one qualifies: the first decided); 0.c-0: hold (no rollback: 1 rollback(s) of contended in the last hour; the limit is 1) | 0.c-1: rollback (because)',
      'incident 0.c-1 (service contended): decided rollback, but gcp-sim has no rollout for it',
    ]);
  });

  it('a rollout of an incident that never burned, on the wrong pipeline, or of nothing the suite sent is named', () => {
    const observed = {
      ...good(),
      rollouts: [
        ...good().rollouts,
        rollout('0.sole-calm', 'contended-pipeline'),
        { ...rollout('0.other', 'sole-pipeline'), rolloutId: 'burnback-rb-x', name: 'x' },
      ],
    };
    expect(violationsOf(observed, 0)).toEqual([
      'incident 0.sole-calm (service sole): its rollout is on contended-pipeline, not sole-pipeline',
      expect.stringMatching(/^incident 0.sole-calm \(service sole\) never burned over its bar, yet was rolled back/),
      'service sole: 2 of its incidents were rolled back (0.sole-burn, 0.sole-calm); only the first decided qualifies',
      'rollout x: a rollback of no incident the suite sent',
    ]);
  });

  it.each([
    [[], 0],
    [[0], 1],
    [[0, 59, 60, 61], 3],
    [[0, 60, 120], 1],
    [[120, 0, 30, 119], 2],
    [[0, 10, 20, 30, 69], 4],
  ])('the most rollouts in any hour of %j minutes is %i', (minutes, most) => {
    expect(mostInAnyHour(minutes.map((m) => T0 + m * MIN))).toBe(most);
  });

  it('a valid notification without a decision, decided against its kind, or a decision of nothing sent is named', () => {
    const observed = good();
    observed.decisions = observed.decisions.filter((d) => d.decisionId !== 'dec-sole/calm');
    observed.decisions.push({ ...decision('sole/renotify', 'ignore'), decisionId: 'dec-stray' });
    observed.decisions[1] = decision('sole/renotify', 'ignore', 'ignore: odd');
    expect(violationsOf(observed, 2)).toEqual([
      'renotify notification sole/renotify (incident 0.sole-burn, service sole): decided ignore, expected rollback or hold or escalate (ignore: odd)',
      'calm notification sole/calm (incident 0.sole-calm, service sole): no decision',
      'decision dec-stray (incident 0.sole-burn, service sole) answers no notification the suite sent',
    ]);
  });

  it.each([
    [InputKinds.burn, ['rollback', 'hold', 'escalate']],
    [InputKinds.renotify, ['rollback', 'hold', 'escalate']],
    [InputKinds.calm, ['hold']],
    [InputKinds.closed, ['hold']],
    [InputKinds.unsupported, ['ignore']],
    [InputKinds.invalidJson, []],
    [InputKinds.notANotification, []],
    [InputKinds.unmapped, []],
  ])('a %s notification may be decided %j', (kind, actions) => {
    expect(expectedActions(kind)).toEqual(actions);
  });

  it('a rollback decided but unrecorded, not succeeded, or still tracked is named', () => {
    const observed = good();
    observed.rollbacks = [{ ...observed.rollbacks[1]!, status: 'started', tracked: true }];
    expect(violationsOf(observed, 3)).toEqual([
      `incident 0.sole-burn (service sole): rollback ${rollbackIdFor('0.sole-burn')} was decided but never recorded by an executor`,
      `incident 0.c-1 (service contended): rollback ${rollbackIdFor('0.c-1')} is started and still tracked, not succeeded`,
    ]);
  });

  it('an invalid input never dead-lettered, a valid one dead-lettered, and a stranger are named with who dead-lettered them', () => {
    const observed = good();
    observed.deadLetters = [
      { input: 'sole/calm', reason: 'a stored document is invalid', source: 'burnback-decider' },
      { input: null, reason: 'unknown event type', source: 'burnback-executor' },
      { input: 'invalid-1/unmapped', reason: 'no configured service', source: 'burnback-ingest' },
    ];
    expect(violationsOf(observed, 4)).toEqual([
      'invalid-json input invalid-0/invalid-json was never dead-lettered',
      'valid calm notification sole/calm (incident 0.sole-calm, service sole) was dead-lettered by burnback-decider: a stored document is invalid',
      'a message of no input the suite sent was dead-lettered by burnback-executor: unknown event type',
      'readable unmapped notification invalid-1/unmapped (incident 0.nobody-1, service null) was dead-lettered by burnback-ingest: no configured service',
    ]);
  });
});

describe('the chaos happened', () => {
  const exit = (overrides: Partial<WorkerExit>): WorkerExit => ({
    worker: 'decider-1',
    pid: 42,
    code: null,
    signal: 'SIGKILL',
    at: T0,
    cause: 'chaos',
    point: 'decided-before-publish',
    lastLines: [],
    ...overrides,
  });
  const restart = { from: T0 + 10 * MIN, to: T0 + 10 * MIN + 5_000 };
  const everyPoint = [
    exit({}),
    exit({ worker: 'executor-1', point: 'rollback-target-before-record' }),
    exit({ worker: 'executor-2', point: 'tracking-before-record' }),
    exit({ worker: 'ingest', point: 'archived-before-publish' }),
    exit({ worker: 'decider-2', cause: 'killed-by-suite', point: null, at: restart.from + 1_000 }),
  ];

  it('passes with a kill at every point, and a fatal exit in the minute after the restart', () => {
    const result = chaosHappened(
      [...everyPoint, exit({ cause: 'fatal', signal: null, code: 1, point: null, at: restart.to + 59_000 })],
      restart,
      true,
    );
    expect(result).toMatchObject({
      passed: true,
      summary:
        'kills: archived-before-publish 1, decided-before-publish 1, rollback-target-before-record 1, tracking-before-record 1; killed during the emulator restart: decider-2; exits on the emulator restart: 1',
    });
  });

  it('names a point no process was killed at, and an exit nobody explains', () => {
    const result = chaosHappened(
      [
        everyPoint[0]!,
        everyPoint[1]!,
        everyPoint[3]!,
        // Killed by the suite, but before the emulator went down: not a kill during the restart.
        exit({ worker: 'decider-2', cause: 'killed-by-suite', point: null, at: restart.from - 1 }),
        exit({ worker: 'ingest', cause: 'unexplained', signal: null, code: 1, point: null, lastLines: ['{"message":"boom"}'] }),
        exit({ worker: 'executor-2', cause: 'fatal', signal: null, code: 1, point: null, at: restart.to + 61_000 }),
      ],
      restart,
      true,
    );
    expect(result.violations).toEqual([
      'no process was killed at tracking-before-record: that boundary went untested',
      'no worker was killed while the Pub/Sub emulator restarted',
      'ingest (pid 42) exited (code 1) with no kill and no emulator restart to explain it; its last lines: {"message":"boom"}',
      'executor-2 (pid 42) exited (code 1) with no kill and no emulator restart to explain it; its last lines: ',
    ]);
  });

  it('settling is a property too: what was still owed, and undrained queues', () => {
    expect(settledProperty([], true)).toMatchObject({ passed: true, violations: [] });
    expect(settledProperty(['2 rollback(s) not final'], false).violations).toEqual([
      '2 rollback(s) not final',
      'the markers sent behind every service did not all come out',
    ]);
  });
});
