/**
 * Signing and verifying registry bearer tokens (distribution's JWT format).
 *
 * Header `{"typ":"JWT","alg":"ES256","kid":"<libtrust key id>"}`: the key id is
 * the one docker/distribution 2.x derives from the public key, so a
 * distribution registry configured with Stowage's certificate as its
 * `rootcertbundle` accepts Stowage's tokens as they are.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { readAccessClaim, type ResourceScope } from '../core/scope.js';

/** Asymmetric algorithms only: no `none`, no HMAC (a public key must never become a shared secret). */
export const ALLOWED_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const;

/** Clock skew tolerated on exp/nbf, as distribution does. */
export const LEEWAY_SECONDS = 60;
/** Larger bearer tokens are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8 * 1024;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * libtrust key id: SHA-256 of the DER SubjectPublicKeyInfo, first 30 bytes,
 * base32 without padding (48 chars), in groups of 4 joined by ':'.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const bytes = createHash('sha256').update(der).digest().subarray(0, 30);
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join(':');
}

/** RFC 7638 JWK thumbprint (what distribution 3.x and JWKS users match on). */
export async function jwkThumbprint(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(
    publicKey.export({ format: 'jwk' }) as Parameters<typeof calculateJwkThumbprint>[0],
    'sha256',
  );
}

/** The JWS algorithm a key signs with. */
export function algorithmFor(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
    throw new Error(`unsupported EC curve ${curve}`);
  }
  if (type === 'rsa') return 'RS256';
  if (type === 'rsa-pss') return 'PS256';
  if (type === 'ed25519') return 'EdDSA';
  throw new Error(`unsupported key type ${type}`);
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  alg: string;
  kid: string;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  access: ResourceScope[];
  /** Seconds the token lives. */
  ttl: number;
  /** Private claims (Stowage's own: `pat`, `cred`). */
  extra?: Record<string, unknown>;
}

export async function signToken(
  key: SigningKey,
  c: TokenClaims,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  return new SignJWT({ ...c.extra, access: c.access })
    .setProtectedHeader({ typ: 'JWT', alg: key.alg, kid: key.kid })
    .setIssuer(c.iss)
    .setSubject(c.sub)
    .setAudience(c.aud)
    .setIssuedAt(nowSeconds)
    .setNotBefore(nowSeconds)
    .setExpirationTime(nowSeconds + c.ttl)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key.privateKey);
}

/** A key a token may be signed with, under one or more ids. */
export interface TrustedKey {
  key: KeyObject;
  kids: string[];
  /** Declared algorithm (JWKS `alg`), if any. */
  alg?: string;
}

export interface TrustedIssuer {
  issuer: string;
  keys: TrustedKey[];
  /** Stowage's own token endpoint (its subjects are users of this policy). */
  local: boolean;
}

export interface VerifiedToken {
  issuer: string;
  local: boolean;
  subject: string;
  access: ResourceScope[];
  /** Unix seconds. */
  exp: number;
  claims: JWTPayload;
}

/**
 * Verifies tokens against trusted issuers: the issuer named in the token picks
 * the key set (an external issuer can never mint Stowage-local tokens), then
 * signature, algorithm, audience, exp and nbf are checked. Verified tokens are
 * remembered until they expire, so a pull of many blobs costs one signature check.
 */
export class JwtVerifier {
  private readonly byIssuer: Map<string, TrustedIssuer>;
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(
    issuers: TrustedIssuer[],
    private readonly now: () => number = Date.now,
  ) {
    this.byIssuer = new Map(issuers.map((i) => [i.issuer, i]));
  }

  /** The verified token, or undefined for anything invalid (never throws). */
  async verify(token: string, audience: string): Promise<VerifiedToken | undefined> {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const nowSec = Math.floor(this.now() / 1000);
    const cacheKey = `${audience}\n${token}`;
    const hit = this.cache.get(cacheKey);
    if (hit) {
      if (hit.exp + LEEWAY_SECONDS >= nowSec) return hit;
      this.cache.delete(cacheKey);
      return undefined;
    }
    let issuer: TrustedIssuer | undefined;
    let trusted: TrustedKey | undefined;
    let alg: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      const iss = decodeJwt(token).iss;
      issuer = iss === undefined ? undefined : this.byIssuer.get(iss);
      alg = header.alg;
      if (!issuer || typeof alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(alg))
        return undefined;
      const kid = header.kid;
      trusted =
        kid === undefined
          ? issuer.keys.length === 1
            ? issuer.keys[0]
            : undefined
          : issuer.keys.find((k) => k.kids.includes(kid));
      if (!trusted || (trusted.alg !== undefined && trusted.alg !== alg)) return undefined;
    } catch {
      return undefined;
    }
    try {
      const { payload } = await jwtVerify(token, trusted.key, {
        issuer: issuer.issuer,
        audience,
        algorithms: [alg],
        clockTolerance: LEEWAY_SECONDS,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp'],
      });
      const verified: VerifiedToken = {
        issuer: issuer.issuer,
        local: issuer.local,
        subject: typeof payload.sub === 'string' ? payload.sub : '',
        access: readAccessClaim(payload.access),
        exp: payload.exp!,
        claims: payload,
      };
      if (this.cache.size >= 5000) this.cache.clear();
      this.cache.set(cacheKey, verified);
      return verified;
    } catch {
      return undefined;
    }
  }
}
