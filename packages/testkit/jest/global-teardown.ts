import { stopEmulator, type RunningEmulator } from '../../emulators/src/emulators';

/** Stops the emulators globalSetup started (never ones it found running), unless BURNBACK_KEEP_EMULATORS=1. */
export default async function globalTeardown(): Promise<void> {
  const running = (globalThis as { __burnbackEmulators?: RunningEmulator[] }).__burnbackEmulators ?? [];
  if (process.env.BURNBACK_KEEP_EMULATORS === '1') return;
  await Promise.all(running.map((emulator) => stopEmulator(emulator)));
}
