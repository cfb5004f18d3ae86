import fc from 'fast-check';
import { ConfigError } from './errors.js';
import {
  DEFAULT_NOTIFY_ON,
  DEFAULT_URLS,
  NotifyTopics,
  interpolate,
  notifyDestinationsFrom,
  type NotifyDestination,
} from './notify-config.js';

const KNOWN = new Set(['api-backend', 'checkout']);
const ENV = {
  PD_KEY: 'R0UTINGKEY0000000000000000000001',
  SLACK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
  HOOK_SECRET: 'webhook-secret-0123456789abcdef',
  HOST: 'audit.example.com',
};
const read = (raw: unknown[], env: NodeJS.ProcessEnv = ENV) => notifyDestinationsFrom(raw, env, KNOWN, 'burnback.yaml');

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('notifyDestinationsFrom', () => {
  it('reads each kind, with its ${VAR}s from the environment and the defaults for what it leaves out', () => {
    const destinations: NotifyDestination[] = read([
      { name: 'oncall', kind: 'pagerduty', routingKey: '${PD_KEY}', services: ['api-backend'] },
      { name: 'team-chat', kind: 'slack', url: '${SLACK_URL}' },
      { name: 'room', kind: 'google-chat', url: 'https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t', on: ['escalate'] },
      {
        name: 'audit',
        kind: 'webhook',
        url: 'https://${HOST}/burnback',
        secret: '${HOOK_SECRET}',
        on: ['escalate', 'close', 'rollback-started'],
      },
      { name: 'open-hook', kind: 'webhook', url: 'http://127.0.0.1:9000/in', services: ['checkout', 'api-backend'] },
    ]);
    expect(destinations).toStrictEqual([
      {
        name: 'oncall',
        kind: 'pagerduty',
        url: 'https://events.pagerduty.com',
        routingKey: 'R0UTINGKEY0000000000000000000001',
        secret: null,
        on: ['escalate', 'recommend', 'rollback', 'rollback-succeeded', 'rollback-failed', 'rollback-superseded'],
        services: ['api-backend'],
      },
      {
        name: 'team-chat',
        kind: 'slack',
        url: 'https://hooks.slack.com/services/T000/B000/XXXX',
        routingKey: null,
        secret: null,
        on: ['escalate', 'recommend', 'rollback', 'rollback-succeeded', 'rollback-failed', 'rollback-superseded'],
        services: null,
      },
      {
        name: 'room',
        kind: 'google-chat',
        url: 'https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t',
        routingKey: null,
        secret: null,
        on: ['escalate'],
        services: null,
      },
      {
        name: 'audit',
        kind: 'webhook',
        url: 'https://audit.example.com/burnback',
        routingKey: null,
        secret: 'webhook-secret-0123456789abcdef',
        on: ['escalate', 'close', 'rollback-started'],
        services: null,
      },
      {
        name: 'open-hook',
        kind: 'webhook',
        url: 'http://127.0.0.1:9000/in',
        routingKey: null,
        secret: null,
        on: ['escalate', 'recommend', 'rollback', 'rollback-succeeded', 'rollback-failed', 'rollback-superseded'],
        services: ['checkout', 'api-backend'],
      },
    ]);
  });

  it('no notify block is no destination', () => {
    expect(read([])).toEqual([]);
  });

  it("sends PagerDuty to its Events API unless told otherwise, and reads a url's ${VAR}s", () => {
    expect(DEFAULT_URLS).toEqual({ pagerduty: 'https://events.pagerduty.com' });
    const [pd] = read([{ name: 'pd', kind: 'pagerduty', routingKey: 'k', url: 'http://${HOST}:8080' }]);
    expect(pd).toMatchObject({ url: 'http://audit.example.com:8080', routingKey: 'k' });
  });

  it('a destination hears of what a person acts on by default, not holds, closes or starts', () => {
    expect(DEFAULT_NOTIFY_ON).toEqual([
      'escalate',
      'recommend',
      'rollback',
      'rollback-succeeded',
      'rollback-failed',
      'rollback-superseded',
    ]);
    expect(read([{ name: 'c', kind: 'slack', url: 'https://x' }])[0]!.on).toEqual(DEFAULT_NOTIFY_ON);
    expect(read([{ name: 'c', kind: 'slack', url: 'https://x', on: [...NotifyTopics] }])[0]!.on).toEqual([...NotifyTopics]);
  });

  it('takes a webhook secret of exactly 16 characters, after reading its ${VAR}', () => {
    expect(read([{ name: 'h', kind: 'webhook', url: 'https://x', secret: '0123456789abcdef' }])[0]!.secret).toBe('0123456789abcdef');
    expect(read([{ name: 'h', kind: 'webhook', url: 'https://x', secret: '${S}' }], { S: 'sixteen-chars-ok' })[0]!.secret).toBe(
      'sixteen-chars-ok',
    );
  });

  it.each([
    [
      'a name that is not lowercase',
      { name: 'On-Call', kind: 'slack', url: 'https://x' },
      'burnback.yaml.notify[0].name',
      'destination names are lowercase letters, digits, _ and -, at most 63',
    ],
    [
      'a kind it does not know',
      { name: 'x', kind: 'email', url: 'https://x' },
      'burnback.yaml.notify[0].kind',
      expect.stringContaining('"pagerduty"|"slack"|"google-chat"|"webhook"'),
    ],
    [
      'pagerduty without a routing key',
      { name: 'x', kind: 'pagerduty' },
      'burnback.yaml.notify[0].routingKey',
      'is required for kind pagerduty (the Events API v2 integration key)',
    ],
    [
      'a routing key on slack',
      { name: 'x', kind: 'slack', url: 'https://x', routingKey: 'k' },
      'burnback.yaml.notify[0].routingKey',
      'only means something for kind pagerduty',
    ],
    [
      'a routing key on a webhook',
      { name: 'x', kind: 'webhook', url: 'https://x', routingKey: 'k' },
      'burnback.yaml.notify[0].routingKey',
      'only means something for kind pagerduty',
    ],
    [
      'a secret on slack',
      { name: 'x', kind: 'slack', url: 'https://x', secret: '0123456789abcdef' },
      'burnback.yaml.notify[0].secret',
      'only means something for kind webhook',
    ],
    [
      'a secret on pagerduty',
      { name: 'x', kind: 'pagerduty', routingKey: 'k', secret: '0123456789abcdef' },
      'burnback.yaml.notify[0].secret',
      'only means something for kind webhook',
    ],
    [
      'a secret on google-chat',
      { name: 'x', kind: 'google-chat', url: 'https://x', secret: '0123456789abcdef' },
      'burnback.yaml.notify[0].secret',
      'only means something for kind webhook',
    ],
    ['slack without a url', { name: 'x', kind: 'slack' }, 'burnback.yaml.notify[0].url', 'is required for kind slack'],
    ['google-chat without a url', { name: 'x', kind: 'google-chat' }, 'burnback.yaml.notify[0].url', 'is required for kind google-chat'],
    [
      'a webhook without a url',
      { name: 'x', kind: 'webhook', secret: '0123456789abcdef' },
      'burnback.yaml.notify[0].url',
      'is required for kind webhook',
    ],
    ['an empty url', { name: 'x', kind: 'slack', url: '' }, 'burnback.yaml.notify[0].url', expect.stringContaining('>=1')],
    [
      'an unknown key',
      { name: 'x', kind: 'slack', url: 'https://x', channel: '#ops' },
      'burnback.yaml.notify[0]',
      'unknown key(s) channel',
    ],
    [
      'unknown keys',
      { name: 'x', kind: 'slack', url: 'https://x', channel: '#ops', topic: 'all' },
      'burnback.yaml.notify[0]',
      'unknown key(s) channel, topic',
    ],
    [
      'an empty on',
      { name: 'x', kind: 'slack', url: 'https://x', on: [] },
      'burnback.yaml.notify[0].on',
      `name at least one of ${NotifyTopics.join(', ')}`,
    ],
    [
      'a topic it does not know',
      { name: 'x', kind: 'slack', url: 'https://x', on: ['escalate', 'paged'] },
      'burnback.yaml.notify[0].on.1',
      expect.stringContaining('"escalate"|"recommend"'),
    ],
    [
      'an empty services list',
      { name: 'x', kind: 'slack', url: 'https://x', services: [] },
      'burnback.yaml.notify[0].services',
      expect.stringContaining('>=1'),
    ],
    ['a destination that is not a map', 'slack', 'burnback.yaml.notify[0]', expect.stringContaining('expected object')],
  ])('refuses %s, naming the key', (_what, entry, key, message) => {
    const err = errorOf(() => read([entry]));
    expect(err.key).toBe(key);
    expect(err.message.startsWith(`${key}: `)).toBe(true);
    expect(err.message.slice(key.length + 2)).toEqual(message);
    expect(err.name).toBe('ConfigError');
  });

  it('names the entry by its index in the block', () => {
    const err = errorOf(() =>
      read([
        { name: 'a', kind: 'slack', url: 'https://x' },
        { name: 'b', kind: 'slack' },
      ]),
    );
    expect(err.message).toBe('burnback.yaml.notify[1].url: is required for kind slack');
  });

  it('refuses a name used twice, at the second', () => {
    const err = errorOf(() =>
      read([
        { name: 'a', kind: 'slack', url: 'https://x' },
        { name: 'b', kind: 'slack', url: 'https://x' },
        { name: 'a', kind: 'webhook', url: 'https://y' },
      ]),
    );
    expect(err.key).toBe('burnback.yaml.notify[2].name');
    expect(err.message).toBe('burnback.yaml.notify[2].name: destination "a" is named twice; names must be unique');
  });

  it('refuses a service the config does not have', () => {
    const err = errorOf(() => read([{ name: 'a', kind: 'slack', url: 'https://x', services: ['api-backend', 'payments'] }]));
    expect(err.key).toBe('burnback.yaml.notify[0].services');
    expect(err.message).toBe('burnback.yaml.notify[0].services: "payments" is not a configured service');
  });

  it.each([
    ['url', { name: 'a', kind: 'slack', url: '${NOPE}' }],
    ['url', { name: 'a', kind: 'slack', url: 'https://${HOST}/${NOPE}' }],
    ['routingKey', { name: 'a', kind: 'pagerduty', routingKey: '${NOPE}' }],
    ['secret', { name: 'a', kind: 'webhook', url: 'https://x', secret: 'prefix-0123456789-${NOPE}' }],
  ])('refuses a %s that reads a variable not set, or set empty, naming it', (field, entry) => {
    for (const env of [ENV, { ...ENV, NOPE: '' }]) {
      const err = errorOf(() => read([entry], env));
      expect(err.key).toBe(`burnback.yaml.notify[0].${field}`);
      expect(err.message).toBe(`burnback.yaml.notify[0].${field}: reads \${NOPE}, which is not set in the environment`);
    }
  });

  it.each([
    ['written short', '0123456789abcde', ENV],
    ['short once read', '${S}', { S: '0123456789abcde' }],
  ])('refuses a webhook secret %s: at least 16 characters', (_what, secret, env) => {
    const err = errorOf(() => read([{ name: 'h', kind: 'webhook', url: 'https://x', secret }], env));
    expect(err.key).toBe('burnback.yaml.notify[0].secret');
    expect(err.message).toBe('burnback.yaml.notify[0].secret: a webhook secret must be at least 16 characters');
  });

  it.each([
    ['ftp://files.example.com/in', {}],
    ['${U}', { U: 'ftp://files.example.com/in' }],
    ['${U}', { U: 'not a url' }],
    ['hooks.slack.com/services/T/B/X', {}],
    ['${U}/in', { U: 'mailto:ops@example.com' }],
  ])('refuses a url that is not http(s) once read: %s with %j', (url, env) => {
    const err = errorOf(() => read([{ name: 'a', kind: 'slack', url }], env));
    expect(err.key).toBe('burnback.yaml.notify[0].url');
    expect(err.message).toBe('burnback.yaml.notify[0].url: is not an http(s) URL once its ${VAR}s are read');
  });

  it('refuses a PagerDuty url that is not http(s) once read', () => {
    const err = errorOf(() => read([{ name: 'pd', kind: 'pagerduty', routingKey: 'k', url: '${U}' }], { U: 'ws://pd' }));
    expect(err.message).toBe('burnback.yaml.notify[0].url: is not an http(s) URL once its ${VAR}s are read');
  });

  it('takes http and https urls alike', () => {
    expect(read([{ name: 'a', kind: 'slack', url: '${U}' }], { U: 'http://127.0.0.1:1/x' })[0]!.url).toBe('http://127.0.0.1:1/x');
    expect(read([{ name: 'a', kind: 'slack', url: '${U}' }], { U: 'https://h/x' })[0]!.url).toBe('https://h/x');
  });
});

describe('interpolate', () => {
  it('replaces each ${VAR}, the same one as often as it appears', () => {
    expect(interpolate('https://${HOST}:${PORT}/${HOST}', { HOST: 'h', PORT: '8080' }, 'at')).toBe('https://h:8080/h');
    expect(interpolate('${_lower_1}${UPPER9}', { _lower_1: 'a', UPPER9: 'b' }, 'at')).toBe('ab');
  });

  it('leaves alone what is not a ${VAR}', () => {
    const env = { A: 'x', '1A': 'y', 'A-B': 'z' };
    for (const text of ['$A', '{A}', '${1A}', '${A-B}', '${ A }', '${}', '$ {A}', 'plain']) expect(interpolate(text, env, 'at')).toBe(text);
    expect(interpolate('$${A}}', env, 'at')).toBe('$x}');
  });

  it("does not read a value's own ${VAR}s", () => {
    expect(interpolate('${A}', { A: '${B}', B: 'no' }, 'at')).toBe('${B}');
  });

  it('refuses a variable not set or empty, naming it and where it was read', () => {
    for (const env of [{}, { MISSING: '' }]) {
      const err = errorOf(() => interpolate('a ${SET} and ${MISSING}', { ...env, SET: 's' }, 'notify[3].url'));
      expect(err.key).toBe('notify[3].url');
      expect(err.message).toBe('notify[3].url: reads ${MISSING}, which is not set in the environment');
    }
  });

  it('replaces every ${VAR} with its value and leaves every other text alone', () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
    const text = fc.string({ unit: 'binary' }).filter((t) => !t.includes('${'));
    fc.assert(
      fc.property(fc.array(fc.tuple(text, name, fc.string({ unit: 'binary', minLength: 1 }))), text, (parts, tail) => {
        const env: Record<string, string> = {};
        for (const [, n, v] of parts) env[n] = v;
        const template = parts.map(([t, n]) => `${t}\${${n}}`).join('') + tail;
        const expected = parts.map(([t, n]) => `${t}${env[n]}`).join('') + tail;
        expect(interpolate(template, env, 'at')).toBe(expected);
      }),
    );
  });

  it('returns text with no ${ unchanged, whatever the environment', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((t) => !t.includes('${')),
        (t) => {
          expect(interpolate(t, {}, 'at')).toBe(t);
        },
      ),
    );
  });
});
