import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError, RegistryErrors, exhaustionError } from '../core/errors.js';

/** Sent on every response, as distribution does. */
export const API_VERSION_HEADER = ['Docker-Distribution-API-Version', 'registry/2.0'] as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  // RFC 9110: a 204 carries no Content-Length at all.
  res.writeHead(status, status === 204 ? headers : { ...headers, 'Content-Length': 0 });
  res.end();
}

/** Maps any thrown value to an OCI error body; resource exhaustion becomes 503, anything else unexpected 500 UNKNOWN. */
export function toRegistryErrors(e: unknown): RegistryError[] {
  if (e instanceof RegistryErrors) return e.errors;
  if (e instanceof RegistryError) return [e];
  return [exhaustionError(e) ?? new RegistryError('UNKNOWN')];
}

export function sendError(req: IncomingMessage, res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const errors = toRegistryErrors(e);
  const first = errors[0]!;
  const headers: Record<string, string> = {};
  for (const err of errors) Object.assign(headers, err.headers);
  // A body we did not read is not worth draining (it may be gigabytes): close instead.
  if (!req.complete) headers.Connection = 'close';
  const body = {
    errors: errors.map((err) => ({
      code: err.wireCode,
      message: err.message,
      ...(err.detail === undefined ? {} : { detail: err.detail }),
    })),
  };
  sendJson(res, first.status, body, 'application/json', headers);
}
