// By path, not '@burnback/emulators': jest requires its globalSetup with Node's own resolution, without the
// @burnback/source condition (so the package would resolve to its dist/) or the moduleNameMapper for './x.js'.
import { EMULATORS, ensureEmulator, stopEmulator, type RunningEmulator } from '../../emulators/src/emulators';

/**
 * Starts the Pub/Sub and Firestore emulators for the integration project, or
 * reuses ones already running (e.g. under `npm start`, or at
 * PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST). Workers inherit the env set here.
 */
export default async function globalSetup(): Promise<void> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  process.env.GOOGLE_CLOUD_PROJECT ??= 'burnback-test';
  const log = (line: string) => process.stderr.write(`[testkit] ${line}\n`);
  const results = await Promise.allSettled(
    [EMULATORS.pubsub, EMULATORS.firestore].map((spec) =>
      ensureEmulator(spec, { host: process.env[spec.envVar] || spec.host, projectId: process.env.GOOGLE_CLOUD_PROJECT!, log }),
    ),
  );
  const running = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failed.length > 0) {
    // Do not leave the one that did start running behind us.
    await Promise.all(running.map((e) => stopEmulator(e)));
    throw new Error(failed.map((e) => e.message).join('\n'));
  }
  for (const emulator of running) {
    process.env[EMULATORS[emulator.name].envVar] = emulator.host;
    if (!emulator.startedByUs) log(`reusing the ${emulator.name} emulator on ${emulator.host}`);
  }
  (globalThis as { __burnbackEmulators?: RunningEmulator[] }).__burnbackEmulators = running;
}
