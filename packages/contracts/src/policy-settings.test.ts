import { FreezeWindow, PolicyOverrides, PolicySettings } from './index.js';

/**
 * The settings an operator writes (config file, controls): a freeze window or a
 * pause limit that is read wrongly either blocks every rollback or none, so each
 * rule is stated here with the message the operator gets.
 */
const issuesOf = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  result.success ? [] : result.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));

describe('FreezeWindow: a range', () => {
  it.each([
    ['UTC', '2026-12-24T00:00:00Z', '2026-12-27T00:00:00Z'],
    ['an offset', '2026-12-24T00:00:00+01:00', '2026-12-27T00:00:00-05:30'],
    ['fractions of a second', '2026-12-24T00:00:00.250Z', '2026-12-24T00:00:00.251Z'],
  ])('takes RFC 3339 times with %s', (_what, from, to) => {
    expect(FreezeWindow.safeParse({ from, to }).success).toBe(true);
  });

  it.each([
    ['no zone', '2026-12-24T00:00:00'],
    ['a date only', '2026-12-24'],
    ['a space for the T', '2026-12-24 00:00:00Z'],
    ['words', 'christmas'],
  ])('refuses a time with %s, saying what it expects', (_what, from) => {
    expect(issuesOf(FreezeWindow.safeParse({ from, to: '2026-12-27T00:00:00Z' }))).toContainEqual({
      path: 'from',
      message: 'expected an RFC 3339 time with a zone, e.g. 2026-12-24T00:00:00Z',
    });
  });

  it('refuses a range that ends where it starts, or before, naming `to`', () => {
    for (const to of ['2026-12-24T00:00:00Z', '2026-12-23T23:59:59Z', '2026-12-24T01:00:00+01:00']) {
      expect(issuesOf(FreezeWindow.safeParse({ from: '2026-12-24T00:00:00Z', to }))).toEqual([
        { path: 'to', message: 'from must be before to' },
      ]);
    }
    // One millisecond is a range.
    expect(FreezeWindow.safeParse({ from: '2026-12-24T00:00:00.000Z', to: '2026-12-24T00:00:00.001Z' }).success).toBe(true);
  });

  it('takes a reason, refuses an empty one and an unknown key', () => {
    const range = { from: '2026-12-24T00:00:00Z', to: '2026-12-27T00:00:00Z' };
    expect(FreezeWindow.parse({ ...range, reason: 'holiday code freeze' })).toEqual({ ...range, reason: 'holiday code freeze' });
    expect(FreezeWindow.safeParse({ ...range, reason: '' }).success).toBe(false);
    expect(FreezeWindow.safeParse({ ...range, until: range.to }).success).toBe(false);
  });
});

describe('FreezeWindow: weekly', () => {
  const weekly = { days: ['fri'], start: '16:00', end: '20:00', timeZone: 'Europe/Berlin' };

  it.each(['00:00', '07:30', '09:05', '12:00', '19:59', '20:00', '23:59', '24:00'])('takes the clock time %s', (start) => {
    expect(FreezeWindow.safeParse({ ...weekly, start }).success).toBe(true);
  });

  it.each([
    ['one digit for the hour', '7:30'],
    ['an hour past 23', '25:00'],
    ['hour 24 with minutes', '24:01'],
    ['minute 60', '12:60'],
    ['letters in the hour', 'a7:30'],
    ['a leading character', 'x07:30'],
    ['a trailing character', '07:30x'],
    ['a leading character before 24:00', 'x24:00'],
    ['a trailing character after 24:00', '24:00x'],
    ['seconds', '07:30:00'],
    ['nothing', ''],
  ])('refuses %s (%s), saying what it expects', (_what, end) => {
    expect(issuesOf(FreezeWindow.safeParse({ ...weekly, end }))).toContainEqual({
      path: 'end',
      message: 'expected HH:MM (00:00 to 24:00)',
    });
  });

  it('needs at least one known day, and says so', () => {
    expect(issuesOf(FreezeWindow.safeParse({ ...weekly, days: [] }))).toContainEqual({
      path: 'days',
      message: 'name at least one day (sun, mon, …, sat)',
    });
    expect(FreezeWindow.safeParse({ ...weekly, days: ['friday'] }).success).toBe(false);
    expect(FreezeWindow.safeParse({ ...weekly, days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] }).success).toBe(true);
  });

  it('needs an IANA time zone, and says so', () => {
    expect(FreezeWindow.safeParse({ ...weekly, timeZone: 'America/New_York' }).success).toBe(true);
    expect(FreezeWindow.safeParse({ ...weekly, timeZone: 'UTC' }).success).toBe(true);
    expect(issuesOf(FreezeWindow.safeParse({ ...weekly, timeZone: 'Mars/Olympus_Mons' }))).toContainEqual({
      path: 'timeZone',
      message: 'expected an IANA time zone, e.g. Europe/Berlin',
    });
  });

  it('takes a reason, refuses an empty one and an unknown key', () => {
    expect(FreezeWindow.parse({ ...weekly, reason: 'Friday evening' })).toEqual({ ...weekly, reason: 'Friday evening' });
    expect(FreezeWindow.safeParse({ ...weekly, reason: '' }).success).toBe(false);
    expect(FreezeWindow.safeParse({ ...weekly, zone: 'UTC' }).success).toBe(false);
  });
});

// The runbook's defaults themselves are pinned once, through the config file, in platform's config.test.ts.
describe('PolicySettings', () => {
  it('a default pause may be as long as the longest pause, not longer, and the refusal names it', () => {
    expect(PolicySettings.safeParse({ pauseDefaultMinutes: 120, pauseMaxMinutes: 120 }).success).toBe(true);
    expect(issuesOf(PolicySettings.safeParse({ pauseDefaultMinutes: 121, pauseMaxMinutes: 120 }))).toEqual([
      { path: 'pauseDefaultMinutes', message: 'pauseDefaultMinutes must not exceed pauseMaxMinutes' },
    ]);
    // Against the default longest pause (24 h) too.
    expect(PolicySettings.safeParse({ pauseDefaultMinutes: 1441 }).success).toBe(false);
  });

  it('overrides name only what they change and refuse unknown keys', () => {
    expect(PolicyOverrides.parse({ cooldownMinutes: 20 })).toEqual({ cooldownMinutes: 20 });
    expect(PolicyOverrides.safeParse({ cooldown: 20 }).success).toBe(false);
  });
});

describe('approvalTtlMinutes', () => {
  it('a recommendation may be approved for 30 min by default; the time to approve is above 0, and a refusal names it', () => {
    expect(PolicySettings.parse({}).approvalTtlMinutes).toBe(30);
    expect(PolicySettings.parse({ approvalTtlMinutes: 0.5 }).approvalTtlMinutes).toBe(0.5);
    for (const bad of [0, -1, 'soon'])
      expect(issuesOf(PolicySettings.safeParse({ approvalTtlMinutes: bad }))[0]?.path).toBe('approvalTtlMinutes');
    expect(PolicyOverrides.parse({ approvalTtlMinutes: 10 })).toEqual({ approvalTtlMinutes: 10 });
  });
});
