/**
 * The audit trail's records and their filter (pure): who did what to which
 * repository, when, and whether it was allowed. Written as JSON lines by
 * src/audit/ and read back by `stowage audit`. Never a secret: no password, no
 * token, no upload id.
 */
import { compileGlob } from './repository-glob.js';

export const AUDIT_ACTIONS = ['push', 'tag.move', 'delete', 'login', 'token.create', 'token.revoke', 'denied'] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  /** RFC 3339, UTC. */
  time: string;
  action: AuditAction;
  outcome: 'success' | 'failure';
  /** Who: the authenticated user, or for a failed login the name that was tried. */
  user?: string;
  /** The personal access token used (its id, never its secret). */
  tokenId?: string;
  /** The client's address (host:port), for requests. */
  addr?: string;
  repository?: string;
  tag?: string;
  digest?: string;
  /** push/tag.move: the manifest the tag named before. */
  previousDigest?: string;
  /** denied: the HTTP method and the access that was refused. */
  method?: string;
  access?: string;
  /** HTTP status of the request, when there was one. */
  status?: number;
  /** The request's id (X-Request-Id), to find its request-log line. */
  requestId?: string;
  /** The local command that did it (token.create/revoke), when not a request. */
  via?: string;
}

export interface AuditQuery {
  user?: string;
  repository?: string;
  action?: AuditAction;
  outcome?: AuditRecord['outcome'];
  /** Unix ms, inclusive. */
  since?: number;
  /** Unix ms, exclusive. */
  until?: number;
}

/** A query's test, compiled once (the repository glob). */
export function auditFilter(q: AuditQuery): (r: AuditRecord) => boolean {
  const repo = q.repository !== undefined ? compileGlob(q.repository) : undefined;
  return (r) => {
    if (q.action !== undefined && r.action !== q.action) return false;
    if (q.outcome !== undefined && r.outcome !== q.outcome) return false;
    if (q.user !== undefined && r.user !== q.user) return false;
    if (repo && (r.repository === undefined || !repo.test(r.repository))) return false;
    if (q.since !== undefined || q.until !== undefined) {
      const at = Date.parse(r.time);
      if (q.since !== undefined && !(at >= q.since)) return false;
      if (q.until !== undefined && !(at < q.until)) return false;
    }
    return true;
  };
}

/** A record parsed from one line of the trail; undefined for anything else (pino lines on a shared stdout). */
export function parseAuditLine(line: string): AuditRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as { audit?: unknown } & Partial<AuditRecord>;
    if (v.audit !== 1 || typeof v.time !== 'string' || !AUDIT_ACTIONS.includes(v.action as AuditAction))
      return undefined;
    const { audit, ...record } = v;
    void audit;
    return record as AuditRecord;
  } catch {
    return undefined;
  }
}

/** One line of the trail; `audit: 1` marks it among other JSON lines on a shared stdout. */
export function auditLine(r: AuditRecord): string {
  return `${JSON.stringify({ audit: 1, ...r })}\n`;
}
