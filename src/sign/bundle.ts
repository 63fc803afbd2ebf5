/**
 * Sigstore bundles v0.1–v0.3 (pure): parsing the protobuf-JSON form into checked,
 * decoded values, and writing the v0.3 form Stowage signs with.
 *
 *   {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
 *    "verificationMaterial":{ "publicKey":{"hint":…} | "certificate":{"rawBytes":…}
 *                              | "x509CertificateChain":{"certificates":[…]},   (v0.1/v0.2)
 *                             "tlogEntries":[…], "timestampVerificationData":{"rfc3161Timestamps":[…]}},
 *    "messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":…},"signature":…}
 *      | "dsseEnvelope":{"payload":…,"payloadType":…,"signatures":[{"sig":…,"keyid"?:…}]}}
 *
 * As sigstore-go requires: a known media type; v0.1 tlog entries carry an inclusion
 * promise, v0.2+ an inclusion proof; strict base64; non-negative indexes; a DSSE
 * envelope with exactly one signature; a certificate chain that is not empty and
 * does not include a self-signed (root) certificate.
 */
import { X509Certificate } from 'node:crypto';
import { strictBase64 } from './encrypted-key.js';

export class BundleError extends Error {}

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const MEDIA_TYPES: Record<string, number> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': 1,
  'application/vnd.dev.sigstore.bundle+json;version=0.2': 2,
  'application/vnd.dev.sigstore.bundle+json;version=0.3': 3,
  [BUNDLE_V03_MEDIA_TYPE]: 3,
};

export interface InclusionProof {
  logIndex: bigint;
  treeSize: bigint;
  rootHash: Buffer;
  hashes: Buffer[];
  checkpoint: string;
}

export interface TlogEntry {
  logIndex: bigint;
  logId: Buffer;
  kind: string;
  version: string;
  /** 0 when absent (Rekor v2 has no integrated time). */
  integratedTime: number;
  /** The base64 text as given (the SET covers it) and its bytes. */
  body: string;
  bodyBytes: Buffer;
  signedEntryTimestamp?: Buffer;
  inclusionProof?: InclusionProof;
}

export type VerificationKey =
  { kind: 'publicKey'; hint: string } | { kind: 'certificate'; certificate: X509Certificate };

export interface DsseEnvelope {
  payload: Buffer;
  payloadType: string;
  signature: Buffer;
  keyid?: string;
}

export type BundleContent =
  | { kind: 'messageSignature'; signature: Buffer; digest?: { algorithm: string; value: Buffer } }
  | { kind: 'dsseEnvelope'; envelope: DsseEnvelope };

export interface Bundle {
  mediaType: string;
  /** Minor version: 1, 2 or 3. */
  version: number;
  key: VerificationKey;
  tlogEntries: TlogEntry[];
  rfc3161Timestamps: Buffer[];
  content: BundleContent;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Standard base64 as protojson decodes it (Go's decoder skips CR and LF). */
function b64(v: unknown, where: string, allowEmpty = false): Buffer {
  const b = typeof v === 'string' ? strictBase64(v.replace(/[\r\n]/g, '')) : undefined;
  if (!b || (!allowEmpty && b.length === 0)) throw new BundleError(`${where} is not valid base64`);
  return b;
}

/** protobuf-JSON int64: a decimal string (or number), here never negative. */
function int64(v: unknown, where: string, required = true): bigint {
  if (v === undefined && !required) return 0n;
  const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof s !== 'string' || !/^-?\d{1,19}$/.test(s)) throw new BundleError(`${where} is not an integer`);
  const n = BigInt(s);
  if (n < 0n) throw new BundleError(`${where} is negative`);
  return n;
}

function certificate(v: unknown, where: string): X509Certificate {
  const der = b64(isObject(v) ? v.rawBytes : undefined, `${where}.rawBytes`);
  try {
    return new X509Certificate(der);
  } catch {
    throw new BundleError(`${where} is not an X.509 certificate`);
  }
}

function tlogEntry(v: unknown, where: string, version: number): TlogEntry {
  if (!isObject(v)) throw new BundleError(`${where} is not an object`);
  const kv = v.kindVersion;
  if (!isObject(kv) || typeof kv.kind !== 'string' || typeof kv.version !== 'string')
    throw new BundleError(`${where}.kindVersion is missing`);
  if (!isObject(v.logId)) throw new BundleError(`${where}.logId is missing`);
  if (typeof v.canonicalizedBody !== 'string') throw new BundleError(`${where}.canonicalizedBody is missing`);
  const integrated = int64(v.integratedTime, `${where}.integratedTime`, false);
  const entry: TlogEntry = {
    logIndex: int64(v.logIndex, `${where}.logIndex`),
    logId: b64(v.logId.keyId, `${where}.logId.keyId`),
    kind: kv.kind,
    version: kv.version,
    integratedTime: Number(integrated),
    body: v.canonicalizedBody,
    bodyBytes: b64(v.canonicalizedBody, `${where}.canonicalizedBody`),
  };
  if (v.inclusionPromise !== undefined && v.inclusionPromise !== null) {
    if (!isObject(v.inclusionPromise)) throw new BundleError(`${where}.inclusionPromise is not an object`);
    entry.signedEntryTimestamp = b64(
      v.inclusionPromise.signedEntryTimestamp,
      `${where}.inclusionPromise.signedEntryTimestamp`,
    );
  }
  if (v.inclusionProof !== undefined && v.inclusionProof !== null) {
    const p = v.inclusionProof;
    if (!isObject(p) || !Array.isArray(p.hashes)) throw new BundleError(`${where}.inclusionProof is malformed`);
    const checkpoint =
      isObject(p.checkpoint) && typeof p.checkpoint.envelope === 'string' ? p.checkpoint.envelope : undefined;
    if (checkpoint === undefined) throw new BundleError(`${where}.inclusionProof has no checkpoint`);
    entry.inclusionProof = {
      logIndex: int64(p.logIndex, `${where}.inclusionProof.logIndex`),
      treeSize: int64(p.treeSize, `${where}.inclusionProof.treeSize`),
      rootHash: b64(p.rootHash, `${where}.inclusionProof.rootHash`),
      hashes: p.hashes.map((h: unknown, i: number) => b64(h, `${where}.inclusionProof.hashes[${i}]`)),
      checkpoint,
    };
  }
  if (version === 1 && !entry.signedEntryTimestamp)
    throw new BundleError(`${where}: a v0.1 bundle's log entry needs an inclusion promise`);
  if (version >= 2 && !entry.inclusionProof)
    throw new BundleError(`${where}: a v0.${version} bundle's log entry needs an inclusion proof`);
  return entry;
}

function verificationKey(vm: Record<string, unknown>): VerificationKey {
  const given = ['publicKey', 'certificate', 'x509CertificateChain'].filter((k) => vm[k] !== undefined);
  if (given.length !== 1)
    throw new BundleError('verificationMaterial needs exactly one of publicKey, certificate, x509CertificateChain');
  if (isObject(vm.publicKey))
    return { kind: 'publicKey', hint: typeof vm.publicKey.hint === 'string' ? vm.publicKey.hint : '' };
  if (vm.certificate !== undefined)
    return { kind: 'certificate', certificate: certificate(vm.certificate, 'verificationMaterial.certificate') };
  const chain = isObject(vm.x509CertificateChain) ? vm.x509CertificateChain.certificates : undefined;
  if (!Array.isArray(chain) || chain.length === 0)
    throw new BundleError('verificationMaterial.x509CertificateChain is empty');
  const certs = chain.map((c: unknown, i: number) =>
    certificate(c, `verificationMaterial.x509CertificateChain.certificates[${i}]`),
  );
  // The trusted root supplies the CA chain and only the leaf is used. Older bundles ship
  // the whole chain in order (leaf … root, which sigstore-go accepts); a root anywhere
  // else is refused (sigstore-conformance bundle-with-root-cert_fail).
  const rootAt = certs.findIndex((c) => c.checkIssued(c) && c.verify(c.publicKey));
  if (
    rootAt >= 0 &&
    (rootAt !== certs.length - 1 ||
      !certs.every((c, i) => i === rootAt || (c.checkIssued(certs[i + 1]!) && c.verify(certs[i + 1]!.publicKey))))
  ) {
    throw new BundleError('the certificate chain in the bundle includes a root certificate out of place');
  }
  return { kind: 'certificate', certificate: certs[0]! };
}

function content(doc: Record<string, unknown>): BundleContent {
  if ((doc.messageSignature === undefined) === (doc.dsseEnvelope === undefined))
    throw new BundleError('a bundle holds exactly one of messageSignature and dsseEnvelope');
  if (isObject(doc.messageSignature)) {
    const m = doc.messageSignature;
    const signature = b64(m.signature, 'messageSignature.signature');
    if (m.messageDigest === undefined) return { kind: 'messageSignature', signature };
    if (!isObject(m.messageDigest) || typeof m.messageDigest.algorithm !== 'string')
      throw new BundleError('messageSignature.messageDigest is malformed');
    return {
      kind: 'messageSignature',
      signature,
      digest: {
        algorithm: m.messageDigest.algorithm,
        value: b64(m.messageDigest.digest, 'messageSignature.messageDigest.digest'),
      },
    };
  }
  const e = doc.dsseEnvelope;
  if (!isObject(e) || typeof e.payloadType !== 'string' || !Array.isArray(e.signatures))
    throw new BundleError('dsseEnvelope is malformed');
  if (e.signatures.length !== 1)
    throw new BundleError(`a DSSE envelope must carry exactly one signature, not ${e.signatures.length}`);
  const s = e.signatures[0];
  if (!isObject(s)) throw new BundleError('dsseEnvelope.signatures[0] is malformed');
  return {
    kind: 'dsseEnvelope',
    envelope: {
      payload: b64(e.payload, 'dsseEnvelope.payload', true),
      payloadType: e.payloadType,
      signature: b64(s.sig, 'dsseEnvelope.signatures[0].sig'),
      ...(typeof s.keyid === 'string' && s.keyid !== '' ? { keyid: s.keyid } : {}),
    },
  };
}

export function parseBundle(json: Uint8Array | string): Bundle {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'));
  } catch {
    throw new BundleError('the bundle is not JSON');
  }
  if (!isObject(doc)) throw new BundleError('the bundle is not a JSON object');
  const version = typeof doc.mediaType === 'string' ? MEDIA_TYPES[doc.mediaType] : undefined;
  if (version === undefined) throw new BundleError(`unsupported bundle media type ${JSON.stringify(doc.mediaType)}`);
  const vm = doc.verificationMaterial;
  if (!isObject(vm)) throw new BundleError('the bundle has no verificationMaterial');
  const entries = vm.tlogEntries ?? [];
  if (!Array.isArray(entries)) throw new BundleError('verificationMaterial.tlogEntries is not a list');
  const tsd = vm.timestampVerificationData;
  const stamps = isObject(tsd) && Array.isArray(tsd.rfc3161Timestamps) ? tsd.rfc3161Timestamps : [];
  return {
    mediaType: doc.mediaType as string,
    version,
    key: verificationKey(vm),
    tlogEntries: entries.map((e: unknown, i: number) => tlogEntry(e, `tlogEntries[${i}]`, version)),
    rfc3161Timestamps: stamps.map((t: unknown, i: number) =>
      b64(isObject(t) ? t.signedTimestamp : undefined, `rfc3161Timestamps[${i}].signedTimestamp`),
    ),
    content: content(doc),
  };
}

/** DSSE's pre-authentication encoding: what a DSSE signature covers. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A key-based v0.3 bundle around a DSSE envelope (no log entry, no timestamp: offline). */
export function keyBundleJson(
  hint: string,
  envelope: { payload: Buffer; payloadType: string; signature: Buffer },
): Buffer {
  return Buffer.from(
    JSON.stringify({
      mediaType: BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint }, tlogEntries: [], timestampVerificationData: {} },
      dsseEnvelope: {
        payload: envelope.payload.toString('base64'),
        payloadType: envelope.payloadType,
        signatures: [{ sig: envelope.signature.toString('base64') }],
      },
    }),
  );
}
