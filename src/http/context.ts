import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.js';
import type { MetricsEndpoint } from './metrics-endpoint.js';

/** Everything a handler gets: the raw request/response plus decoded route params. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  registry: Registry;
  log: Logger;
  /** Route parameters, percent-decoded and validated for shape (name, ref, id). */
  params: { name?: string; ref?: string; id?: string };
  query: URLSearchParams;
  /** May the caller pull from this repository? (used by mounts and the catalog) */
  canPull(repository: string): Promise<boolean>;
  /** Is the caller a policy admin? (false without authentication) */
  isAdmin(): boolean;
  /** The authenticated user, once access was checked (undefined: anonymous or open access). */
  principal(): string | undefined;
  /** The built-in token endpoint, when token auth is on. */
  tokenEndpoint?: Handler;
  /** Flipped by the server when it is shutting down, for readiness. */
  state: { ready: boolean };
  /** `/metrics` on this address (absent: metrics off, or on their own listener). */
  metricsEndpoint?: MetricsEndpoint;
  /** What the handler learnt for the audit trail (audit-request.ts). */
  audit: AuditNotes;
}

/** Facts only a handler knows, for the request's audit record. */
export interface AuditNotes {
  /** A login attempt (token endpoint, API sign-in): the user name tried (never the secret), the PAT used. */
  login?: { user: string; tokenId?: string };
  /** A manifest push: its digest, and the manifest the tag named before when it moved. */
  digest?: string;
  previousDigest?: string;
  /** A delete through Stowage's own API (src/api): the tag or manifest it removed. */
  deleted?: { tag: string } | { digest: string };
}

export type Handler = (ctx: RequestContext) => Promise<void>;
