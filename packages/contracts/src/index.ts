export * from './names.js';
export * from './ids.js';
export * from './errors.js';
export * from './events.js';
export * from './cloudevents.js';
export * from './monitoring.js';
export * from './policy-settings.js';
export * from './documents.js';
