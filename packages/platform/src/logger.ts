import winston from 'winston';

export type Logger = winston.Logger;

/** Keys whose values never reach a log line. */
const SECRET_KEY = /(token|secret|password|passwd|authorization|api[-_]?key|credential|cookie)/i;
/** Query-string secrets inside URLs and messages, e.g. `?auth_token=…`. */
const SECRET_IN_TEXT = /([?&](?:auth_token|token|access_token|key|password|secret)=)[^&\s"']*/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
export const REDACTED = '[REDACTED]';

/** Removes secrets from text: query-string tokens and Authorization values. */
export function redactText(text: string): string {
  return text.replace(SECRET_IN_TEXT, `$1${REDACTED}`).replace(BEARER, `$1 ${REDACTED}`);
}

/** Deep copy with secret-named keys masked and secrets in strings removed. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error)
    return { name: value.name, message: redactText(value.message), stack: value.stack && redactText(value.stack) };
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
    return out;
  }
  return value;
}

const SEVERITY: Record<string, string> = {
  error: 'ERROR',
  warn: 'WARNING',
  info: 'INFO',
  http: 'INFO',
  verbose: 'DEBUG',
  debug: 'DEBUG',
  silly: 'DEBUG',
};

/** Fields lifted into Cloud Logging labels so an incident's whole story is one filter away. */
const LABEL_KEYS = ['eventId', 'incidentId', 'decisionId', 'rollbackId', 'service'] as const;

/** winston format: one Cloud Logging JSON object per line (severity, message, labels, trace). */
const cloudLogging = winston.format((info) => {
  const { level, message, trace, ...rest } = info as winston.Logform.TransformableInfo & { trace?: string };
  const meta = redact(rest) as Record<string, unknown>;
  const labels: Record<string, string> = {};
  for (const key of LABEL_KEYS) if (typeof meta[key] === 'string') labels[key] = meta[key];
  const entry: Record<string, unknown> = {
    severity: SEVERITY[level] ?? 'DEFAULT',
    message: redactText(String(message)),
    time: new Date().toISOString(),
    ...meta,
  };
  if (Object.keys(labels).length > 0) entry['logging.googleapis.com/labels'] = labels;
  if (trace) entry['logging.googleapis.com/trace'] = trace;
  // winston's own symbols carry level/message; keep them and replace the rest.
  for (const key of Object.keys(info)) if (key !== 'level') delete (info as Record<string, unknown>)[key];
  Object.assign(info, entry);
  return info;
});

/**
 * The one logger a service writes with: Cloud Logging structured JSON on stdout.
 * Libraries take a Logger; only services create one.
 */
export function createLogger(component: string, options: { level?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  return winston.createLogger({
    level: options.level ?? 'info',
    defaultMeta: { component },
    format: winston.format.combine(winston.format.errors({ stack: true }), cloudLogging(), winston.format.json()),
    transports: [
      options.stream ? new winston.transports.Stream({ stream: options.stream }) : new winston.transports.Console({ forceConsole: true }),
    ],
  });
}

/** A logger that writes nothing, for tests that assert behaviour rather than logs. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
