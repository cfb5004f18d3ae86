export { createIngestHandler, type IngestDeps, type IncomingNotification, type IngestOutcome } from './handler.js';
export { createIngestApp, tokenMatches, type IngestAppDeps } from './app.js';
export { FirestoreNotificationStore, type NotificationStore, type StoredNotification } from './store.js';
export { parseNotification, toAlertEvent, mapToService, signalOf, parseValue, notificationIdFor, TestNotification } from './parse.js';
export { startIngestService, type IngestService } from './service.js';
