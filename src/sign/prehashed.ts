/**
 * Verifying a signature over a digest rather than over the message (pure): what a
 * message-signature bundle needs when only the artifact's digest is at hand (a blob
 * hashed while streaming, sigstore-go's `WithArtifactDigest`). node:crypto hashes the
 * message itself, so:
 *   - ECDSA (P-256, P-384, P-521): the verification equation, in Jacobian coordinates
 *     with BigInt (public data only: no constant-time concern);
 *   - RSA PKCS#1 v1.5: the public operation (publicDecrypt) yields the DigestInfo,
 *     compared with the expected one.
 */
import { constants, publicDecrypt, type KeyObject } from 'node:crypto';
import { DerError, TAG, children, integerValue, readDer } from './der.js';

interface Curve {
  p: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  bits: number;
}

const CURVES: Record<string, Curve> = {
  prime256v1: {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    bits: 256,
  },
  secp384r1: {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    bits: 384,
  },
  secp521r1: {
    p: (1n << 521n) - 1n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    gy: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
    bits: 521,
  },
};

type Point = [bigint, bigint, bigint]; // Jacobian X, Y, Z (Z = 0: infinity)

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function double(P: Point, p: bigint): Point {
  const [X, Y, Z] = P;
  if (Z === 0n || Y === 0n) return [0n, 1n, 0n];
  const delta = (Z * Z) % p;
  const gamma = (Y * Y) % p;
  const beta = (X * gamma) % p;
  const alpha = (3n * mod(X - delta, p) * (X + delta)) % p;
  const X3 = mod(alpha * alpha - 8n * beta, p);
  const Z3 = mod((Y + Z) * (Y + Z) - gamma - delta, p);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * gamma * gamma, p);
  return [X3, Y3, Z3];
}

function add(P: Point, Q: Point, p: bigint): Point {
  if (P[2] === 0n) return Q;
  if (Q[2] === 0n) return P;
  const [X1, Y1, Z1] = P;
  const [X2, Y2, Z2] = Q;
  const Z1Z1 = (Z1 * Z1) % p;
  const Z2Z2 = (Z2 * Z2) % p;
  const U1 = (X1 * Z2Z2) % p;
  const U2 = (X2 * Z1Z1) % p;
  const S1 = (((Y1 * Z2) % p) * Z2Z2) % p;
  const S2 = (((Y2 * Z1) % p) * Z1Z1) % p;
  const H = mod(U2 - U1, p);
  const r = mod(2n * (S2 - S1), p);
  if (H === 0n) return r === 0n ? double(P, p) : [0n, 1n, 0n];
  const I = (4n * H * H) % p;
  const J = (H * I) % p;
  const V = (U1 * I) % p;
  const X3 = mod(r * r - J - 2n * V, p);
  const Y3 = mod(r * (V - X3) - 2n * S1 * J, p);
  const Z3 = mod(((Z1 + Z2) * (Z1 + Z2) - Z1Z1 - Z2Z2) * H, p);
  return [X3, Y3, Z3];
}

/** u1·G + u2·Q (Shamir's trick), as an affine x coordinate; undefined at infinity. */
function combination(c: Curve, u1: bigint, G: Point, u2: bigint, Q: Point): bigint | undefined {
  const GQ = add(G, Q, c.p);
  let R: Point = [0n, 1n, 0n];
  for (let i = BigInt(Math.max(u1.toString(2).length, u2.toString(2).length) - 1); i >= 0n; i--) {
    R = double(R, c.p);
    const a = (u1 >> i) & 1n;
    const b = (u2 >> i) & 1n;
    if (a && b) R = add(R, GQ, c.p);
    else if (a) R = add(R, G, c.p);
    else if (b) R = add(R, Q, c.p);
  }
  if (R[2] === 0n) return undefined;
  const zi = inverse(R[2], c.p);
  return (R[0] * zi * zi) % c.p;
}

const fromB64url = (s: string | undefined): bigint =>
  BigInt(`0x${Buffer.from(s ?? '', 'base64url').toString('hex') || '0'}`);

function verifyEcdsaDigest(key: KeyObject, digest: Buffer, sig: Buffer): boolean {
  const c = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (!c) return false;
  let r: bigint;
  let s: bigint;
  try {
    const seq = readDer(sig);
    if (seq.tag !== TAG.SEQUENCE) return false;
    const [rn, sn, extra] = children(seq);
    if (!rn || !sn || extra) return false;
    r = integerValue(rn);
    s = integerValue(sn);
  } catch (e) {
    if (e instanceof DerError) return false;
    throw e;
  }
  if (r <= 0n || r >= c.n || s <= 0n || s >= c.n) return false;
  const jwk = key.export({ format: 'jwk' });
  const Q: Point = [fromB64url(jwk.x), fromB64url(jwk.y), 1n];
  let e = BigInt(`0x${digest.toString('hex') || '0'}`);
  if (digest.length * 8 > c.bits) e >>= BigInt(digest.length * 8 - c.bits);
  const w = inverse(s, c.n);
  const x = combination(c, (e * w) % c.n, [c.gx, c.gy, 1n], (r * w) % c.n, Q);
  return x !== undefined && x % c.n === r;
}

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/** Does `sig` sign a message whose `hash` digest is `digest`, under `key`? */
export function verifyDigestSignature(key: KeyObject, hash: string, digest: Buffer, sig: Buffer): boolean {
  if (key.asymmetricKeyType === 'ec') return verifyEcdsaDigest(key, digest, sig);
  if (key.asymmetricKeyType === 'rsa') {
    const prefix = DIGEST_INFO[hash];
    if (!prefix) return false;
    try {
      const info = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, sig);
      return info.equals(Buffer.concat([Buffer.from(prefix, 'hex'), digest]));
    } catch {
      return false;
    }
  }
  return false; // Ed25519 signs the message itself
}
