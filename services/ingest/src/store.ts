import type { Firestore } from '@google-cloud/firestore';
import { Collections, PermanentError, type AlertSource } from '@burnback/contracts';

/** `notifications/{id}`: a raw notification exactly as it arrived, kept for replay. */
export interface StoredNotification {
  id: string;
  source: AlertSource;
  receivedAt: string;
  incidentId: string | null;
  state: string | null;
  /** The raw body, as UTF-8 text. */
  raw: string;
  messageId: string | null;
}

/** Ingest's Firestore documents. */
export interface NotificationStore {
  /**
   * Keeps a raw notification; storing the same id twice keeps the first. Throws
   * PermanentError for one the store can never keep (over its document size
   * limit, or otherwise refused as an invalid argument); anything else may pass on retry.
   */
  save(notification: StoredNotification): Promise<void>;
}

/** Firestore's largest document (1 MiB), as it counts sizes (firebase.google.com/docs/firestore/storage-size). */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

/** gRPC status codes Firestore answers with. */
const INVALID_ARGUMENT = 3;
const ALREADY_EXISTS = 6;

/** A string's size as Firestore counts it: its UTF-8 bytes + 1. */
const stringBytes = (text: string) => Buffer.byteLength(text, 'utf8') + 1;

/**
 * The size Firestore gives `notifications/{id}` holding `notification`: the
 * document name (collection and document ids, + 16), each field's name and value
 * (a string's UTF-8 bytes + 1, null 1), + 32.
 */
export function storedNotificationBytes(notification: StoredNotification): number {
  const name = stringBytes(Collections.notifications) + stringBytes(notification.id) + 16;
  const fields = Object.entries(notification).reduce(
    (sum, [field, value]) => sum + stringBytes(field) + (typeof value === 'string' ? stringBytes(value) : 1),
    0,
  );
  return name + fields + 32;
}

/**
 * A notification Firestore can never keep (over its document size limit), refused before the round trip, so the
 * caller refuses this notification rather than retry it for good; null when it fits.
 */
export function tooLargeToKeep(notification: StoredNotification): PermanentError | null {
  const bytes = storedNotificationBytes(notification);
  return bytes > MAX_DOCUMENT_BYTES
    ? new PermanentError(
        `notification ${notification.id} would be a ${bytes}-byte document; Firestore keeps at most ${MAX_DOCUMENT_BYTES} bytes`,
      )
    : null;
}

/**
 * What a failed archive write means: kept already (the same id stored twice keeps the first: returns), refused for
 * good (INVALID_ARGUMENT: PermanentError), or anything else, which may pass on retry (rethrown).
 */
export function afterWriteError(notification: StoredNotification, err: unknown): void {
  const code = (err as { code?: unknown }).code;
  if (code === ALREADY_EXISTS) return;
  if (code === INVALID_ARGUMENT)
    throw new PermanentError(`Firestore refused notification ${notification.id} (gRPC 3 INVALID_ARGUMENT): ${(err as Error).message}`, {
      cause: err,
    });
  throw err;
}

/** How long a notification's archive waits for others to share its write (a storm's notifications go together). */
export const ARCHIVE_LINGER_MS = 5;

/**
 * Notifications kept in Firestore. The writes of notifications that arrive
 * within ARCHIVE_LINGER_MS of each other go together (Firestore's BulkWriter,
 * unthrottled, never retried: the sender's retry is the retry), so a storm costs
 * a round trip per batch of up to 20 rather than one per notification; each
 * save still resolves or fails on its own write.
 */
export class FirestoreNotificationStore implements NotificationStore {
  private pending: Array<{ notification: StoredNotification; resolve: () => void; reject: (err: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Firestore) {}

  private flush(): void {
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    let writer;
    try {
      writer = this.db.bulkWriter({ throttling: false });
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    writer.onWriteError(() => false);
    for (const p of batch)
      writer.create(this.db.collection(Collections.notifications).doc(p.notification.id), p.notification).then(
        () => p.resolve(),
        (err: unknown) => p.reject(err),
      );
    void writer.close().catch(() => undefined);
  }

  private write(notification: StoredNotification): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ notification, resolve, reject });
      this.timer ??= setTimeout(() => this.flush(), ARCHIVE_LINGER_MS);
    });
  }

  async save(notification: StoredNotification): Promise<void> {
    const tooLarge = tooLargeToKeep(notification);
    if (tooLarge) throw tooLarge;
    try {
      await this.write(notification);
    } catch (err) {
      afterWriteError(notification, err);
    }
  }
}
