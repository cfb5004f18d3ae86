import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * The environment's half of Burnback's configuration: the variables every service
 * reads (project, emulators, endpoints, tokens, ports), checked by one schema, and
 * the push route's authentication they imply. loadConfig (config.ts) reads the file's half.
 */
const HostPort = z.string().regex(/^[^:\s/]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8085');

/** Where HTTP servers listen unless told otherwise: loopback, so a local run is not reachable from the network. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const ListenHost = z
  .string()
  .refine((v) => isIP(v) !== 0 || HOSTNAME.test(v), 'expected an IP address or host name to listen on, e.g. 127.0.0.1 or 0.0.0.0')
  .default(DEFAULT_LISTEN_HOST);

/**
 * BURNBACK_LISTEN_HOST as the HTTP servers read it (default 127.0.0.1; containers set 0.0.0.0).
 * loadConfig() refuses a bad value at start; here a bad one throws the same ConfigError.
 */
export function listenHostFrom(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.BURNBACK_LISTEN_HOST === '' ? undefined : env.BURNBACK_LISTEN_HOST;
  const parsed = ListenHost.safeParse(value);
  if (!parsed.success) throw new ConfigError('BURNBACK_LISTEN_HOST', parsed.error.issues[0]!.message);
  return parsed.data;
}

/**
 * How `POST /pubsub/push` authenticates a delivery: Pub/Sub's OIDC token (signed
 * by Google, for `audience`, of the push subscription's `serviceAccount`), or
 * `unsigned` (local only: the Pub/Sub emulator sends no token). Null: the route answers 503.
 */
export type PushAuthConfig = { kind: 'oidc'; audience: string; serviceAccount: string } | { kind: 'unsigned' } | null;

export const Env = z.object({
  GOOGLE_CLOUD_PROJECT: z
    .string({ error: 'the Google Cloud project id' })
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'expected a Google Cloud project id'),
  PUBSUB_EMULATOR_HOST: HostPort.optional(),
  FIRESTORE_EMULATOR_HOST: HostPort.optional(),
  CLOUD_DEPLOY_ENDPOINT: HostPort.optional(),
  CLOUD_MONITORING_ENDPOINT: HostPort.optional(),
  BURNBACK_CONFIG: z.string({ error: 'the path to the Burnback YAML config' }),
  BURNBACK_WEBHOOK_TOKEN: z.string().min(16, 'the webhook token must be at least 16 characters').optional(),
  BURNBACK_MANAGEMENT_TOKEN: z.string().min(16, 'the management token must be at least 16 characters').optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  BURNBACK_LISTEN_HOST: ListenHost,
  BURNBACK_PUSH_AUDIENCE: z.string().optional(),
  BURNBACK_PUSH_SERVICE_ACCOUNT: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'expected the push subscription service account email, e.g. push@PROJECT.iam.gserviceaccount.com')
    .optional(),
  BURNBACK_PUSH_ALLOW_UNSIGNED: z.enum(['true', 'false'], { error: 'expected true or false' }).default('false'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  BURNBACK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
  BURNBACK_TRACKER_LEASE_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  BURNBACK_COMMAND_RESEND_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
  BURNBACK_CHAOS_CRASH_AT: z.string().optional(),
});

/** The push route's authentication: both OIDC settings or neither, and unsigned pushes only when asked for and never with OIDC. */
export function pushAuthOf(e: z.infer<typeof Env>): PushAuthConfig {
  const audience = e.BURNBACK_PUSH_AUDIENCE;
  const serviceAccount = e.BURNBACK_PUSH_SERVICE_ACCOUNT;
  const unsigned = e.BURNBACK_PUSH_ALLOW_UNSIGNED === 'true';
  if (audience !== undefined && serviceAccount === undefined)
    throw new ConfigError(
      'BURNBACK_PUSH_SERVICE_ACCOUNT',
      'is required with BURNBACK_PUSH_AUDIENCE (the push subscription service account email)',
    );
  if (serviceAccount !== undefined && audience === undefined)
    throw new ConfigError(
      'BURNBACK_PUSH_AUDIENCE',
      'is required with BURNBACK_PUSH_SERVICE_ACCOUNT (the audience of the push subscription OIDC token)',
    );
  if (audience !== undefined && serviceAccount !== undefined) {
    if (unsigned)
      throw new ConfigError(
        'BURNBACK_PUSH_ALLOW_UNSIGNED',
        'cannot be combined with BURNBACK_PUSH_AUDIENCE: unsigned pushes are for the local emulator only',
      );
    return { kind: 'oidc', audience, serviceAccount };
  }
  return unsigned ? { kind: 'unsigned' } : null;
}
