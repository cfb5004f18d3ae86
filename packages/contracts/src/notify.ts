/**
 * The vocabulary of the config's `notify:` block, shared by the config reader
 * (platform) and the notifier's pure modules: the kinds of destination, the
 * topics a destination hears of, and a destination once read.
 */
export const NotifyKinds = { pagerduty: 'pagerduty', slack: 'slack', googleChat: 'google-chat', webhook: 'webhook' } as const;
export type NotifyKind = (typeof NotifyKinds)[keyof typeof NotifyKinds];

/** What a destination can hear of: a decision's action, or a rollback's stage. */
export const NotifyTopics = [
  'escalate',
  'recommend',
  'rollback',
  'hold',
  'close',
  'rollback-started',
  'rollback-succeeded',
  'rollback-failed',
  'rollback-superseded',
] as const;
export type NotifyTopic = (typeof NotifyTopics)[number];

/** What a destination hears of when its `on` is not given: everything a person acts on, not holds or closes. */
export const DEFAULT_NOTIFY_ON: readonly NotifyTopic[] = [
  'escalate',
  'recommend',
  'rollback',
  'rollback-succeeded',
  'rollback-failed',
  'rollback-superseded',
];

export interface NotifyDestination {
  name: string;
  kind: NotifyKind;
  /** Where to send: PagerDuty's base URL (…/v2/enqueue is appended), or the chat or webhook URL itself. A secret for chat. */
  url: string;
  /** PagerDuty only: the integration's routing key (a secret). */
  routingKey: string | null;
  /** Webhook only: the HMAC key of X-Burnback-Signature (a secret). */
  secret: string | null;
  on: readonly NotifyTopic[];
  /** The services it hears of; null = all. */
  services: readonly string[] | null;
}
