import { Writable } from 'node:stream';
import { createLogger, redactText } from './index.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('test', { stream, level: 'debug' }) };
}

describe('logger', () => {
  it('writes one Cloud Logging JSON object per line with severity and labels', () => {
    const { lines, logger } = capture();
    logger.warn('rollback refused', { incidentId: '0.abc', service: 'api-backend', rollbackId: 'rb-1', reason: 'cooldown' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      severity: 'WARNING',
      message: 'rollback refused',
      component: 'test',
      reason: 'cooldown',
      'logging.googleapis.com/labels': { incidentId: '0.abc', service: 'api-backend', rollbackId: 'rb-1' },
    });
  });

  it.each([
    ['error', 'ERROR'],
    ['info', 'INFO'],
    ['debug', 'DEBUG'],
  ] as const)('maps %s to severity %s', (level, severity) => {
    const { lines, logger } = capture();
    logger[level]('x');
    expect(lines[0]!.severity).toBe(severity);
  });

  it('never writes tokens, passwords or auth headers', () => {
    const { lines, logger } = capture();
    logger.info('POST /webhook/error-budget-alert?auth_token=s3cr3t-t0ken-value&x=1', {
      headers: { authorization: 'Bearer abc.def', 'x-other': 'ok' },
      webhookToken: 's3cr3t-t0ken-value',
      nested: { url: 'https://h/p?token=s3cr3t-t0ken-value' },
      error: new Error('failed calling https://h/p?auth_token=s3cr3t-t0ken-value'),
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('s3cr3t-t0ken-value');
    expect(text).not.toContain('abc.def');
    expect(text).toContain('x=1');
    expect(text).toContain('"x-other":"ok"');
  });

  it('redacts Basic and Bearer credentials inside free text', () => {
    expect(redactText('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: Basic [REDACTED]');
  });
});

describe('dead-letter attributes', () => {
  it('keep a long reason within Pub/Sub 1024-byte attribute limit without splitting a character', async () => {
    const { deadLetterAttributes, truncateUtf8 } = await import('./index.js');
    const reason = `unsupported version "${'é'.repeat(2000)}"`;
    const attrs = deadLetterAttributes({ 'ce-id': 'x' }, reason, 'burnback-ingest', new Date('2026-11-26T00:00:00Z'));
    const value = attrs['burnback-dead-letter-reason']!;
    expect(Buffer.byteLength(value, 'utf8')).toBeLessThanOrEqual(1024);
    expect(value.endsWith('...')).toBe(true);
    expect(value).not.toContain('\uFFFD');
    expect(attrs['ce-id']).toBe('x');
    expect(truncateUtf8('short')).toBe('short');
  });
});
