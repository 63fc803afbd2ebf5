/**
 * Offline checks of a bundle's transparency-log entry (pure), as sigstore-go makes
 * them:
 *
 *   - inclusion proof: the entry's leaf hash (RFC 6962: SHA-256(0x00 || body)) and the
 *     proof's hashes give the root hash (RFC 9162 §2.1.3.2), and that root and size are
 *     those of a checkpoint (a signed note: `origin\nsize\nroot\n[extra…]\n\n— name
 *     base64(keyhint[4] || sig)\n…`) with a signature by the log's key — the line named
 *     after the origin, key hint = first 4 bytes of the log id; witness cosignatures
 *     with unknown keys are ignored;
 *   - signed entry timestamp (Rekor v1): the log's signature over the canonical JSON
 *     `{"body":…,"integratedTime":N,"logID":"<hex>","logIndex":N}`;
 *   - the entry body describes this bundle: same signature, same key or certificate,
 *     same digest (rekord 0.0.1, hashedrekord 0.0.1/0.0.2, dsse 0.0.1, intoto 0.0.2).
 */
import { type X509Certificate, createHash, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { BundleContent, TlogEntry } from './bundle.js';
import { pae } from './bundle.js';
import { decodePem, strictBase64 } from './encrypted-key.js';
import { inRange, type LogAuthority } from './trusted-root.js';

export class TlogError extends Error {}

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

const equal = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/** RFC 9162 inclusion proof verification: does `proof` lead from `leaf` to `root`? */
export function verifyInclusion(
  index: bigint,
  size: bigint,
  leafHash: Buffer,
  proof: readonly Buffer[],
  root: Buffer,
): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1n;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0n || p.length !== 32) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

/** Signature of a log key: ECDSA/RSA over SHA-256, Ed25519 over the message itself. */
export function verifyLogSignature(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    return verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key, sig);
  } catch {
    return false;
  }
}

export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Buffer;
}

/** Parses a signed-note checkpoint and returns its body once a signature by `log` verifies. */
export function verifyCheckpoint(envelope: string, log: LogAuthority): Checkpoint {
  const split = envelope.indexOf('\n\n');
  if (split < 0) throw new TlogError('the checkpoint has no signature block');
  const note = envelope.slice(0, split + 1);
  const lines = note.slice(0, -1).split('\n');
  if (lines.length < 3) throw new TlogError('the checkpoint has too few lines');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin === '' || !/^\d{1,20}$/.test(sizeText)) throw new TlogError('the checkpoint has no origin or size');
  const rootHash = strictBase64(rootText);
  if (!rootHash || rootHash.length !== 32) throw new TlogError('the checkpoint has no root hash');
  const data = Buffer.from(note, 'utf8');
  const hint = log.logId.subarray(0, 4);
  let signed = false;
  for (const line of envelope.slice(split + 2).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    // The log signs under its own name: the origin line, or its first word (Rekor v1
    // writes "<name> - <tree id>").
    if (!m || (m[1] !== origin && !origin.startsWith(`${m[1]} - `))) continue;
    const raw = strictBase64(m[2]!);
    if (!raw || raw.length < 5 || !equal(raw.subarray(0, 4), hint)) continue;
    if (verifyLogSignature(log.key, data, raw.subarray(4))) {
      signed = true;
      break;
    }
  }
  if (!signed) throw new TlogError(`the checkpoint carries no valid signature by ${log.baseUrl}`);
  return { origin, size: BigInt(sizeText), rootHash };
}

/** The canonical JSON a Rekor v1 signed entry timestamp covers. */
function setPayload(entry: TlogEntry): Buffer {
  return Buffer.from(
    `{"body":${JSON.stringify(entry.body)},"integratedTime":${entry.integratedTime},"logID":"${entry.logId.toString('hex')}","logIndex":${entry.logIndex}}`,
  );
}

export interface VerifiedEntry {
  log: LogAuthority;
  /** The integrated time, when a signed entry timestamp vouches for it. */
  integratedTime?: Date;
}

/**
 * Checks the entry's cryptographic proofs: its log is in the trusted root, every
 * proof it carries verifies (inclusion proof with checkpoint, signed entry timestamp),
 * and it carries at least one.
 */
export function verifyEntryProofs(entry: TlogEntry, logs: readonly LogAuthority[], now: Date): VerifiedEntry {
  const log = logs.find((l) => equal(l.logId, entry.logId));
  if (!log) throw new TlogError(`log ${entry.logId.toString('base64')} is not in the trusted root`);
  if (!entry.inclusionProof && !entry.signedEntryTimestamp)
    throw new TlogError('the log entry has neither an inclusion proof nor a signed entry timestamp');
  if (entry.inclusionProof) {
    const p = entry.inclusionProof;
    const leaf = sha256(Buffer.from([0]), entry.bodyBytes);
    if (!verifyInclusion(p.logIndex, p.treeSize, leaf, p.hashes, p.rootHash))
      throw new TlogError('the inclusion proof does not verify');
    const cp = verifyCheckpoint(p.checkpoint, log);
    if (cp.size !== p.treeSize || !equal(cp.rootHash, p.rootHash))
      throw new TlogError("the checkpoint is not for the inclusion proof's tree");
  }
  let integratedTime: Date | undefined;
  if (entry.integratedTime > 0) {
    integratedTime = new Date(entry.integratedTime * 1000);
    if (integratedTime.getTime() > now.getTime() + 5 * 60_000)
      throw new TlogError('the log entry is integrated in the future');
    if (!inRange(log.validFor, integratedTime))
      throw new TlogError(`the log key of ${log.baseUrl} was not valid at the integrated time`);
  }
  if (entry.signedEntryTimestamp) {
    if (!verifyLogSignature(log.key, setPayload(entry), entry.signedEntryTimestamp))
      throw new TlogError('the signed entry timestamp does not verify');
  }
  return { log, ...(integratedTime && (entry.signedEntryTimestamp || entry.inclusionProof) ? { integratedTime } : {}) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), v);

/** The DER of what a body names as verifier: a PEM (cert or key) in base64, or raw DER. */
function verifierDer(v: unknown): Buffer | undefined {
  if (typeof v !== 'string') return undefined;
  const raw = strictBase64(v);
  if (!raw) return undefined;
  const text = raw.toString('utf8');
  if (text.startsWith('-----BEGIN')) {
    try {
      return decodePem(text).bytes;
    } catch {
      return undefined;
    }
  }
  return raw;
}

/** Does the body's verifier DER name this key material (certificate DER, or the key's SPKI)? */
function sameVerifier(der: Buffer | undefined, material: { certificate?: X509Certificate; key: KeyObject }): boolean {
  if (!der) return false;
  if (material.certificate) return equal(der, material.certificate.raw);
  return equal(der, material.key.export({ type: 'spki', format: 'der' }));
}

/** Checks that the entry's body records exactly this bundle's signature, key and content. */
export function verifyEntryBody(
  entry: TlogEntry,
  content: BundleContent,
  material: { certificate?: X509Certificate; key: KeyObject },
): void {
  let body: unknown;
  try {
    body = JSON.parse(entry.bodyBytes.toString('utf8'));
  } catch {
    throw new TlogError('the log entry body is not JSON');
  }
  if (get(body, 'kind') !== entry.kind || get(body, 'apiVersion') !== entry.version)
    throw new TlogError('the log entry body is not of the kind the bundle says');
  const signature = content.kind === 'messageSignature' ? content.signature : content.envelope.signature;
  const mismatch = (what: string) => new TlogError(`the log entry does not match the bundle: ${what}`);
  const kind = `${entry.kind} ${entry.version}`;
  switch (kind) {
    // rekord 0.0.1 (what cosign wrote before hashedrekord existed) records the same fields.
    case 'rekord 0.0.1':
    case 'hashedrekord 0.0.1': {
      if (content.kind !== 'messageSignature') throw mismatch(`a ${kind} entry for a DSSE envelope`);
      const sig = strictBase64(String(get(body, 'spec', 'signature', 'content') ?? ''));
      if (!sig || !equal(sig, signature)) throw mismatch('signature');
      if (!sameVerifier(verifierDer(get(body, 'spec', 'signature', 'publicKey', 'content')), material))
        throw mismatch('public key or certificate');
      const alg = get(body, 'spec', 'data', 'hash', 'algorithm');
      const value = get(body, 'spec', 'data', 'hash', 'value');
      if (
        !content.digest ||
        alg !== 'sha256' ||
        content.digest.algorithm !== 'SHA2_256' ||
        typeof value !== 'string' ||
        value !== content.digest.value.toString('hex')
      )
        throw mismatch('artifact digest');
      return;
    }
    case 'hashedrekord 0.0.2': {
      const spec = get(body, 'spec', 'hashedRekordV002');
      const sig = strictBase64(String(get(spec, 'signature', 'content') ?? ''));
      if (!sig || !equal(sig, signature)) throw mismatch('signature');
      const verifier = get(spec, 'signature', 'verifier');
      const der = strictBase64(
        String(get(verifier, 'x509Certificate', 'rawBytes') ?? get(verifier, 'publicKey', 'rawBytes') ?? ''),
      );
      if (!sameVerifier(der, material)) throw mismatch('public key or certificate');
      const alg = get(spec, 'data', 'algorithm');
      const digest = strictBase64(String(get(spec, 'data', 'digest') ?? ''));
      const expected =
        content.kind === 'messageSignature'
          ? content.digest?.value
          : sha256(pae(content.envelope.payloadType, content.envelope.payload));
      if (alg !== 'SHA2_256' || !digest || !expected || !equal(digest, expected)) throw mismatch('digest');
      return;
    }
    case 'dsse 0.0.1': {
      if (content.kind !== 'dsseEnvelope') throw mismatch('a dsse entry for a message signature');
      const sigs = get(body, 'spec', 'signatures');
      if (!Array.isArray(sigs) || sigs.length !== 1) throw mismatch('signature count');
      const sig = strictBase64(String(get(sigs[0], 'signature') ?? ''));
      if (!sig || !equal(sig, signature)) throw mismatch('signature');
      if (!sameVerifier(verifierDer(get(sigs[0], 'verifier')), material)) throw mismatch('public key or certificate');
      if (
        get(body, 'spec', 'payloadHash', 'algorithm') !== 'sha256' ||
        get(body, 'spec', 'payloadHash', 'value') !== sha256(content.envelope.payload).toString('hex')
      )
        throw mismatch('payload hash');
      return;
    }
    case 'intoto 0.0.2': {
      if (content.kind !== 'dsseEnvelope') throw mismatch('an intoto entry for a message signature');
      const sigs = get(body, 'spec', 'content', 'envelope', 'signatures');
      if (!Array.isArray(sigs) || sigs.length !== 1) throw mismatch('signature count');
      // intoto 0.0.2 stores the signature base64 twice over.
      const once = strictBase64(String(get(sigs[0], 'sig') ?? ''));
      const sig = once ? strictBase64(once.toString('utf8')) : undefined;
      if (!sig || !equal(sig, signature)) throw mismatch('signature');
      if (!sameVerifier(verifierDer(get(sigs[0], 'publicKey')), material)) throw mismatch('public key or certificate');
      if (
        get(body, 'spec', 'content', 'payloadHash', 'algorithm') !== 'sha256' ||
        get(body, 'spec', 'content', 'payloadHash', 'value') !== sha256(content.envelope.payload).toString('hex')
      )
        throw mismatch('payload hash');
      return;
    }
    default:
      throw new TlogError(`unsupported log entry kind ${kind}`);
  }
}
