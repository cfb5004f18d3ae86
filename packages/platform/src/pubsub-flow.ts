import type { Subscription } from '@google-cloud/pubsub';

/** The client's LeaseManager (its inventory of held messages): a field the library does not export; unknown until open. */
const leaseManagerOf = (subscription: Subscription): unknown =>
  (subscription as unknown as { _subscriber?: { _inventory?: unknown } })._subscriber?._inventory;

/**
 * Bounds what the Pub/Sub client holds past its flow-control window.
 *
 * The client pauses its combined message stream when its inventory is full
 * (flowControl.maxMessages), but its gRPC streams feed that stream through
 * 'data' listeners, so the pause never reaches them: whatever the server sends
 * past the window waits in the client's pending list, leased and extended,
 * without bound. Pub/Sub itself stops at max_outstanding_messages; the
 * emulator does not, and `npm start`, the tests and the benches run on it
 * (30,000 messages, a window of 1,000, handled 300 a second: the client held
 * 25,000 within 15 s; in the 100,000-notification storm ingest ran out of heap).
 *
 * Once `limit` messages wait past the window, this pauses the gRPC streams
 * themselves (gRPC stops reading; HTTP/2's flow control keeps the rest on the
 * server) and resumes them when half of those have been handed over. Only then:
 * pausing at the window itself, on every subscription, was tried and made the
 * 10,000 storm far slower (the emulator ended the paused streams of the
 * decider's ordered fast lane again and again), so below the limit the client
 * behaves as it always did. It patches the client's LeaseManager class once
 * per process (the limit is each subscription's own), through fields the
 * library does not export; when they are not there (a library that changed),
 * it changes nothing and says so (false).
 */
export function capHeldMessages(subscription: Subscription, limit: number): boolean {
  const inventory = leaseManagerOf(subscription);
  if (!isCappable(inventory)) return false;
  inventory[CAP] = { limit, paused: false };
  const proto = Object.getPrototypeOf(inventory) as CappableShape & { [CAPPED]?: true };
  if (proto[CAPPED]) return true;
  const { add, remove } = proto;
  const streamsOf = (manager: CappableShape) => manager._subscriber._stream?._streams ?? [];
  proto.add = function (this: CappableShape, message: unknown) {
    add.call(this, message);
    const cap = this[CAP];
    // Every stream, each time: one the client opened again meanwhile starts reading.
    if (cap && this._pending.length >= cap.limit) {
      cap.paused = true;
      for (const tracker of streamsOf(this)) tracker.stream?.pause();
    }
  };
  proto.remove = function (this: CappableShape, message: unknown) {
    remove.call(this, message);
    const cap = this[CAP];
    if (cap?.paused && this._pending.length <= cap.limit / 2) {
      cap.paused = false;
      for (const tracker of streamsOf(this)) tracker.stream?.resume();
    }
  };
  proto[CAPPED] = true;
  return true;
}

const CAP = Symbol.for('burnback.pubsub.heldCap');
const CAPPED = Symbol.for('burnback.pubsub.capHeldMessages');

interface CappableShape {
  [CAP]?: { limit: number; paused: boolean };
  _pending: unknown[];
  _subscriber: { _stream?: { _streams?: Array<{ stream?: { pause(): unknown; resume(): unknown } }> } };
  add: (this: CappableShape, message: unknown) => void;
  remove: (this: CappableShape, message: unknown) => void;
}

function isCappable(value: unknown): value is CappableShape {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<CappableShape>;
  return (
    Array.isArray(v._pending) &&
    typeof v.add === 'function' &&
    typeof v.remove === 'function' &&
    Array.isArray(v._subscriber?._stream?._streams)
  );
}

/**
 * Extends every held message's lease once every third of a lease: neither
 * sooner nor later, whatever the client would plan on its own.
 *
 * The client plans each round at a random moment within (0.9 × the lease − the
 * 99th percentile of its modAck "latency"), and that latency is only the time
 * a modAck waits in the client's queue (~0.1 s), not the server's answer. So
 * with the 10 s lease (LEASE_CEILING) rounds came up to 8.9 s apart, and a
 * message waiting in the window was lost to the server whenever a round, its
 * RPC and a busy event loop took more than the second left: in the 10,000
 * storm Pub/Sub handed ingest 977 and 6,954 notifications again (two runs;
 * rounds timed up to 10 s apart inside ingest in the 100,000 storm); every
 * third of a lease, 177 and 0, with two thirds of a lease left for the
 * answer. The other way, a server slower than
 * 9 s made the client's plan zero: it extended every message again at once,
 * and again, each round adding a modAck per held message to a queue already
 * too slow (the 100,000-notification storm: 64,503 pending modAcks in ingest
 * and 56,375 in the decider when they ran out of heap). Patched once per
 * process, like capHeldMessages; false when the client's shape is not the one
 * known.
 */
export function paceLeaseExtensions(subscription: Subscription): boolean {
  const inventory = leaseManagerOf(subscription);
  if (!isLeaseManager(inventory)) return false;
  const proto = Object.getPrototypeOf(inventory) as LeaseManagerShape & { [PACED]?: true };
  if (proto[PACED]) return true;
  proto._getNextExtensionTimeoutMs = function (this: LeaseManagerShape) {
    return (this._subscriber.ackDeadline * 1000) / 3;
  };
  proto[PACED] = true;
  return true;
}

const PACED = Symbol.for('burnback.pubsub.paceLeaseExtensions');

interface LeaseManagerShape {
  _subscriber: { ackDeadline: number };
  _getNextExtensionTimeoutMs: (this: LeaseManagerShape) => number;
}

function isLeaseManager(value: unknown): value is LeaseManagerShape {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<LeaseManagerShape>;
  return typeof v._getNextExtensionTimeoutMs === 'function' && typeof v._subscriber?.ackDeadline === 'number';
}
