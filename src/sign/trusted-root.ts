/**
 * Sigstore's `trusted_root.json` (pure): the keys and certificates offline
 * verification trusts — transparency logs (Rekor v1 and v2), Fulcio CAs, CT logs and
 * timestamp authorities, each with the time range it is valid for.
 *
 *   {"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",
 *    "tlogs":[{"baseUrl":…,"hashAlgorithm":"SHA2_256","publicKey":{"rawBytes":<b64 DER>,
 *              "keyDetails":"PKIX_ECDSA_P256_SHA_256","validFor":{"start":…,"end"?:…}},
 *              "logId":{"keyId":<b64>}}],
 *    "certificateAuthorities":[{"subject":…,"uri":…,"certChain":{"certificates":[{"rawBytes":…}]},
 *              "validFor":{…}}],          // chain leaf-most first, root last
 *    "ctlogs":[…as tlogs…], "timestampAuthorities":[…as certificateAuthorities…]}
 *
 * A `validFor` without `start` is refused (a missing bound is not "unbounded"); the
 * end, when given, is inclusive.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { strictBase64 } from './encrypted-key.js';

export class TrustedRootError extends Error {}

export interface TimeRange {
  start: Date;
  end?: Date;
}

export interface LogAuthority {
  baseUrl: string;
  logId: Buffer;
  key: KeyObject;
  keyDetails: string;
  validFor?: TimeRange;
}

export interface CertificateAuthority {
  uri: string;
  /** Leaf-most first, root last. */
  chain: X509Certificate[];
  validFor?: TimeRange;
}

export interface TrustedRoot {
  tlogs: LogAuthority[];
  ctlogs: LogAuthority[];
  certificateAuthorities: CertificateAuthority[];
  timestampAuthorities: CertificateAuthority[];
}

const TRUSTED_ROOT_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function inRange(range: TimeRange | undefined, t: Date): boolean {
  if (!range) return true;
  return t.getTime() >= range.start.getTime() && (range.end === undefined || t.getTime() <= range.end.getTime());
}

function time(v: unknown, where: string): Date {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new TrustedRootError(`${where} is not a time`);
  return d;
}

function range(v: unknown, where: string): TimeRange | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new TrustedRootError(`${where}.validFor is not an object`);
  if (v.start === undefined || v.start === null) throw new TrustedRootError(`${where}.validFor has no start`);
  // protobuf JSON writes an unset end as null.
  return {
    start: time(v.start, `${where}.validFor.start`),
    ...(v.end !== undefined && v.end !== null ? { end: time(v.end, `${where}.validFor.end`) } : {}),
  };
}

function bytes(v: unknown, where: string): Buffer {
  const b = typeof v === 'string' ? strictBase64(v) : undefined;
  if (!b || b.length === 0) throw new TrustedRootError(`${where} is not base64`);
  return b;
}

/** A public key as the trusted root stores it: PKIX DER, or PKCS#1 DER for `PKCS1_RSA_*`. */
export function publicKeyFromDer(der: Buffer, keyDetails: string): KeyObject {
  const pkcs1 = keyDetails.startsWith('PKCS1_');
  return createPublicKey({ key: der, format: 'der', type: pkcs1 ? 'pkcs1' : 'spki' });
}

function log(v: unknown, where: string): LogAuthority {
  if (!isObject(v) || !isObject(v.publicKey) || !isObject(v.logId) || typeof v.baseUrl !== 'string')
    throw new TrustedRootError(`${where} needs baseUrl, publicKey and logId`);
  const keyDetails = typeof v.publicKey.keyDetails === 'string' ? v.publicKey.keyDetails : '';
  let key: KeyObject;
  try {
    key = publicKeyFromDer(bytes(v.publicKey.rawBytes, `${where}.publicKey.rawBytes`), keyDetails);
  } catch (e) {
    if (e instanceof TrustedRootError) throw e;
    throw new TrustedRootError(`${where}.publicKey does not parse: ${(e as Error).message}`);
  }
  const validFor = range(v.publicKey.validFor, `${where}.publicKey`);
  return {
    baseUrl: v.baseUrl,
    logId: bytes(v.logId.keyId, `${where}.logId.keyId`),
    key,
    keyDetails,
    ...(validFor ? { validFor } : {}),
  };
}

function authority(v: unknown, where: string): CertificateAuthority {
  if (
    !isObject(v) ||
    !isObject(v.certChain) ||
    !Array.isArray(v.certChain.certificates) ||
    v.certChain.certificates.length === 0
  )
    throw new TrustedRootError(`${where} needs a certChain`);
  const chain = v.certChain.certificates.map((c: unknown, i: number) => {
    try {
      return new X509Certificate(bytes(isObject(c) ? c.rawBytes : undefined, `${where}.certChain[${i}]`));
    } catch (e) {
      if (e instanceof TrustedRootError) throw e;
      throw new TrustedRootError(`${where}.certChain[${i}] is not a certificate`);
    }
  });
  const validFor = range(v.validFor, where);
  return { uri: typeof v.uri === 'string' ? v.uri : '', chain, ...(validFor ? { validFor } : {}) };
}

function list<T>(v: unknown, name: string, each: (x: unknown, where: string) => T): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TrustedRootError(`${name} is not a list`);
  return v.map((x, i) => each(x, `${name}[${i}]`));
}

export function parseTrustedRoot(json: Uint8Array | string): TrustedRoot {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
  } catch {
    throw new TrustedRootError('the trusted root is not JSON');
  }
  if (!isObject(doc)) throw new TrustedRootError('the trusted root is not a JSON object');
  if (typeof doc.mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPES.includes(doc.mediaType))
    throw new TrustedRootError(`unsupported trusted root media type ${JSON.stringify(doc.mediaType)}`);
  return {
    tlogs: list(doc.tlogs, 'tlogs', log),
    ctlogs: list(doc.ctlogs, 'ctlogs', log),
    certificateAuthorities: list(doc.certificateAuthorities, 'certificateAuthorities', authority),
    timestampAuthorities: list(doc.timestampAuthorities, 'timestampAuthorities', authority),
  };
}
