import { z } from 'zod';

/**
 * Rules of the decision engine, per service, defaults from the original runbook:
 * availability SLO 99 % (roll back when the error ratio exceeds 1 % over 1 h),
 * at most 3 rollbacks per service per hour, 30 min cooldown.
 */
export const PolicySettings = z.object({
  /** Rollbacks switched on at all; off = every decision says "disabled". */
  enabled: z.boolean().default(true),
  /** Decide, record and explain, but never order a rollback. */
  dryRun: z.boolean().default(false),
  /** The SLO goal; the error budget is 1 - goal. */
  sloGoal: z.number().gt(0).lt(1).default(0.99),
  /** Error ratio above which a service is burning its budget too fast (runbook: 1 % over 1 h). */
  errorRatioThreshold: z.number().gt(0).lt(1).default(0.01),
  /** Fast-burn burn-rate threshold (runbook: 14.4× over 1 h, confirmed by 5 m). */
  fastBurnRate: z.number().positive().default(14.4),
  /** Slow-burn burn-rate threshold (6× over 6 h, confirmed by 30 m). */
  slowBurnRate: z.number().positive().default(6),
  maxRollbacksPerHour: z.number().int().nonnegative().default(3),
  cooldownMinutes: z.number().nonnegative().default(30),
});
export type PolicySettings = z.infer<typeof PolicySettings>;
export type PolicySettingsInput = z.input<typeof PolicySettings>;

export const DEFAULT_POLICY: PolicySettings = PolicySettings.parse({});

/** Multi-window burn-rate alerting (Google SRE workbook): long window, confirmed by a short one. */
export const BurnRateWindows = {
  fast: { longSeconds: 3600, shortSeconds: 300 },
  slow: { longSeconds: 21600, shortSeconds: 1800 },
} as const;
