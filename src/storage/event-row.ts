import type { RegistryEvent } from '../core/events.js';
import type { DeliveryRecord, DeliveryState, StoredEvent } from './event-store.js';

/** Outbox rows as both SQL drivers read them (PostgreSQL's BIGINTs arrive as strings). */
export interface EventRow {
  seq: number | string;
  body: string;
}

export interface DeliveryRow {
  endpoint: string;
  seq: number | string;
  state: string;
  attempts: number;
  last_error: string | null;
  next_at: number | string | null;
  updated_at: number | string;
}

export function toStoredEvent(row: EventRow): StoredEvent {
  return { seq: Number(row.seq), event: JSON.parse(row.body) as RegistryEvent };
}

export function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    endpoint: row.endpoint,
    seq: Number(row.seq),
    state: row.state as DeliveryState,
    attempts: row.attempts,
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.next_at !== null ? { nextAt: Number(row.next_at) } : {}),
    updatedAt: Number(row.updated_at),
  };
}
