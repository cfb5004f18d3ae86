import type { Firestore } from '@google-cloud/firestore';
import { Collections, type AlertSource } from '@burnback/contracts';

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
  /** Keeps a raw notification; storing the same id twice keeps the first. */
  save(notification: StoredNotification): Promise<void>;
}

export class FirestoreNotificationStore implements NotificationStore {
  constructor(private readonly db: Firestore) {}

  async save(notification: StoredNotification): Promise<void> {
    try {
      await this.db.collection(Collections.notifications).doc(notification.id).create(notification);
    } catch (err) {
      if ((err as { code?: number }).code === 6 /* ALREADY_EXISTS */) return;
      throw err;
    }
  }
}
