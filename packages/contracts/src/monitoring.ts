import { z } from 'zod';
import { incidentIdProblem } from './storable.js';

/**
 * A Cloud Monitoring incident notification (schema version 1.2), as posted to a
 * webhook and as the `data` of a Pub/Sub notification-channel message.
 * Lenient where Google's own senders differ (see GCP-NOTES §1): the test
 * notification sends `"OPEN"`, `ended_at: 0`, a string `documentation`.
 */
/** A label map; a null value (some senders write one) is dropped, a number or boolean kept as text. */
const StringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).transform((labels) => {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== null) kept[k] = String(v);
  return kept;
});
const NumericString = z.union([z.string(), z.number()]).nullish();
/** Text Monitoring may omit or send as null for some condition types: '' then. */
const Text = z
  .string()
  .nullish()
  .transform((v) => v ?? '');
/** 9999-12-31T23:59:59Z: the last second a JavaScript Date of an ISO string can hold comfortably. */
const MAX_UNIX_SECONDS = 253_402_300_799;

export const MonitoringIncident = z
  .object({
    // Refused where it enters when it cannot be a document id or go in a Pub/Sub attribute (storable.ts).
    incident_id: z.string().superRefine((id, ctx) => {
      const why = incidentIdProblem(id);
      if (why !== null) ctx.addIssue({ code: 'custom', message: why });
    }),
    scoping_project_id: Text,
    scoping_project_number: z.union([z.number(), z.string()]).nullish(),
    url: Text,
    severity: z
      .string()
      .nullish()
      .transform((v) => v ?? 'no severity'),
    // Unix seconds; bounded so a garbage value is a clear error, not a RangeError later.
    started_at: z.number().int().nonnegative().max(MAX_UNIX_SECONDS),
    ended_at: z.number().int().nonnegative().max(MAX_UNIX_SECONDS).nullish(),
    state: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['open', 'closed'])),
    resource_id: z.string().nullish(),
    resource_name: z.string().nullish(),
    resource_display_name: z.string().nullish(),
    resource_type_display_name: z.string().nullish(),
    resource: z.object({ type: Text, labels: StringMap.nullish().transform((l) => l ?? {}) }).nullish(),
    // Omitted or null for some condition types (MQL, PromQL, log match): classification reads the condition instead.
    metric: z.object({ type: Text, displayName: Text, labels: StringMap.nullish() }).partial().nullish(),
    metadata: z.object({ system_labels: StringMap.nullish(), user_labels: StringMap.nullish() }).partial().nullish(),
    policy_name: Text,
    policy_user_labels: StringMap.nullish(),
    condition_name: Text,
    condition: z
      .object({
        name: z.string().nullish(),
        displayName: z.string().nullish(),
        conditionThreshold: z
          .object({
            thresholdValue: z.number().nullish(),
            filter: z.string().nullish(),
            denominatorFilter: z.string().nullish(),
            /** `COMPARISON_GT`, `COMPARISON_LT`, …; kept as sent, ingest reads it. */
            comparison: z.string().nullish(),
          })
          .loose()
          .nullish(),
      })
      .loose()
      .nullish(),
    threshold_value: NumericString,
    observed_value: NumericString,
    documentation: z.union([z.string(), z.object({}).loose()]).nullish(),
    summary: Text,
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
