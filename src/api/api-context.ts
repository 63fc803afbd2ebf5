import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { WebCaller, WebSessions } from '../auth/web-sessions.js';
import type { Action } from '../core/scope.js';
import type { MountedRequest } from '../http/api-mount.js';
import type { AuditNotes } from '../http/context.js';
import type { Registry } from '../registry/registry.js';
import type { QuotaRule } from '../registry/quotas.js';
import type { RetentionPolicy } from '../lifecycle/retention.js';
import type { SignatureKeys } from './content/referrers.js';

/** What the API is built from (app.ts). */
export interface ApiOptions {
  registry: Registry;
  /** Sign-in sessions and the policy; absent when authentication is off (everyone may do everything). */
  sessions?: WebSessions;
  /** The server speaks TLS (the session cookie is then Secure). */
  tls: boolean;
  /** The registry's public origin, when configured: its host is what pull commands name. */
  publicUrl?: string;
  /** Host headers the registry host may be taken from; others get the first. */
  allowedHosts: readonly string[];
  retention?: readonly RetentionPolicy[];
  /** What retention waits before removing (the collector's grace period; its decisions shown as it would make them). */
  gracePeriodMs: number;
  quotas?: readonly QuotaRule[];
  /** The keys signatures are shown verified against (require_signatures + ui.signature_keys). */
  signatureKeys?: SignatureKeys;
}

/** Everything an API handler gets. */
export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  log: Logger;
  registry: Registry;
  options: ApiOptions;
  /** Route parameters, percent-decoded; `name` is a valid repository name. */
  params: { name?: string; tag?: string; ref?: string };
  /** The signed-in caller (session, Basic or Bearer PAT); undefined for anonymous callers or with auth off. */
  caller: WebCaller | undefined;
  /** May the caller do this on the repository? (always, with auth off) */
  can(repository: string, action: Action): boolean;
  isAdmin(): boolean;
  audit: AuditNotes;
  seen: MountedRequest['seen'];
}

export type ApiHandler = (ctx: ApiContext) => Promise<void>;
