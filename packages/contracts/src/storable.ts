/**
 * Whether a value that came from outside can be an id Burnback stores and
 * sends: a Firestore document id (incidents/{incidentId}, redecisions/…) and
 * part of Pub/Sub attributes (a CloudEvent's `subject`, an ordering key). One
 * rule for every route and subscriber, so an id that cannot be stored is
 * refused once, where it enters, with the reason — never retried. Pure.
 *
 * Firestore: a document id is valid UTF-8 of at most 1,500 bytes, holds no
 * `/`, is not `.` or `..`, and does not match `__.*__`
 * (https://firebase.google.com/docs/firestore/quotas#collections_documents_and_fields).
 * Pub/Sub: an attribute value is at most 1,024 bytes, an ordering key at most
 * 1,024 bytes (https://cloud.google.com/pubsub/quotas#resource_limits).
 */

/**
 * The longest incident id accepted, in UTF-8 bytes: well inside both limits, with
 * room for `services/{service}/incidents/{id}` in one attribute (Monitoring's own
 * ids, such as `0.opqiw61fsv7p`, are a few dozen bytes).
 */
export const MAX_INCIDENT_ID_BYTES = 512;
/** The longest service name accepted (config keys; they are ordering keys and document ids). */
export const MAX_SERVICE_NAME_BYTES = 128;

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Why `id` cannot be a Firestore document id (named `what` in the reason), or null when it can. */
export function documentIdProblem(id: string, what: string, maxBytes = 1500): string | null {
  if (id.length === 0) return `${what} is empty`;
  const bytes = utf8Bytes(id);
  if (bytes > maxBytes) return `${what} is ${bytes} bytes long; at most ${maxBytes} are accepted`;
  if (id.includes('/')) return `${what} ${JSON.stringify(id)} holds a "/", which Firestore reads as a path`;
  if (id === '.' || id === '..') return `${what} ${JSON.stringify(id)} is not a valid Firestore document id`;
  if (id.length >= 4 && id.startsWith('__') && id.endsWith('__'))
    return `${what} ${JSON.stringify(id)} matches __…__, which Firestore reserves`;
  for (let i = 0; i < id.length; i++) {
    const code = id.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return `${what} holds a control character (U+${code.toString(16).padStart(4, '0').toUpperCase()})`;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = id.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return `${what} holds an unpaired UTF-16 surrogate (not well-formed Unicode)`;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return `${what} holds an unpaired UTF-16 surrogate (not well-formed Unicode)`;
    }
  }
  return null;
}

/** Why an incident id (from a notification, a URL, an event) cannot be stored and sent, or null when it can. */
export function incidentIdProblem(id: string): string | null {
  return documentIdProblem(id, 'incident id', MAX_INCIDENT_ID_BYTES);
}

/** Why a service name cannot be stored and sent (a document id and an ordering key), or null when it can. */
export function serviceNameProblem(name: string): string | null {
  return documentIdProblem(name, 'service name', MAX_SERVICE_NAME_BYTES);
}

/** Pub/Sub's limits on one message (https://cloud.google.com/pubsub/quotas#resource_limits). */
export const PubSubLimits = {
  attributes: 100,
  attributeKeyBytes: 256,
  attributeValueBytes: 1024,
  orderingKeyBytes: 1024,
  dataBytes: 10_000_000,
} as const;

/**
 * Why Pub/Sub would refuse this message in itself (on every retry), or null
 * when it fits. The Pub/Sub emulator accepts what the service refuses, so the
 * publisher checks before it sends: a test on the emulator then sees what
 * production would.
 */
export function pubsubMessageProblem(data: Buffer, attributes: Readonly<Record<string, string>>, orderingKey?: string): string | null {
  if (data.length > PubSubLimits.dataBytes) return `the message is ${data.length} bytes; Pub/Sub takes at most ${PubSubLimits.dataBytes}`;
  const entries = Object.entries(attributes);
  if (entries.length > PubSubLimits.attributes)
    return `the message has ${entries.length} attributes; Pub/Sub takes at most ${PubSubLimits.attributes}`;
  for (const [key, value] of entries) {
    const keyBytes = utf8Bytes(key);
    if (keyBytes > PubSubLimits.attributeKeyBytes)
      return `attribute name ${JSON.stringify(key.slice(0, 40))}… is ${keyBytes} bytes; Pub/Sub takes at most ${PubSubLimits.attributeKeyBytes}`;
    const valueBytes = utf8Bytes(value);
    if (valueBytes > PubSubLimits.attributeValueBytes)
      return `attribute ${JSON.stringify(key)} is ${valueBytes} bytes; Pub/Sub takes at most ${PubSubLimits.attributeValueBytes}`;
  }
  if (orderingKey !== undefined && utf8Bytes(orderingKey) > PubSubLimits.orderingKeyBytes)
    return `the ordering key is ${utf8Bytes(orderingKey)} bytes; Pub/Sub takes at most ${PubSubLimits.orderingKeyBytes}`;
  return null;
}
