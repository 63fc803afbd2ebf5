import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditNotes } from './context.js';
import type { Access } from './routes.js';

/** What the server hands a mounted API for one request. */
export interface MountedRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** The raw (still percent-encoded) path and the query. */
  path: string;
  query: URLSearchParams;
  log: Logger;
  /** Filled in by the API as it learns them, for the access log, metrics and audit trail. */
  seen: {
    route: string;
    access?: Access;
    params: { name?: string; ref?: string };
    user?: string;
    tokenId?: string;
  };
  audit: AuditNotes;
  /** Flipped by the server when it is shutting down. */
  state: { ready: boolean };
}

/**
 * An API of Stowage's own beside the registry API (src/api: `/api/v1`), wired by
 * app.ts. It answers with its own JSON error bodies, so it never throws.
 */
export interface ApiMount {
  /** Does this mount serve the path? (`/api/…`) */
  owns(path: string): boolean;
  /** The route name of a request (metrics' `handler` label), before it runs. */
  routeName(method: string, path: string): string;
  handle(r: MountedRequest): Promise<void>;
}
