import type { IncomingMessage } from 'node:http';
import type { Handler } from './context.js';
import type { Access } from './routes.js';

/**
 * Decides whether a request may do what its route needs. The server asks it
 * before every handler; authentication modes (token, basic: src/auth/) plug in here.
 */
export interface AccessControl {
  /** Throws UNAUTHORIZED (with its challenge header) or DENIED when not allowed. */
  check(req: IncomingMessage, access: Access, repository: string | undefined): Promise<void>;
  /** For mounts and the catalog: may this request's caller pull `repository`? */
  canPull(req: IncomingMessage, repository: string): Promise<boolean>;
  /** The user name `check` authenticated this request as; undefined for anonymous callers. */
  principal(req: IncomingMessage): string | undefined;
  /** Serves `GET`/`POST /token` when this mode issues tokens (src/auth/token-access.ts). */
  readonly tokenEndpoint?: Handler;
  /** Is the (already checked) caller an admin of the policy? (immutable tag overrides) */
  isAdmin?(req: IncomingMessage): boolean;
  /** The personal access token the caller used (its id), for the audit trail. */
  tokenId?(req: IncomingMessage): string | undefined;
}

/** No authentication: everyone may do everything (the embedded default on loopback). */
export class OpenAccess implements AccessControl {
  readonly tokenEndpoint?: Handler;
  /** No authentication, no admins: immutable tags stay immutable. */
  isAdmin(): boolean {
    return false;
  }
  async check(): Promise<void> {}
  async canPull(): Promise<boolean> {
    return true;
  }
  principal(): string | undefined {
    return undefined;
  }
  tokenId(): string | undefined {
    return undefined;
  }
}
