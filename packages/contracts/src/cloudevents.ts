import { z } from 'zod';
import { InvalidEventError } from './errors.js';
import { DecisionEvent } from './documents.js';
import { AlertEvent, RollbackCommand, RollbackProgress } from './events.js';
import { EventTypes, type EventType } from './names.js';

/** Each event type with its schema: a new type without a schema does not compile. */
export const EventCatalog = {
  [EventTypes.alert]: AlertEvent,
  [EventTypes.rollbackCommand]: RollbackCommand,
  [EventTypes.rollbackValidate]: RollbackCommand,
  [EventTypes.rollbackProgress]: RollbackProgress,
  [EventTypes.decision]: DecisionEvent,
} as const satisfies Record<EventType, z.ZodType>;

export type EventData<T extends EventType> = z.infer<(typeof EventCatalog)[T]>;

export interface CloudEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  source: string;
  subject: string;
  time: string;
  data: EventData<T>;
}

/** A Pub/Sub message as we publish and receive it (binary content mode). */
export interface PubSubMessageParts {
  data: Buffer;
  attributes: Record<string, string>;
}

export const CE_SPEC_VERSION = '1.0';
export const CE_CONTENT_TYPE = 'application/json';

/** Encodes a CloudEvent in Pub/Sub binary content mode: context in `ce-*` attributes, data as JSON. */
export function encodeCloudEvent<T extends EventType>(event: CloudEvent<T>): PubSubMessageParts {
  const schema = EventCatalog[event.type] as z.ZodType;
  const parsed = schema.safeParse(event.data);
  if (!parsed.success) {
    throw new InvalidEventError(`refusing to encode invalid ${event.type}: ${formatZodError(parsed.error)}`);
  }
  return {
    data: Buffer.from(JSON.stringify(parsed.data), 'utf8'),
    attributes: {
      'ce-specversion': CE_SPEC_VERSION,
      'ce-type': event.type,
      'ce-source': event.source,
      'ce-id': event.id,
      'ce-time': event.time,
      'ce-subject': event.subject,
      'content-type': CE_CONTENT_TYPE,
    },
  };
}

const isEventType = (t: string): t is EventType => Object.prototype.hasOwnProperty.call(EventCatalog, t);

/**
 * Decodes and validates a binary-mode CloudEvent. Throws InvalidEventError with
 * the reason for anything that is not a valid Burnback event of an accepted type.
 */
export function decodeCloudEvent<T extends EventType>(
  message: { data: Buffer | Uint8Array | string; attributes?: Record<string, string> | null },
  accept: readonly T[],
): CloudEvent<T> {
  const attrs = message.attributes ?? {};
  const missing = ['ce-specversion', 'ce-type', 'ce-source', 'ce-id'].filter((a) => !attrs[a]);
  if (missing.length > 0) throw new InvalidEventError(`not a CloudEvent: missing attribute(s) ${missing.join(', ')}`);
  if (attrs['ce-specversion'] !== CE_SPEC_VERSION) {
    throw new InvalidEventError(`unsupported CloudEvents specversion '${attrs['ce-specversion']}'`);
  }
  const type = attrs['ce-type']!;
  if (!isEventType(type) || !(accept as readonly string[]).includes(type)) {
    throw new InvalidEventError(`unexpected event type '${type}' (accepted: ${accept.join(', ')})`);
  }
  const contentType = attrs['content-type'] ?? attrs['ce-datacontenttype'] ?? CE_CONTENT_TYPE;
  if (!contentType.startsWith('application/json')) {
    throw new InvalidEventError(`unsupported content type '${contentType}'`);
  }
  const text = typeof message.data === 'string' ? message.data : Buffer.from(message.data).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError(`event data is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = (EventCatalog[type] as z.ZodType).safeParse(json);
  if (!parsed.success) throw new InvalidEventError(`invalid ${type}: ${formatZodError(parsed.error)}`);
  return {
    id: attrs['ce-id']!,
    type: type as T,
    source: attrs['ce-source']!,
    subject: attrs['ce-subject'] ?? '',
    time: attrs['ce-time'] ?? '',
    data: parsed.data as EventData<T>,
  };
}

/** One line naming each failing path, e.g. `incident.state: Invalid option`. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
