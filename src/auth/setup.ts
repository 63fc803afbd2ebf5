/**
 * Builds the AccessControl the server uses from the `auth:` config: Basic or
 * token auth over the htpasswd file, personal access tokens in the metadata
 * store, and the policy. Without an `auth:` section the server stays open (OpenAccess).
 */
import type { Logger } from 'pino';
import type { AccessControl } from '../http/access.js';
import type { TokenStore } from '../storage/metadata-store.js';
import { Authenticator } from './authenticator.js';
import { realmFor } from './challenge.js';
import { BasicAccess } from './basic-access.js';
import { JwtVerifier, type TrustedIssuer } from './jwt.js';
import { loadOrCreateSigningKey, readJwks, signingKeyFromPem, readPemPublicKeys, trustedKey } from './keys.js';
import { PatStore } from './pat-store.js';
import type { AuthConfig } from './settings.js';
import { Policy } from './policy.js';
import { createTokenEndpoint } from './token-endpoint.js';
import { TokenAccess } from './token-access.js';
import { UserFile } from './users.js';
import { WebSessions } from './web-sessions.js';

/** The settings auth is built from (ServeConfig has them all). */
export interface AuthSetup {
  /** Absent: no authentication (open access). */
  auth?: AuthConfig;
  publicUrl?: string;
  allowedHosts: string[];
  /** Set when the server speaks TLS (the token realm is then https). */
  tls?: object;
  /** The web UI: when enabled, sign-in sessions are set up too (src/auth/web-sessions.ts). */
  ui?: { enabled: boolean; sessionTtlSeconds: number };
}

export interface AuthRuntime {
  access: AccessControl;
  /** Sign-in sessions of the web UI's API (when the UI is on). */
  sessions?: WebSessions;
}

/** `tokens`: where personal access tokens live (the registry's metadata store, which the caller closes). */
export async function openAuth(config: AuthSetup, log: Logger, tokens: TokenStore): Promise<AuthRuntime | undefined> {
  const auth = config.auth;
  if (!auth) return undefined;
  const authLog = log.child({ component: 'auth' });
  const users = new UserFile(auth.htpasswd, (r) => {
    if ('missing' in r) {
      authLog.warn(
        { htpasswd: auth.htpasswd },
        'htpasswd file not found: no user can log in until `stowage user add` creates it',
      );
      return;
    }
    for (const s of r.skipped)
      authLog.warn({ htpasswd: auth.htpasswd, line: s.line, user: s.user, reason: s.reason }, 'htpasswd entry ignored');
    authLog.info({ htpasswd: auth.htpasswd, users: r.users.size }, 'users loaded');
  });
  const pats = new PatStore(tokens);
  const windowMs = auth.rateLimit.windowSeconds * 1000;
  const authenticator = new Authenticator(
    users,
    pats,
    {
      perAddress: { max: auth.rateLimit.perAddress, windowMs },
      perAddressUser: { max: auth.rateLimit.perUser, windowMs },
      cacheTtlMs: auth.credentialCacheSeconds * 1000,
    },
    authLog,
  );
  const policy = Policy.compile(auth.policy);
  const ui = config.ui?.enabled === true ? config.ui : undefined;

  // Basic auth signs nothing but UI sessions: it needs the key only for them.
  if (auth.mode === 'basic' && !ui) {
    authLog.info({ mode: 'basic' }, 'authentication on');
    return { access: new BasicAccess({ authenticator, policy, realm: auth.realm ?? 'Stowage' }) };
  }

  const { key, created } =
    auth.signingKeyPem !== undefined
      ? { key: signingKeyFromPem(auth.signingKeyPem), created: false }
      : await loadOrCreateSigningKey(auth.signingKey);
  if (created) authLog.info({ path: auth.signingKey }, 'created a token signing key');
  authLog.info(
    { signingKey: auth.signingKeyPem !== undefined ? 'from STOWAGE_AUTH_SIGNING_KEY' : auth.signingKey, kid: key.kid },
    'token signing key',
  );
  const localIssuer: TrustedIssuer = { issuer: auth.issuer, local: true, keys: [await trustedKey(key.publicKey)] };
  const sessionsFor = (verifier: JwtVerifier) =>
    ui &&
    new WebSessions({
      key,
      verifier,
      issuer: auth.issuer,
      service: auth.service,
      ttlSeconds: ui.sessionTtlSeconds,
      authenticator,
      policy,
      pats,
    });
  if (auth.mode === 'basic') {
    authLog.info({ mode: 'basic' }, 'authentication on');
    const sessions = sessionsFor(new JwtVerifier([localIssuer]));
    return {
      access: new BasicAccess({ authenticator, policy, realm: auth.realm ?? 'Stowage' }),
      ...(sessions ? { sessions } : {}),
    };
  }
  const issuers: TrustedIssuer[] = [localIssuer];
  for (const t of auth.trustedIssuers) {
    const keys = t.jwks !== undefined ? await readJwks(t.jwks) : await readPemPublicKeys(t.publicKey!);
    issuers.push({ issuer: t.issuer, local: false, keys });
  }
  const verifier = new JwtVerifier(issuers);
  const tokenEndpoint = createTokenEndpoint({
    service: auth.service,
    issuer: auth.issuer,
    key,
    tokenTtlSeconds: auth.tokenTtlSeconds,
    refreshTokenTtlSeconds: auth.refreshTokenTtlSeconds,
    authenticator,
    policy,
    pats,
    verifier,
  });
  const access = new TokenAccess({
    verifier,
    service: auth.service,
    realm: realmFor({
      ...(auth.realm ? { realm: auth.realm } : {}),
      ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
      allowedHosts: config.allowedHosts,
      tls: config.tls !== undefined,
    }),
    policy,
    pats,
    tokenEndpoint,
  });
  authLog.info(
    {
      mode: 'token',
      service: auth.service,
      issuer: auth.issuer,
      kid: key.kid,
      alg: key.alg,
      trusted: auth.trustedIssuers.map((t) => t.issuer),
    },
    'authentication on',
  );
  const sessions = sessionsFor(verifier);
  return { access, ...(sessions ? { sessions } : {}) };
}
