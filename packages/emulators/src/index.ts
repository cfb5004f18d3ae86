/**
 * @burnback/emulators: the local Google Cloud Burnback runs on, for the shipped
 * CLI (`burnback dev` = `npm start`, `replay --through-pipeline`, `topology`)
 * and for the tests: the gcloud Pub/Sub and Firestore emulators (started, or
 * reused when one already answers, and stopped only if started here), free
 * ports, waiting for something to come up, and Burnback's topics and
 * subscriptions on the Pub/Sub emulator.
 */
export * from './emulators.js';
export * from './topology.js';
export * from './wait.js';
export * from './ports.js';
