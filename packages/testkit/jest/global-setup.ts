import { EMULATORS, ensureEmulator, type RunningEmulator } from '../src/emulators';

/**
 * Starts the Pub/Sub and Firestore emulators for the integration project, or
 * reuses ones already running (e.g. under `npm start`, or at
 * PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST). Workers inherit the env set here.
 */
export default async function globalSetup(): Promise<void> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  process.env.GOOGLE_CLOUD_PROJECT ??= 'burnback-test';
  const log = (line: string) => process.stderr.write(`[testkit] ${line}\n`);
  const running: RunningEmulator[] = await Promise.all(
    [EMULATORS.pubsub, EMULATORS.firestore].map((spec) =>
      ensureEmulator(spec, { host: process.env[spec.envVar] || spec.host, projectId: process.env.GOOGLE_CLOUD_PROJECT!, log }),
    ),
  );
  for (const emulator of running) {
    process.env[EMULATORS[emulator.name].envVar] = emulator.host;
    if (!emulator.startedByUs) log(`reusing the ${emulator.name} emulator on ${emulator.host}`);
  }
  (globalThis as { __burnbackEmulators?: RunningEmulator[] }).__burnbackEmulators = running;
}
