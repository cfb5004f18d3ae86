import fc from 'fast-check';
import type { MonitoringCheck } from '@burnback/contracts';
import {
  ACTION_MEANINGS,
  actionClass,
  ago,
  BAR_WIDTH,
  clock,
  confidenceView,
  duration,
  elapsed,
  figure,
  monitoringView,
  percent,
  replayCommands,
  shorten,
  signalFigure,
  utc,
  verdictViews,
  viewTime,
} from './format.js';

describe('the console’s figures', () => {
  it.each([
    [2.5, '2.5'],
    [0.925, '0.925'],
    [14.4, '14.4'],
    [1, '1'],
    [0.12345, '0.123'],
    [999.6, '1000'],
    [1234.4, '1234'],
    [-3.25, '-3.25'],
    [0, '0'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NaN, 'NaN'],
  ])('figure(%p) is %p', (x, text) => expect(figure(x)).toBe(text));

  it('prints ratios as percentages, without float noise', () => {
    expect(percent(0.025)).toBe('2.5 %');
    expect(percent(0.01)).toBe('1 %');
    expect(percent(0.1)).toBe('10 %');
    expect(percent(1)).toBe('100 %');
  });

  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [999.6, '1000 ms'],
    [1000, '1 s'],
    [4200, '4.2 s'],
    [59_000, '59 s'],
    [60_000, '1 min'],
    [185_000, '3 min 5 s'],
    [3_600_000, '1 h'],
    [3_600_000 + 5 * 60_000 + 59_000, '1 h 5 min'],
    [86_400_000, '1 d'],
    [3 * 86_400_000 + 4 * 3_600_000, '3 d 4 h'],
    [-90_000, '-1 min 30 s'],
    [Number.POSITIVE_INFINITY, 'forever'],
  ])('duration(%p) is %p', (ms, text) => expect(duration(ms)).toBe(text));

  it('says how long ago, or how far ahead, a time is, to the minute', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    expect(ago('2026-12-06T09:57:00Z', now)).toBe('3 min ago');
    expect(ago('2026-12-06T09:56:01Z', now)).toBe('3 min ago');
    expect(ago(now - 65 * 60_000 - 59_000, now)).toBe('1 h 5 min ago');
    expect(ago(now + 5 * 60_000, now)).toBe('in 5 min');
    expect(ago(now, now)).toBe('less than a minute ago');
    expect(ago(now - 59_999, now)).toBe('less than a minute ago');
    expect(ago(now - 60_000, now)).toBe('1 min ago');
    expect(ago(now + 1, now)).toBe('in less than a minute');
    expect(ago(now + 59_999, now)).toBe('in less than a minute');
    expect(ago(now + 60_000, now)).toBe('in 1 min');
    expect(ago('not a time', now)).toBe('at an unknown time');
    expect(elapsed(59_999)).toBe('less than a minute');
    expect(elapsed(4.5 * 60_000)).toBe('4 min');
    expect(elapsed(2 * 86_400_000 + 3_600_000 + 59_000)).toBe('2 d 1 h');
  });

  it('draws pages at the next whole minute, so a page that refreshes reads the same within a minute', () => {
    const minute = Date.parse('2026-12-06T10:01:00Z');
    expect(viewTime(minute)).toBe(minute);
    expect(viewTime(minute - 59_999)).toBe(minute);
    expect(viewTime(minute + 1)).toBe(minute + 60_000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (t) => {
        const v = viewTime(t);
        expect(v % 60_000).toBe(0);
        expect(v - t >= 0 && v - t < 60_000).toBe(true);
      }),
    );
  });

  it('prints times in UTC to the second, and axis clocks to the minute or second', () => {
    expect(utc('2026-12-06T10:00:04.123+02:00')).toBe('2026-12-06 08:00:04 UTC');
    expect(utc(Date.parse('2026-12-06T10:00:04Z'))).toBe('2026-12-06 10:00:04 UTC');
    expect(utc('garbage')).toBe('garbage');
    expect(clock(Date.parse('2026-12-06T10:05:30Z'))).toBe('10:05');
    expect(clock(Date.parse('2026-12-06T10:05:30Z'), true)).toBe('10:05:30');
  });

  it('prints a signal in its own measure', () => {
    expect(signalFigure('error-ratio', 0.025)).toBe('2.5 %');
    expect(signalFigure('burn-rate', 14.4)).toBe('14.4×');
    expect(signalFigure('budget', 0.5)).toBe('0.5');
    expect(signalFigure('unsupported', 3)).toBe('3');
    expect(signalFigure('error-ratio', null)).toBe('no value');
  });

  it('gives every action a class and a meaning', () => {
    for (const action of ['rollback', 'hold', 'escalate', 'ignore', 'recommend'] as const) {
      expect(actionClass(action)).toBe(`action-${action}`);
      expect(ACTION_MEANINGS[action].length).toBeGreaterThan(3);
    }
  });
});

describe('verdicts', () => {
  it('keeps the order, numbers each, says passed or not in words, and marks the first that did not pass as decisive', () => {
    const views = verdictViews([
      { rule: 'incident-open', passed: true, detail: 'open' },
      { rule: 'cooldown', passed: false, detail: 'within the cooldown' },
      { rule: 'rate-limit', passed: false, detail: 'over the limit' },
    ]);
    expect(views).toEqual([
      {
        position: 1,
        rule: 'incident-open',
        passed: true,
        mark: '✓',
        outcome: 'passed',
        found: 'incident open',
        detail: 'open',
        decisive: false,
      },
      {
        position: 2,
        rule: 'cooldown',
        passed: false,
        mark: '✗',
        outcome: 'did not pass',
        found: 'in cooldown',
        detail: 'within the cooldown',
        decisive: true,
      },
      {
        position: 3,
        rule: 'rate-limit',
        passed: false,
        mark: '✗',
        outcome: 'did not pass',
        found: 'rate limit reached',
        detail: 'over the limit',
        decisive: false,
      },
    ]);
    // A passed check reads as what was found, as the terminal says it: not paused, not "paused".
    expect(verdictViews([{ rule: 'paused', passed: true, detail: 'api-backend is not paused' }])[0]!.found).toBe('not paused');
    expect(verdictViews([{ rule: 'mode', passed: true, detail: 'auto' }])[0]!.decisive).toBe(false);
    expect(verdictViews([])).toEqual([]);
  });

  it('marks at most one verdict decisive, the first that failed, for any trace', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 25 }), (passes) => {
        const views = verdictViews(passes.map((passed, i) => ({ rule: 'mode', passed, detail: String(i) })));
        expect(views.map((v) => v.detail)).toEqual(passes.map((_, i) => String(i)));
        const decisive = views.filter((v) => v.decisive);
        expect(decisive.length).toBe(passes.includes(false) ? 1 : 0);
        if (decisive.length) expect(decisive[0]!.position).toBe(passes.indexOf(false) + 1);
      }),
    );
  });
});

describe('confidence as bars', () => {
  it('sizes each bar by value and weight, and the factor’s share as their product', () => {
    const view = confidenceView({
      value: 0.925,
      threshold: 0.8,
      factors: [
        { name: 'burn', value: 1, weight: 0.2, detail: 'd1' },
        { name: 'monitoring', value: 0.5, weight: 0.15, detail: 'd2' },
      ],
    });
    expect(view).toMatchObject({ value: 0.925, threshold: 0.8, meetsBar: true, valueWidth: 185, thresholdX: 160 });
    expect(view.factors).toEqual([
      { name: 'burn', value: 1, weight: 0.2, contribution: 0.2, detail: 'd1', valueWidth: 200, weightWidth: 40, contributionWidth: 40 },
      {
        name: 'monitoring',
        value: 0.5,
        weight: 0.15,
        contribution: 0.075,
        detail: 'd2',
        valueWidth: 100,
        weightWidth: 30,
        contributionWidth: 15,
      },
    ]);
  });

  it('meets the bar at the bar exactly, not below it', () => {
    expect(confidenceView({ value: 0.8, threshold: 0.8, factors: [] }).meetsBar).toBe(true);
    expect(confidenceView({ value: 0.799, threshold: 0.8, factors: [] }).meetsBar).toBe(false);
  });

  it('never draws a bar outside 0..BAR_WIDTH', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), fc.double(), fc.double(), (value, weight, threshold) => {
        const view = confidenceView({ value, threshold, factors: [{ name: 'timing', value, weight, detail: '' }] });
        for (const w of [
          view.valueWidth,
          view.thresholdX,
          view.factors[0]!.valueWidth,
          view.factors[0]!.weightWidth,
          view.factors[0]!.contributionWidth,
        ]) {
          expect(w).toBeGreaterThanOrEqual(0);
          expect(w).toBeLessThanOrEqual(BAR_WIDTH);
        }
      }),
    );
  });
});

describe("Cloud Monitoring's figures", () => {
  const read: MonitoringCheck = {
    status: 'read',
    slo: 'projects/p/services/s/serviceLevelObjectives/o',
    longWindowSeconds: 3600,
    shortWindowSeconds: 300,
    threshold: 14.4,
    long: 20,
    short: 16,
    readAt: '2026-12-06T10:00:30.000Z',
  };

  it('reads a burn only when both windows exceed the bar', () => {
    expect(monitoringView(read)).toEqual({
      status: 'read',
      slo: read.slo,
      burning: true,
      rows: [
        { label: 'windows', value: '1 h and 5 min' },
        { label: 'bar (burn rate both must exceed)', value: '14.4×' },
        { label: 'burn rate over 1 h', value: '20×' },
        { label: 'burn rate over 5 min', value: '16×' },
        { label: 'read at', value: '2026-12-06 10:00:30 UTC' },
        { label: 'verdict', value: 'still burning on both windows' },
      ],
    });
    expect(monitoringView({ ...read, short: 14.4 }).burning).toBe(false);
    expect(monitoringView({ ...read, long: 14.4 }).burning).toBe(false);
    expect(monitoringView({ ...read, short: 1 }).rows.at(-1)).toEqual({ label: 'verdict', value: 'not burning on both windows' });
  });

  it('says why it could not answer, and since when', () => {
    const view = monitoringView({
      status: 'unavailable',
      slo: read.slo,
      longWindowSeconds: 3600,
      shortWindowSeconds: 300,
      threshold: 14.4,
      error: 'deadline exceeded',
      onUnavailable: 'escalate',
      since: '2026-12-06T10:00:00.000Z',
    });
    expect(view.burning).toBeNull();
    expect(view.status).toBe('unavailable');
    expect(view.rows).toEqual([
      { label: 'windows', value: '1 h and 5 min' },
      { label: 'bar', value: '14.4×' },
      { label: 'error', value: 'deadline exceeded' },
      { label: 'when it stays unavailable', value: 'escalate' },
      { label: 'unavailable since', value: '2026-12-06 10:00:00 UTC' },
    ]);
  });
});

describe('replay commands and short labels', () => {
  it('names the CLI’s export and replay of one decision', () => {
    expect(replayCommands('dec-abc')).toEqual({
      file: 'dec-abc.ndjson',
      export: 'npm run burnback -- export --decision dec-abc --out dec-abc.ndjson',
      replay: 'npm run burnback -- replay dec-abc.ndjson',
    });
  });

  it('shortens to at most max characters, keeping the start, by code point', () => {
    expect(shorten('rel-002', 7)).toBe('rel-002');
    expect(shorten('rel-0022', 7)).toBe('rel-00…');
    expect(shorten('💥💥💥', 2)).toBe('💥…');
    expect(shorten('x', 0)).toBe('');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 50 }), (text, max) => {
        const out = [...shorten(text, max)];
        const chars = [...text];
        expect(out.length).toBeLessThanOrEqual(max);
        if (chars.length <= max) expect(out.join('')).toBe(text);
        else expect(out.slice(0, -1).join('')).toBe(chars.slice(0, max - 1).join(''));
      }),
    );
  });
});
