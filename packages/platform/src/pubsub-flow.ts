import type { Subscription } from '@google-cloud/pubsub';

/**
 * Makes the Pub/Sub client's flow control hold on the wire, not in memory.
 *
 * The client (5.x) pauses its combined message stream when its inventory is
 * full (flowControl.maxMessages), but the StreamingPull streams feed that stream
 * through 'data' listeners, so the pause never reaches them: whatever the server
 * sends past the window is kept in the client's pending list, leased and
 * extended, without bound. Pub/Sub itself stops at max_outstanding_messages;
 * the emulator does not, and `npm start`, the tests and the benches run on it:
 * ingest ran out of its 128 MiB heap 80 s into a 100,000-notification storm,
 * holding tens of thousands of notifications its window of 1,000 never
 * admitted. Measured on the emulator (30,000 messages, window 1,000, handled
 * 300 a second): the client's inventory grew to 25,000 within 15 s; with the
 * pause forwarded it stayed at 1,020–1,090, handled as fast.
 *
 * This forwards the pause and the resume to each gRPC stream (and pauses a
 * stream opened while paused), so gRPC stops reading and HTTP/2's own flow
 * control keeps the rest on the server, which redelivers it later. It patches
 * the client's MessageStream class once per process, through fields the library
 * does not export; when they are not there (a library that changed), it changes
 * nothing and says so (false).
 */
export function forwardFlowControl(subscription: Subscription): boolean {
  const stream = (subscription as unknown as { _subscriber?: { _stream?: unknown } })._subscriber?._stream;
  if (!isMessageStream(stream)) return false;
  const proto = Object.getPrototypeOf(stream) as MessageStreamShape & { [FORWARDED]?: true };
  if (proto[FORWARDED]) return true;
  const { pause, resume, _replaceStream: replaceStream } = proto;
  proto.pause = function (this: MessageStreamShape) {
    for (const tracker of this._streams) tracker.stream?.pause();
    return pause.call(this);
  };
  proto.resume = function (this: MessageStreamShape) {
    for (const tracker of this._streams) tracker.stream?.resume();
    return resume.call(this);
  };
  proto._replaceStream = function (this: MessageStreamShape, index: number, grpcStream: GrpcStream, reason: unknown) {
    replaceStream.call(this, index, grpcStream, reason);
    if (this.isPaused()) grpcStream.pause();
  };
  proto[FORWARDED] = true;
  return true;
}

const FORWARDED = Symbol.for('burnback.pubsub.forwardFlowControl');

interface GrpcStream {
  pause(): unknown;
  resume(): unknown;
}

interface MessageStreamShape {
  _streams: Array<{ stream?: GrpcStream }>;
  pause: (this: MessageStreamShape) => unknown;
  resume: (this: MessageStreamShape) => unknown;
  isPaused: (this: MessageStreamShape) => boolean;
  _replaceStream: (this: MessageStreamShape, index: number, stream: GrpcStream, reason: unknown) => void;
}

function isMessageStream(value: unknown): value is MessageStreamShape {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<MessageStreamShape>;
  return (
    Array.isArray(v._streams) &&
    typeof v.pause === 'function' &&
    typeof v.resume === 'function' &&
    typeof v.isPaused === 'function' &&
    typeof v._replaceStream === 'function'
  );
}

/**
 * Keeps the client's lease extensions to one round every third of a lease at the most.
 *
 * The client extends every held message's lease at a random moment within
 * (0.9 × the lease − the 99th percentile of its modAck latency). With the
 * 10 s lease (LEASE_CEILING) a latency past 9 s makes that zero: it extends
 * every message again at once, and again, each round adding a modAck per held
 * message to a queue already too slow — which makes it slower. In the
 * 100,000-notification storm on the emulator this spiral held 64,503 pending
 * modAcks in ingest and 56,375 in the decider when both ran out of heap (their
 * heap snapshots), while the Pub/Sub emulator used one and a half cores. A round more often
 * than every third of a lease cannot save a lease the server is that slow to
 * extend; it only feeds the spiral. Patched once per process, like
 * forwardFlowControl; false when the client's shape is not the one known.
 */
export function paceLeaseExtensions(subscription: Subscription): boolean {
  const inventory = (subscription as unknown as { _subscriber?: { _inventory?: unknown } })._subscriber?._inventory;
  if (!isLeaseManager(inventory)) return false;
  const proto = Object.getPrototypeOf(inventory) as LeaseManagerShape & { [PACED]?: true };
  if (proto[PACED]) return true;
  const next = proto._getNextExtensionTimeoutMs;
  proto._getNextExtensionTimeoutMs = function (this: LeaseManagerShape) {
    return Math.max(next.call(this), (this._subscriber.ackDeadline * 1000) / 3);
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
