import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '@burnback/platform';

/** A logger whose JSON lines the test reads back, parsed, in the order written. */
export function capturedLogger(component: string): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  const lines: Array<Record<string, unknown>> = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger: createLogger(component, { stream }), lines };
}
