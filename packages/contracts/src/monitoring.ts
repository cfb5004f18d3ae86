import { z } from 'zod';

/**
 * A Cloud Monitoring incident notification (schema version 1.2), as posted to a
 * webhook and as the `data` of a Pub/Sub notification-channel message.
 * Lenient where Google's own senders differ (see GCP-NOTES §1): the test
 * notification sends `"OPEN"`, `ended_at: 0`, a string `documentation`.
 */
const StringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
const NumericString = z.union([z.string(), z.number()]).nullish();
/** 9999-12-31T23:59:59Z: the last second a JavaScript Date of an ISO string can hold comfortably. */
const MAX_UNIX_SECONDS = 253_402_300_799;

export const MonitoringIncident = z
  .object({
    incident_id: z.string().min(1),
    scoping_project_id: z.string().optional().default(''),
    scoping_project_number: z.union([z.number(), z.string()]).optional(),
    url: z.string().optional().default(''),
    severity: z.string().optional().default('no severity'),
    // Unix seconds; bounded so a garbage value is a clear error, not a RangeError later.
    started_at: z.number().int().nonnegative().max(MAX_UNIX_SECONDS),
    ended_at: z.number().int().nonnegative().max(MAX_UNIX_SECONDS).nullish(),
    state: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['open', 'closed'])),
    resource_id: z.string().optional(),
    resource_name: z.string().optional(),
    resource_display_name: z.string().optional(),
    resource_type_display_name: z.string().optional(),
    resource: z
      .object({ type: z.string().default(''), labels: StringMap.default({}) })
      .partial()
      .optional(),
    metric: z.object({ type: z.string(), displayName: z.string(), labels: StringMap }).partial().optional(),
    metadata: z.object({ system_labels: StringMap.nullish(), user_labels: StringMap.nullish() }).partial().nullish(),
    policy_name: z.string().optional().default(''),
    policy_user_labels: StringMap.nullish(),
    condition_name: z.string().optional().default(''),
    condition: z
      .object({
        name: z.string().optional(),
        displayName: z.string().optional(),
        conditionThreshold: z
          .object({
            thresholdValue: z.number().optional(),
            filter: z.string().optional(),
            denominatorFilter: z.string().optional(),
            /** `COMPARISON_GT`, `COMPARISON_LT`, …; kept as sent, ingest reads it. */
            comparison: z.string().optional(),
          })
          .loose()
          .optional(),
      })
      .loose()
      .nullish(),
    threshold_value: NumericString,
    observed_value: NumericString,
    documentation: z.union([z.string(), z.object({}).loose()]).nullish(),
    summary: z.string().optional().default(''),
  })
  .loose();
export type MonitoringIncident = z.infer<typeof MonitoringIncident>;

export const MonitoringNotification = z
  .object({
    version: z.string().min(1),
    incident: MonitoringIncident,
  })
  .loose();
export type MonitoringNotification = z.infer<typeof MonitoringNotification>;

/** Schema versions we parse; `test` is the console's "Send test notification". */
export const SUPPORTED_NOTIFICATION_VERSIONS = ['1.2', 'test'] as const;
