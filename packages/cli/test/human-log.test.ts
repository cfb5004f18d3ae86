import { formatLogLine, shortResourceNames } from '../src/human-log';

const PIPELINE = 'projects/burnback-local/locations/us-central1/deliveryPipelines/api-backend';
const ROLLOUT = `${PIPELINE}/releases/rel-20261206-2/rollouts/rel-20261206-2-to-production-0001`;

describe('the terminal log', () => {
  const at = '2026-12-06T22:10:05.123Z';
  const line = (entry: object) => JSON.stringify({ severity: 'INFO', time: at, ...entry });

  it('starts each line with the time of the entry (UTC, to the millisecond)', () => {
    expect(formatLogLine('executor', line({ message: 'm' }), true)).toBe('22:10:05.123 executor  INFO     m');
    // A line with no time (or one that is not a time) is stamped when it is read.
    const now = new Date('2026-12-06T23:59:58.007Z');
    expect(formatLogLine('executor', JSON.stringify({ severity: 'INFO', message: 'm' }), true, false, now)).toBe(
      '23:59:58.007 executor  INFO     m',
    );
    expect(formatLogLine('executor', line({ message: 'm', time: 'soon' }), true, false, now)).toBe('23:59:58.007 executor  INFO     m');
    expect(formatLogLine('executor', line({ message: 'm', time: 17 }), true, false, now)).toBe('23:59:58.007 executor  INFO     m');
  });

  it('shows a dead letter with its reason, on one line', () => {
    expect(
      formatLogLine(
        'ingest',
        line({ severity: 'WARNING', message: 'message dead-lettered', event: 'dead_letter', reason: 'not JSON' }),
        true,
      ),
    ).toBe('22:10:05.123 ingest    WARNING  message dead-lettered (reason: not JSON)');
    expect(formatLogLine('ingest', line({ message: 'm', event: 'dead_letter' }), true)).toBe('22:10:05.123 ingest    INFO     m');
  });

  it('shows a decision with every verdict and its confidence, on one line', () => {
    const decision = line({
      message: 'decision for api-backend: roll back: error ratio 2.5 %',
      event: 'decision',
      verdicts: [
        { rule: 'enabled', passed: true },
        { rule: 'cooldown', passed: false },
      ],
      confidence: { value: 0.85 },
    });
    expect(formatLogLine('decider', decision, true)).toBe(
      '22:10:05.123 decider   INFO     decision for api-backend: roll back: error ratio 2.5 % [✓ enabled, ✗ in cooldown; confidence 0.85]',
    );
    expect(formatLogLine('decider', line({ message: 'm', event: 'decision', verdicts: [] }), true)).toBe(
      '22:10:05.123 decider   INFO     m []',
    );
    // A passed check reads as what was found: not paused, not "paused".
    const hold = line({
      message: 'decision for api-backend: hold',
      event: 'decision',
      verdicts: [
        { rule: 'acknowledged', passed: true, detail: 'incident 0.a is not acknowledged' },
        { rule: 'paused', passed: false, detail: 'api-backend is paused' },
      ],
    });
    expect(formatLogLine('decider', hold, true)).toBe(
      '22:10:05.123 decider   INFO     decision for api-backend: hold [✓ not acknowledged, ✗ paused]',
    );
    expect(formatLogLine('decider', line({ message: 'm', verdicts: [{ rule: 'enabled', passed: true }] }), true)).toBe(
      '22:10:05.123 decider   INFO     m',
    );
  });

  it('colours only for a terminal, prints JSON as it is when asked, and keeps lines that are not JSON', () => {
    const now = new Date(at);
    expect(formatLogLine('executor', line({ message: 'm' }), true, true)).toBe('22:10:05.123 executor  \x1b[36mINFO    \x1b[0m m');
    expect(formatLogLine('executor', line({ severity: 'ERROR', message: 'm' }), true, true)).toBe(
      '22:10:05.123 executor  \x1b[31mERROR   \x1b[0m m',
    );
    expect(formatLogLine('executor', line({ severity: 'NOTICE', message: 'm' }), true, true)).toBe(
      '22:10:05.123 executor  NOTICE  \x1b[0m m',
    );
    expect(formatLogLine('executor', line({ message: 'm' }), false)).toBe(line({ message: 'm' }));
    expect(formatLogLine('executor', 'plain text', true, false, now)).toBe('22:10:05.123 executor  plain text');
    expect(formatLogLine('executor', '42', true, false, now)).toBe('22:10:05.123 executor  42');
    expect(formatLogLine('executor', 'null', true, false, now)).toBe('22:10:05.123 executor  null');
    expect(formatLogLine('executor', JSON.stringify({ message: 'm', time: at }), true)).toBe('22:10:05.123 executor  DEFAULT  m');
    // An entry without a message shows the line itself.
    expect(formatLogLine('executor', JSON.stringify({ severity: 'INFO', time: at }), true)).toBe(
      `22:10:05.123 executor  INFO     ${JSON.stringify({ severity: 'INFO', time: at })}`,
    );
  });

  it('shows a line that is not what the logger writes as it is, and never throws on one', () => {
    const now = new Date(at);
    for (const odd of ['{"severity":5,"message":"m"}', '{"event":"decision","verdicts":[null,7],"message":"m"}', '[1,2]', '"text"'])
      expect(() => formatLogLine('decider', odd, true, false, now)).not.toThrow();
    expect(formatLogLine('decider', '{"severity":5,"message":"m"}', true, false, now)).toBe('22:10:05.123 decider   DEFAULT  m');
    expect(formatLogLine('decider', '{"event":"decision","verdicts":[null,7],"message":"m","time":"x"}', true, false, now)).toBe(
      '22:10:05.123 decider   DEFAULT  m []',
    );
    expect(formatLogLine('decider', '[1,2]', true, false, now)).toBe('22:10:05.123 decider   [1,2]');
    expect(formatLogLine('decider', '{"message":{"nested":true}}', true, false, now)).toBe(
      '22:10:05.123 decider   DEFAULT  {"message":{"nested":true}}',
    );
    expect(formatLogLine('decider', '{"severity":"toString","message":"m"}', true, true, now)).toBe(
      '22:10:05.123 decider   toString\x1b[0m m',
    );
    expect(formatLogLine('ingest', '{"event":"dead_letter","reason":{"x":1},"message":"m"}', true, false, now)).toBe(
      '22:10:05.123 ingest    DEFAULT  m',
    );
  });

  it('names a rollout by its pipeline and id, so a line about one fits a terminal', () => {
    const entry = line({ message: `rollout ${ROLLOUT} is SUCCEEDED` });
    expect(formatLogLine('executor', entry, true)).toBe(
      '22:10:05.123 executor  INFO     rollout api-backend/rel-20261206-2-to-production-0001 is SUCCEEDED',
    );
    expect(formatLogLine('executor', entry, false)).toBe(entry); // --json keeps the full name
    expect(formatLogLine('executor', `warning about ${ROLLOUT}`, true, false, new Date(at))).toBe(
      '22:10:05.123 executor  warning about api-backend/rel-20261206-2-to-production-0001',
    );
  });
});

describe('Cloud Deploy resource names, shortened for a reader', () => {
  it.each([
    [ROLLOUT, 'api-backend/rel-20261206-2-to-production-0001'],
    [`${ROLLOUT}/jobRuns/jr-7`, 'api-backend/rel-20261206-2-to-production-0001/jr-7'],
    [`${PIPELINE}/releases/rel-20261206-2`, 'api-backend/rel-20261206-2'],
    [`${PIPELINE}/targets/production`, 'api-backend/production'],
    [PIPELINE, 'api-backend'],
    [
      `rolled back to rel-1 by ${ROLLOUT}; was ${PIPELINE}/releases/rel-2.`,
      'rolled back to rel-1 by api-backend/rel-20261206-2-to-production-0001; was api-backend/rel-2.',
    ],
    ['projects/p/locations/l/targets/production', 'projects/p/locations/l/targets/production'],
    ['no resource here', 'no resource here'],
  ])('%s → %s', (text, short) => {
    expect(shortResourceNames(text)).toBe(short);
  });
});
