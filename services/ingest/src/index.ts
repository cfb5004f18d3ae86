export { createIngestHandler, type IngestDeps, type IncomingNotification, type IngestOutcome } from './handler.js';
export { createIngestApp, tokenMatches, type IngestAppDeps } from './app.js';
export { FirestoreNotificationStore, type NotificationStore, type StoredNotification } from './store.js';
export {
  parseNotification,
  toAlertEvent,
  mapToService,
  burnRateLookbackSeconds,
  parseValue,
  valuesOf,
  notificationIdFor,
  TestNotification,
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
