export { createNotifierHandler, type NotifierHandlerDeps } from './handler.js';
export { startNotifierService, type NotifierService } from './service.js';
export { DeliveryStore, DeliveryStatuses, type DeliveryRecord } from './store.js';
export { httpSender, type Answer, type Sender } from './send.js';
export { noticeOf, type Notice } from './pure/notices.js';
export { planDeliveries, signatureOf, dedupKeyOf, SIGNATURE_HEADER, type PlannedDelivery } from './pure/deliveries.js';
export { testNotice, testDeliveries } from './pure/test-notice.js';
