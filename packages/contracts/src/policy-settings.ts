import { z } from 'zod';

/**
 * Rules of the decision engine, per service, defaults from the original runbook:
 * availability SLO 99 % (roll back when the error ratio exceeds 1 % over 1 h),
 * at most 3 rollbacks per service per hour, 30 min cooldown.
 */
const policyFields = {
  /** Rollbacks switched on at all; off = every decision says "disabled". */
  enabled: z.boolean(),
  /** Decide, record and explain, but never order a rollback. */
  dryRun: z.boolean(),
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
};

/** Defaults from the original runbook. */
const policyDefaults = {
  enabled: true,
  dryRun: false,
  sloGoal: 0.99,
  errorRatioThreshold: 0.01,
  fastBurnRate: 14.4,
  slowBurnRate: 6,
  maxRollbacksPerHour: 3,
  cooldownMinutes: 30,
  minConfidence: 0.8,
} as const satisfies { [K in keyof typeof policyFields]: z.infer<(typeof policyFields)[K]> };

export const PolicySettings = z.object({
  enabled: policyFields.enabled.default(policyDefaults.enabled),
  dryRun: policyFields.dryRun.default(policyDefaults.dryRun),
  sloGoal: policyFields.sloGoal.default(policyDefaults.sloGoal),
  errorRatioThreshold: policyFields.errorRatioThreshold.default(policyDefaults.errorRatioThreshold),
  fastBurnRate: policyFields.fastBurnRate.default(policyDefaults.fastBurnRate),
  slowBurnRate: policyFields.slowBurnRate.default(policyDefaults.slowBurnRate),
  maxRollbacksPerHour: policyFields.maxRollbacksPerHour.default(policyDefaults.maxRollbacksPerHour),
  cooldownMinutes: policyFields.cooldownMinutes.default(policyDefaults.cooldownMinutes),
  minConfidence: policyFields.minConfidence.default(policyDefaults.minConfidence),
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
