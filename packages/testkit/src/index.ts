// Emulator management, free ports, waitFor and the topology live in @burnback/emulators (the shipped CLI needs
// them too; it never imports the test kit): re-exported so tests keep importing them from here.
export * from '@burnback/emulators';
export * from './wait.js';
export * from './tap.js';
export * from './fixtures.js';
export * from './environment.js';
export * from './random.js';
export * from './logs.js';
export * from './raw-http.js';
export * from './clock.js';
export * from './receivers.js';
export * from './processes.js';
