import { z } from 'zod';

/** The service's mode: `observe` decides and records, commands nothing; `recommend` orders a validate-only rollback; `auto` rolls back. */
export const Modes = { observe: 'observe', recommend: 'recommend', auto: 'auto' } as const;
export const Mode = z.enum([Modes.observe, Modes.recommend, Modes.auto]);
export type Mode = z.infer<typeof Mode>;

const RFC3339 = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time with a zone, e.g. 2026-12-24T00:00:00Z' });
const ClockTime = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected HH:MM (00:00 to 24:00)');
export const Weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const validTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/**
 * A freeze window: no automatic rollback while it is in force (a burn then
 * escalates). Either an RFC 3339 range (`from` inclusive, `to` exclusive), or a
 * weekly window on `days` from `start` to `end` local time in `timeZone` (an
 * `end` at or before `start` runs past midnight into the next day).
 */
export const FreezeWindow = z.union([
  z
    .object({ from: RFC3339, to: RFC3339, reason: z.string().min(1).optional() })
    .strict()
    .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'from must be before to', path: ['to'] }),
  z
    .object({
      days: z.array(z.enum(Weekdays)).min(1, 'name at least one day (sun, mon, …, sat)'),
      start: ClockTime,
      end: ClockTime,
      timeZone: z.string().refine(validTimeZone, 'expected an IANA time zone, e.g. Europe/Berlin'),
      reason: z.string().min(1).optional(),
    })
    .strict(),
]);
export type FreezeWindow = z.infer<typeof FreezeWindow>;

/**
 * Rules of the decision engine, per service, defaults from the original runbook:
 * availability SLO 99 % (roll back when the error ratio exceeds 1 % over 1 h),
 * at most 3 rollbacks per service per hour, 30 min cooldown.
 */
const policyFields = {
  /** Rollbacks switched on at all; off = every decision says "disabled". */
  enabled: z.boolean(),
  /** observe: decide and record, command nothing; recommend: validate-only rollbacks; auto: roll back. */
  mode: Mode,
  /** The SLO goal; the error budget is 1 - goal. */
  sloGoal: z.number().gt(0).lt(1),
  /** Error ratio above which a service is burning its budget too fast (runbook: 1 % over 1 h). */
  errorRatioThreshold: z.number().gt(0).lt(1),
  /** Fast-burn burn-rate threshold (runbook: 14.4× over 1 h, confirmed by 5 m). */
  fastBurnRate: z.number().positive(),
  /** Slow-burn burn-rate threshold (6× over 6 h, confirmed by 30 m). */
  slowBurnRate: z.number().positive(),
  maxRollbacksPerHour: z.number().int().nonnegative(),
  cooldownMinutes: z.number().nonnegative(),
  /** Below this confidence that the serving release caused the burn, escalate instead of rolling back (runbook: 0.8). */
  minConfidence: z.number().min(0).max(1),
  /** Freeze windows: no automatic rollback while one is in force. */
  freeze: z.array(FreezeWindow),
  /** Fleet circuit breaker: more than this many services burning within breakerWindowMinutes holds rollbacks and escalates. */
  breakerBurningServices: z.number().int().positive(),
  breakerWindowMinutes: z.number().positive(),
  /** Fleet circuit breaker: at most this many rollbacks in flight fleet-wide; a further one escalates. */
  breakerInFlightRollbacks: z.number().int().positive(),
  /** A pause without `until` lasts this long. */
  pauseDefaultMinutes: z.number().positive(),
  /** The longest pause the management API grants. */
  pauseMaxMinutes: z.number().positive(),
  /**
   * How long Cloud Monitoring is asked again (with backoff) when it cannot answer
   * before a rollback; after that the service's onMonitoringUnavailable applies.
   */
  monitoringRetryMinutes: z.number().positive(),
  /**
   * For a service without an SLO (nothing to confirm the burn with), an open
   * alert decided longer than this after its incident started escalates instead
   * of rolling back: the notification may describe a world that has moved on.
   */
  maxAlertAgeMinutes: z.number().positive(),
  /**
   * How long a `recommend` decision may be approved (`POST /decisions/{id}/approve`,
   * `burnback approve`) from when it was decided; later, the approval is refused.
   */
  approvalTtlMinutes: z.number().positive(),
};

/** Defaults from the original runbook. */
const policyDefaults = {
  enabled: true,
  mode: Modes.auto,
  sloGoal: 0.99,
  errorRatioThreshold: 0.01,
  fastBurnRate: 14.4,
  slowBurnRate: 6,
  maxRollbacksPerHour: 3,
  cooldownMinutes: 30,
  minConfidence: 0.8,
  freeze: [] as FreezeWindow[],
  breakerBurningServices: 5,
  breakerWindowMinutes: 10,
  breakerInFlightRollbacks: 5,
  pauseDefaultMinutes: 60,
  pauseMaxMinutes: 24 * 60,
  monitoringRetryMinutes: 5,
  maxAlertAgeMinutes: 60,
  approvalTtlMinutes: 30,
} satisfies { [K in keyof typeof policyFields]: z.infer<(typeof policyFields)[K]> };

export const PolicySettings = z
  .object({
    enabled: policyFields.enabled.default(policyDefaults.enabled),
    mode: policyFields.mode.default(policyDefaults.mode),
    sloGoal: policyFields.sloGoal.default(policyDefaults.sloGoal),
    errorRatioThreshold: policyFields.errorRatioThreshold.default(policyDefaults.errorRatioThreshold),
    fastBurnRate: policyFields.fastBurnRate.default(policyDefaults.fastBurnRate),
    slowBurnRate: policyFields.slowBurnRate.default(policyDefaults.slowBurnRate),
    maxRollbacksPerHour: policyFields.maxRollbacksPerHour.default(policyDefaults.maxRollbacksPerHour),
    cooldownMinutes: policyFields.cooldownMinutes.default(policyDefaults.cooldownMinutes),
    minConfidence: policyFields.minConfidence.default(policyDefaults.minConfidence),
    freeze: policyFields.freeze.default(policyDefaults.freeze),
    breakerBurningServices: policyFields.breakerBurningServices.default(policyDefaults.breakerBurningServices),
    breakerWindowMinutes: policyFields.breakerWindowMinutes.default(policyDefaults.breakerWindowMinutes),
    breakerInFlightRollbacks: policyFields.breakerInFlightRollbacks.default(policyDefaults.breakerInFlightRollbacks),
    pauseDefaultMinutes: policyFields.pauseDefaultMinutes.default(policyDefaults.pauseDefaultMinutes),
    pauseMaxMinutes: policyFields.pauseMaxMinutes.default(policyDefaults.pauseMaxMinutes),
    monitoringRetryMinutes: policyFields.monitoringRetryMinutes.default(policyDefaults.monitoringRetryMinutes),
    maxAlertAgeMinutes: policyFields.maxAlertAgeMinutes.default(policyDefaults.maxAlertAgeMinutes),
    approvalTtlMinutes: policyFields.approvalTtlMinutes.default(policyDefaults.approvalTtlMinutes),
  })
  .refine((p) => p.pauseDefaultMinutes <= p.pauseMaxMinutes, {
    message: 'pauseDefaultMinutes must not exceed pauseMaxMinutes',
    path: ['pauseDefaultMinutes'],
  });
/**
 * Overrides of some settings (config file, per service): every field optional and
 * without defaults, so an override never resets the settings it does not name.
 */
export const PolicyOverrides = z.object(policyFields).partial().strict();
export type PolicyOverrides = z.infer<typeof PolicyOverrides>;
export type PolicySettings = z.infer<typeof PolicySettings>;
export type PolicySettingsInput = z.input<typeof PolicySettings>;

export const DEFAULT_POLICY: PolicySettings = PolicySettings.parse({});

/** Multi-window burn-rate alerting (Google SRE workbook): long window, confirmed by a short one. */
export const BurnRateWindows = {
  fast: { longSeconds: 3600, shortSeconds: 300 },
  slow: { longSeconds: 21600, shortSeconds: 1800 },
} as const;
