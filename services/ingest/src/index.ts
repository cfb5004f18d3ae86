export { createIngestHandler, type IngestDeps, type IncomingNotification, type IngestOutcome } from './handler.js';
export { createAlertmanagerHandler, type AlertmanagerOutcome, type AlertResult } from './alertmanager.js';
export {
  readAlertmanagerNotification,
  alertmanagerNotificationFor,
  alertIncidentId,
  ALERTMANAGER_VERSION,
  type AlertEntry,
} from './pure/alertmanager-payload.js';
export { createIngestApp, tokenMatches, REJECT_REASONS, type IngestAppDeps, type RejectReason } from './app.js';
export {
  createPushTokenVerifier,
  GOOGLE_ISSUERS,
  PushTokenProblems,
  type PushTokenProblem,
  type PushTokenVerdict,
  type PushTokenVerifier,
  type SigningCerts,
} from './push-auth.js';
export { FirestoreNotificationStore, type NotificationStore, type StoredNotification } from './store.js';
export {
  parseNotification,
  toAlertEvent,
  mapToService,
  parseValue,
  valuesOf,
  notificationIdFor,
  TestNotification,
  RejectedNotification,
  UnmappedNotification,
  RejectionReasons,
  rejectionReasonOf,
  isWellFormedJson,
  type RejectionReason,
} from './parse.js';
export {
  classifySignal,
  burnPolicyNamedIn,
  burnPolicyOfWindow,
  durationSeconds,
  metricTypeOf,
  sloSelectorsOf,
  type SignalClassification,
  type SignalServiceConfig,
  type SignalValues,
  type SloSelector,
} from './signal.js';
export { startIngestService, type IngestService } from './service.js';
export { recentDecisions, rollbackStatus, type RollbackStatus } from './management.js';
export { readRollback } from './console/reads.js';
export { rollbackPage, type RollbackPage, type RollbackStep, type DeployNotice } from './pure/console/rollback-view.js';
