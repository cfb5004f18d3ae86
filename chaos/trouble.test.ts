import { troubleLines } from './trouble.js';

describe("a failed chaos run's excerpt of a worker log", () => {
  const line = (o: Record<string, unknown>) => JSON.stringify({ time: '2026-11-27T00:53:02.214Z', ...o });
  const log = [
    '--- 2026-11-27T00:52:00.348Z started pid 31478 port 45089 armed []',
    line({ severity: 'INFO', event: 'started', message: 'executor consuming burnback-executor' }),
    line({ severity: 'WARNING', event: 'chaos_armed', message: 'chaos: this process kills itself' }),
    line({ severity: 'ERROR', event: 'chaos_crash', message: 'chaos: killing this process' }),
    '(node:31479) AutopaginateTrueWarning: Autopaginate will always be set to false',
    line({
      severity: 'WARNING',
      message: 'handler failed; message will be redelivered',
      error: { message: '10 ABORTED: Transaction lock timeout.\n    at callErrorFromStatus' },
    }),
    '{"severity":"WARNING", cut short',
    line({ severity: 'ERROR', event: 'dead_letter_failed', message: 'publish failed' }),
  ].join('\n');

  it('keeps warnings and errors with the error they carried, and leaves out the crash points and plain output', () => {
    expect(troubleLines('executor-2', log, 10)).toEqual([
      '2026-11-27T00:53:02.214Z executor-2 WARNING - handler failed; message will be redelivered: 10 ABORTED: Transaction lock timeout.',
      '2026-11-27T00:53:02.214Z executor-2 ERROR dead_letter_failed publish failed',
    ]);
  });

  it('keeps the last ones when there are more than the limit', () => {
    expect(troubleLines('executor-2', log, 1)).toEqual(['2026-11-27T00:53:02.214Z executor-2 ERROR dead_letter_failed publish failed']);
  });
});
