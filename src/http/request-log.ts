import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/**
 * Query parameters worth a log line (mounts, monolithic pushes, paging) and
 * secret in no request: everything else in a query (a token endpoint's
 * `account`/`scope`, anything a client invents) stays out of the log.
 */
const LOGGED_QUERY = ['mount', 'from', 'digest', 'n', 'last'] as const;
const MAX_VALUE = 200;

export function safeQuery(query: URLSearchParams): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const k of LOGGED_QUERY) {
    const v = query.get(k);
    if (v !== null) (out ??= {})[k] = v.slice(0, MAX_VALUE);
  }
  return out;
}

const UPLOAD_PATH = /^(\/v2\/.+\/blobs\/uploads\/)([^/]+)$/;

/**
 * An upload session id is a bearer capability for its bytes: the logged path
 * carries `<upload>` instead, and `upload` a short one-way tag of the id so the
 * requests of one session can still be followed (the id itself only at debug).
 */
export function loggedPath(path: string, debug: boolean): { path: string; upload?: string; uploadId?: string } {
  const m = UPLOAD_PATH.exec(path);
  if (!m) return { path };
  const tag = createHash('sha256').update(m[2]!).digest('hex').slice(0, 12);
  return { path: `${m[1]}<upload>`, upload: tag, ...(debug ? { uploadId: m[2]! } : {}) };
}

/** One line per request, written when the response is done (or the connection gone). */
export function logRequest(
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  at: { path: string; query: URLSearchParams; started: bigint; user: () => string | undefined },
): void {
  const done = () => {
    const ms = Number(process.hrtime.bigint() - at.started) / 1e6;
    const len = res.getHeader('content-length');
    const query = safeQuery(at.query);
    const user = at.user();
    log.info(
      {
        method: req.method,
        ...loggedPath(at.path, log.isLevelEnabled('debug')),
        ...(query ? { query } : {}),
        ...(user !== undefined ? { user } : {}),
        status: res.statusCode,
        bytes: typeof len === 'number' ? len : Number(len ?? 0),
        ms: Math.round(ms * 100) / 100,
        ua: req.headers['user-agent'],
      },
      'request',
    );
  };
  if (res.writableFinished) done();
  else res.once('close', done);
}
