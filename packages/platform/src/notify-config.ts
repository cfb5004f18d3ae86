import { z } from 'zod';
import { DEFAULT_NOTIFY_ON, NotifyKinds, NotifyTopics, type NotifyDestination, type NotifyKind } from '@burnback/contracts';
import { ConfigError } from './errors.js';

/**
 * The config's `notify:` block: where the notifier sends decisions and rollback
 * outcomes. Read by every service with the rest of the config (a mistake stops
 * the stack at start, not at the first page), used by the notifier and by
 * `burnback notify test`. Its vocabulary (kinds, topics, a destination) is in
 * @burnback/contracts, so the notifier's pure modules need nothing of platform.
 */
export {
  DEFAULT_NOTIFY_ON,
  NotifyKinds,
  NotifyTopics,
  type NotifyDestination,
  type NotifyKind,
  type NotifyTopic,
} from '@burnback/contracts';

/** The base URL each kind is sent to by default (PagerDuty's Events API); chat and webhooks name their own. */
export const DEFAULT_URLS: Partial<Record<NotifyKind, string>> = { pagerduty: 'https://events.pagerduty.com' };

export const DEFAULT_NOTIFY_RETRY_MINUTES = 30;

const HttpUrl = z
  .string()
  .min(1)
  .refine((u) => {
    try {
      const { protocol } = new URL(u);
      return protocol === 'https:' || protocol === 'http:';
    } catch {
      return false;
    }
  }, 'expected an http(s) URL');

const DestinationFile = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'destination names are lowercase letters, digits, _ and -, at most 63'),
    kind: z.enum([NotifyKinds.pagerduty, NotifyKinds.slack, NotifyKinds.googleChat, NotifyKinds.webhook]),
    url: z.string().min(1).optional(),
    routingKey: z.string().min(1).optional(),
    secret: z.string().min(1).optional(),
    on: z
      .array(z.enum(NotifyTopics))
      .min(1, 'name at least one of ' + NotifyTopics.join(', '))
      .optional(),
    services: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (d.kind === NotifyKinds.pagerduty && d.routingKey === undefined)
      problem('routingKey', 'is required for kind pagerduty (the Events API v2 integration key)');
    if (d.kind !== NotifyKinds.pagerduty && d.routingKey !== undefined) problem('routingKey', `only means something for kind pagerduty`);
    if (d.kind !== NotifyKinds.webhook && d.secret !== undefined) problem('secret', 'only means something for kind webhook');
    if (d.url === undefined && DEFAULT_URLS[d.kind] === undefined) problem('url', `is required for kind ${d.kind}`);
  });

export const NotifyFile = z.array(z.unknown()).default([]);

/** Replaces each `${VAR}` with the environment's value; a variable not set is a config error naming it. */
export function interpolate(value: string, env: NodeJS.ProcessEnv, at: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') throw new ConfigError(at, `reads \${${name}}, which is not set in the environment`);
    return v;
  });
}

const secretOf = (secret: string, at: string): string => {
  if (secret.length < 16) throw new ConfigError(at, 'a webhook secret must be at least 16 characters');
  return secret;
};

/**
 * Reads the `notify:` block: each destination checked, names unique, each
 * `services:` entry a configured service; then, with `resolve` (the notifier, and
 * `burnback notify test`: the processes that hold the secrets), `${VAR}` read from
 * the environment (after the check, so an error never shows a secret). Without
 * it the block is checked and nothing is returned: ingest, the decider and the
 * executor start without the notifier's secrets.
 */
export function notifyDestinationsFrom(
  raw: readonly unknown[],
  env: NodeJS.ProcessEnv,
  knownServices: ReadonlySet<string>,
  at: string,
  resolve = true,
): NotifyDestination[] {
  const seen = new Set<string>();
  return raw
    .map((entry, i) => {
      const where = `${at}.notify[${i}]`;
      const parsed = DestinationFile.safeParse(entry);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const key = [where, ...issue.path.map(String)].join('.');
        throw new ConfigError(key, issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message);
      }
      const d = parsed.data;
      if (seen.has(d.name)) throw new ConfigError(`${where}.name`, `destination "${d.name}" is named twice; names must be unique`);
      seen.add(d.name);
      for (const s of d.services ?? [])
        if (!knownServices.has(s)) throw new ConfigError(`${where}.services`, `"${s}" is not a configured service`);
      return d;
    })
    .flatMap((d, i): NotifyDestination[] => {
      if (!resolve) return [];
      const where = `${at}.notify[${i}]`;
      const url = interpolate(d.url ?? DEFAULT_URLS[d.kind]!, env, `${where}.url`);
      if (!HttpUrl.safeParse(url).success) throw new ConfigError(`${where}.url`, 'is not an http(s) URL once its ${VAR}s are read');
      return [
        {
          name: d.name,
          kind: d.kind,
          url,
          routingKey: d.routingKey === undefined ? null : interpolate(d.routingKey, env, `${where}.routingKey`),
          secret: d.secret === undefined ? null : secretOf(interpolate(d.secret, env, `${where}.secret`), `${where}.secret`),
          on: d.on ?? DEFAULT_NOTIFY_ON,
          services: d.services ?? null,
        },
      ];
    });
}
