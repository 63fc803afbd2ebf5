import type pg from 'pg';

/** The channel the blob_links trigger (schema.ts) notifies when links go. */
export const LINKS_CHANNEL = 'stowage_blob_links_removed';
/** Entries kept; the oldest goes first. A (repository, digest, size) entry is ~200 bytes. */
const MAX_ENTRIES = 50_000;
/** Wait before listening again after the listener's connection failed. */
const RELISTEN_MS = 1000;

/**
 * Positive answers of "is this blob linked in this repository, and how big is it?",
 * kept by this replica so a HEAD needs no database round trip. Correct across
 * replicas because a link's size never changes (content address) and the only way
 * an answer goes stale is a removal, which a trigger announces: every transaction
 * that deletes from blob_links NOTIFYs at its commit, and every replica then
 * forgets everything. Between that commit and the notice (milliseconds) a replica
 * answers as a read that started just before the commit would. While the
 * listening connection is down, notices could be missed: nothing is cached or
 * answered from the cache until it listens again. `epoch` guards a lookup that
 * raced a notice: its answer is not kept.
 */
export class BlobLinkCache {
  private readonly entries = new Map<string, number>();
  private listener: pg.Client | undefined;
  private listening = false;
  private epoch = 0;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly connect: () => pg.Client) {}

  /** Starts listening; resolves once it does (or failed: the cache then stays off until it can). */
  async start(): Promise<void> {
    if (this.closed) return;
    const client = this.connect();
    this.listener = client;
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.forget(false);
      client.end().catch(() => undefined);
      if (!this.closed) this.retry = setTimeout(() => void this.start(), RELISTEN_MS).unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.forget(true));
    try {
      await client.connect();
      await client.query(`LISTEN ${LINKS_CHANNEL}`);
      // Anything cached before was kept while no notice could arrive.
      if (this.listener === client) this.forget(true);
    } catch {
      lost();
    }
  }

  /** The cached size, or undefined: ask the database. */
  get(repository: string, digest: string): number | undefined {
    return this.listening ? this.entries.get(key(repository, digest)) : undefined;
  }

  /** A ticket for `put`: taken before the database is asked. */
  ticket(): number {
    return this.epoch;
  }

  /** Keeps a positive answer the database gave, unless a removal was announced since `ticket`. */
  put(ticket: number, repository: string, digest: string, size: number): void {
    if (!this.listening || ticket !== this.epoch) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key(repository, digest), size);
  }

  private forget(listening: boolean): void {
    this.epoch++;
    this.entries.clear();
    this.listening = listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.listener;
    this.listener = undefined;
    this.forget(false);
    await client?.end().catch(() => undefined);
  }
}

function key(repository: string, digest: string): string {
  return `${repository}\n${digest}`;
}
