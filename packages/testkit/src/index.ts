export * from './emulators.js';
export * from './topology.js';
export * from './wait.js';
export * from './ports.js';
export * from './tap.js';
export * from './fixtures.js';
export * from './environment.js';
export * from './random.js';
