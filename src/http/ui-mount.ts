import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The web UI's files (src/ui), served for paths no registry route claims, wired by
 * app.ts. It answers every request it owns itself and never throws.
 */
export interface UiMount {
  /** Does the UI serve this request? (GET/HEAD outside /v2/, /api/, /token, /metrics, /healthz, /readyz) */
  owns(method: string, path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, path: string): void;
}
