import type { RegistryEvent } from '../core/events.js';

/** An outbox row: the event and its position (delivery order). */
export interface StoredEvent {
  seq: number;
  event: RegistryEvent;
}

/**
 * pending: attempted and failed, retried at nextAt; delivered; failed: given up
 * (kept for `stowage events retry`); requeued: an operator asked for another try.
 */
export type DeliveryState = 'pending' | 'delivered' | 'failed' | 'requeued' | 'skipped';

export interface DeliveryRecord {
  endpoint: string;
  seq: number;
  state: DeliveryState;
  attempts: number;
  lastError?: string;
  nextAt?: number;
  updatedAt: number;
}

/**
 * The outbox and its delivery state. Events are appended by the metadata writes
 * they describe (same transaction); each endpoint has a cursor, the last seq it is
 * done with, so delivery is in order per endpoint and resumes after a restart.
 */
export interface EventStore {
  /** Events with seq > `after`, oldest first. */
  eventsAfter(after: number, limit: number): Promise<StoredEvent[]>;
  /** The last seq the endpoint is done with (0 for a new endpoint). */
  eventCursor(endpoint: string): Promise<number>;
  /** Records an attempt's outcome; with `advance`, the endpoint's cursor moves to its seq in the same transaction. */
  recordDelivery(record: DeliveryRecord, advance: boolean): Promise<void>;
  /** Moves the cursor past events the endpoint does not want (no delivery row). */
  advanceEventCursor(endpoint: string, seq: number): Promise<void>;
  /** Delivery rows, newest first, optionally of one endpoint and state. */
  deliveries(query: { endpoint?: string; state?: DeliveryState; limit: number }): Promise<DeliveryRecord[]>;
  /** Marks failed deliveries (of one endpoint, optionally one seq) requeued; how many. */
  requeueDeliveries(endpoint: string, seq?: number): Promise<number>;
  /** Events by seq (requeued deliveries). */
  getEvents(seqs: number[]): Promise<StoredEvent[]>;
  /** Drops events at or below `seq` recorded before `before`; how many. */
  pruneEvents(seq: number, before: number): Promise<number>;
}
