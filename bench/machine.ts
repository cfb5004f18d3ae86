import { cpus, totalmem, platform, release } from 'node:os';
import { readFileSync } from 'node:fs';

/** The version of an installed package, or "not installed". */
export function versionOf(name: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** One line per fact about where a figure was measured: CPU, cores, memory, OS, Node. */
export function machineLines(): string[] {
  const cpu = cpus();
  return [
    `machine: ${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${release()}`,
    `node: ${process.version}`,
    `libraries: ${['@google-cloud/pubsub', '@google-cloud/firestore', '@google-cloud/deploy', '@google-cloud/monitoring']
      .map((name) => `${name} ${versionOf(name)}`)
      .join(', ')}`,
  ];
}
