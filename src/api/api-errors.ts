/**
 * The API's JSON bodies: `{"error":{"code","message"}}` for failures (docs/api.md).
 * Errors are the registry's one catalog (src/core/errors.ts); this maps each code
 * to the few the API speaks, keeping the catalog's HTTP status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError, exhaustionError, type ErrorCode } from '../core/errors.js';
import { toRegistryErrors } from '../http/respond.js';

export type ApiErrorCode =
  | 'NOT_FOUND'
  | 'DENIED'
  | 'UNAUTHORIZED'
  | 'BAD_REQUEST'
  | 'CSRF'
  | 'UNAVAILABLE'
  | 'TOO_LARGE'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL';

const API_CODE: Partial<Record<ErrorCode, ApiErrorCode>> = {
  NOT_FOUND: 'NOT_FOUND',
  NAME_UNKNOWN: 'NOT_FOUND',
  MANIFEST_UNKNOWN: 'NOT_FOUND',
  BLOB_UNKNOWN: 'NOT_FOUND',
  DENIED: 'DENIED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  CSRF: 'CSRF',
  UNAVAILABLE: 'UNAVAILABLE',
  TOO_LARGE: 'TOO_LARGE',
  MANIFEST_TOO_LARGE: 'TOO_LARGE',
  TOOMANYREQUESTS: 'TOO_MANY_REQUESTS',
  UNKNOWN: 'INTERNAL',
};

/** Sent with every API answer: nothing is cached, nothing sniffed. */
export const API_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' } as const;

export function sendApiJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...headers,
    ...API_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': bytes.length,
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

export function sendApiEmpty(res: ServerResponse, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(204, { ...headers, ...API_HEADERS });
  res.end();
}

/** The API's code for a thrown value (unexpected ones are INTERNAL, exhaustion UNAVAILABLE). */
export function apiErrorOf(e: unknown): {
  status: number;
  code: ApiErrorCode;
  message: string;
  headers: Record<string, string>;
} {
  const err =
    e instanceof RegistryError ? e : (toRegistryErrors(e)[0] ?? exhaustionError(e) ?? new RegistryError('UNKNOWN'));
  const code = API_CODE[err.code] ?? (err.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
  return { status: err.status, code, message: err.message, headers: err.headers };
}

export function sendApiError(req: IncomingMessage, res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, code, message, headers } = apiErrorOf(e);
  // WWW-Authenticate would make browsers pop up their own login dialog.
  const { 'WWW-Authenticate': _challenge, ...rest } = headers;
  if (!req.complete) rest.Connection = 'close';
  sendApiJson(res, status, { error: { code, message } }, rest);
}
