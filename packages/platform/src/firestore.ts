import { Firestore } from '@google-cloud/firestore';
import type { Config } from './config.js';

/** Firestore for the configured project (the emulator when FIRESTORE_EMULATOR_HOST is set). */
export function createFirestore(config: Pick<Config, 'projectId'>): Firestore {
  return new Firestore({ projectId: config.projectId, ignoreUndefinedProperties: true });
}

/** Removes `undefined` and turns class instances into plain data, as Firestore stores it. */
export function toFirestoreData<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
