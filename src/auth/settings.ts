/**
 * What authentication is set up from (src/auth/setup.ts): the `auth:` section as
 * src/config/auth-config.ts parses and defaults it. Declared here, by the layer
 * that uses it, so auth imports nothing of config.
 */
import type { PolicySpec } from './policy.js';

export interface TrustedIssuerConfig {
  /** The `iss` its tokens carry. */
  issuer: string;
  /** JWKS file with its public keys … */
  jwks?: string;
  /** … or a PEM file of public keys / certificates (distribution's `rootcertbundle`). */
  publicKey?: string;
}

export interface AuthConfig {
  mode: 'token' | 'basic';
  /** htpasswd file (bcrypt), managed with `stowage user`. */
  htpasswd: string;
  /** token: absolute URL of the token endpoint (default: this registry's origin + /token); basic: realm text. */
  realm?: string;
  /** token: the `service` in challenges and the `aud` of tokens. */
  service: string;
  /** token: the `iss` of tokens Stowage issues. */
  issuer: string;
  /** token: PEM private key file the token endpoint signs with (created on first start if missing). */
  signingKey: string;
  /**
   * token: the PEM private key itself (STOWAGE_AUTH_SIGNING_KEY, or `signing_key_pem`), which wins
   * over the file, so replicas share a key from a secret without a shared disk. Never logged.
   */
  signingKeyPem?: string;
  tokenTtlSeconds: number;
  /** 0 turns refresh tokens (docker's identity tokens) off. */
  refreshTokenTtlSeconds: number;
  /** Token services whose tokens are accepted too. */
  trustedIssuers: TrustedIssuerConfig[];
  /** Failed logins per window: per client address, and per user name from one address (`perUser`). */
  rateLimit: { windowSeconds: number; perAddress: number; perUser: number };
  /** How long a verified password is remembered (Basic auth sends it on every request). */
  credentialCacheSeconds: number;
  policy: PolicySpec;
}
