/**
 * What a finished request adds to the audit trail: pushes, tag moves and deletes
 * that succeeded, logins (the token endpoint's, and Basic credentials refused),
 * and every policy denial. Only what happened and who did it: the tried user name
 * at most, never a secret. Written when the response is done, with its status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditRecord } from '../core/audit.js';
import type { AuditNotes } from './context.js';
import type { Access } from './routes.js';

export interface AuditedRequest {
  route: string;
  access: Access | undefined;
  params: { name?: string; ref?: string };
  notes: AuditNotes;
  user: () => string | undefined;
  tokenId: () => string | undefined;
}

/** The user name of Basic credentials, if the request carried them (the secret is not looked at). */
function basicUser(req: IncomingMessage): string | undefined {
  const m = /^basic\s+(\S+)/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, Math.min(colon, 200)) : undefined;
}

/** The records one request makes (none for most: pulls and refused bad input change nothing). */
export function auditRecords(
  req: IncomingMessage,
  res: ServerResponse,
  at: AuditedRequest,
): Omit<AuditRecord, 'time'>[] {
  const status = res.statusCode;
  const method = req.method ?? '';
  const port = req.socket.remotePort;
  const user = at.user();
  const tokenId = at.tokenId();
  const who = {
    ...(user !== undefined ? { user } : {}),
    ...(tokenId !== undefined ? { tokenId } : {}),
    addr: `${req.socket.remoteAddress ?? ''}${port !== undefined ? `:${port}` : ''}`,
    requestId: String(res.getHeader('X-Request-Id') ?? ''),
    status,
  };
  const repository = at.params.name;
  const ref = at.params.ref;
  const byDigest = ref?.includes(':') ?? false;

  if (at.route === 'token' || at.notes.login) {
    const login = at.notes.login;
    if (!login) return []; // an anonymous token: nobody logged in
    return [
      {
        action: 'login',
        outcome: status === 200 ? 'success' : 'failure',
        ...who,
        user: login.user,
        ...(login.tokenId !== undefined ? { tokenId: login.tokenId } : {}),
      },
    ];
  }
  // 403 is a denial; so is 401 for a bearer token that lacks the scope (Docker token auth's answer).
  const bearer = /^bearer\s/i.test(req.headers.authorization ?? '');
  if (status === 403 || (status === 401 && bearer)) {
    return [
      {
        action: 'denied',
        outcome: 'failure',
        ...who,
        method,
        ...(at.access ? { access: at.access } : {}),
        ...(repository !== undefined ? { repository } : {}),
      },
    ];
  }
  if (status === 401) {
    // Credentials that were refused are a failed login; no credentials is only a challenge.
    const tried = basicUser(req);
    return tried !== undefined ? [{ action: 'login', outcome: 'failure', ...who, user: tried }] : [];
  }
  if (repository === undefined) return [];
  const deleted = at.notes.deleted;
  if (deleted && status === 204) return [{ action: 'delete', outcome: 'success', ...who, repository, ...deleted }];
  if (at.route === 'manifest' && method === 'PUT' && status === 201) {
    const digest = at.notes.digest;
    const base = {
      ...who,
      repository,
      ...(byDigest ? {} : { tag: ref }),
      ...(digest !== undefined ? { digest } : {}),
    };
    const out: Omit<AuditRecord, 'time'>[] = [{ action: 'push', outcome: 'success', ...base }];
    if (at.notes.previousDigest !== undefined)
      out.push({ action: 'tag.move', outcome: 'success', ...base, previousDigest: at.notes.previousDigest });
    return out;
  }
  if ((at.route === 'manifest' || at.route === 'blob') && method === 'DELETE' && status === 202) {
    return [
      {
        action: 'delete',
        outcome: 'success',
        ...who,
        repository,
        ...(byDigest ? { digest: ref } : { tag: ref }),
      },
    ];
  }
  return [];
}

export function auditRequest(audit: AuditLog, req: IncomingMessage, res: ServerResponse, at: AuditedRequest): void {
  res.once('close', () => {
    for (const r of auditRecords(req, res, at)) audit.write(r);
  });
}
