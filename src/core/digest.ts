import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';

/** Digest algorithms Stowage can compute; the name is also Node's hash name. */
export const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type Algorithm = keyof typeof ALGORITHMS;

export interface Digest {
  readonly algorithm: Algorithm;
  readonly hex: string;
  /** `algorithm:hex`, the canonical string. */
  readonly value: string;
}

// image-spec descriptor.md grammar.
const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** True when `s` follows the digest grammar (any algorithm). */
export function isDigestLike(s: string): boolean {
  return GRAMMAR.test(s);
}

/**
 * Parses a digest we can verify. Malformed digests, unknown algorithms and
 * wrong-length or uppercase hex all raise DIGEST_INVALID.
 */
export function parseDigest(s: string): Digest {
  if (s.length > 200 || !GRAMMAR.test(s)) {
    throw new RegistryError('DIGEST_INVALID', 'invalid digest', { digest: s.slice(0, 200) });
  }
  const i = s.indexOf(':');
  const algorithm = s.slice(0, i);
  const hex = s.slice(i + 1);
  if (!(algorithm in ALGORITHMS)) {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm ${algorithm}`, { digest: s });
  }
  const alg = algorithm as Algorithm;
  if (hex.length !== ALGORITHMS[alg] || !/^[a-f0-9]+$/.test(hex)) {
    throw new RegistryError('DIGEST_INVALID', `invalid ${alg} digest`, { digest: s });
  }
  return { algorithm: alg, hex, value: s };
}

export function tryParseDigest(s: string): Digest | undefined {
  try {
    return parseDigest(s);
  } catch {
    return undefined;
  }
}

export function digestOf(algorithm: Algorithm, hex: string): Digest {
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}

/** Digest of bytes already in memory (manifests, never blobs). */
export function digestBytes(bytes: Uint8Array, algorithm: Algorithm = 'sha256'): Digest {
  return digestOf(algorithm, createHash(algorithm).update(bytes).digest('hex'));
}
