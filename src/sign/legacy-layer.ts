/**
 * cosign's legacy signature and attestation layers (pure), checked with a key or
 * keyless as `cosign verify` / `cosign verify-attestation` (v2) check them:
 *
 *   `.sig` layer  application/vnd.dev.cosign.simplesigning.v1+json — the payload blob;
 *                 annotation dev.cosignproject.cosign/signature = base64 DER signature over it
 *   `.att` layer  application/vnd.dsse.envelope.v1+json — a DSSE envelope
 *                 {"payloadType":"application/vnd.in-toto+json","payload":…,"signatures":[{"keyid":"","sig":…}]}
 *                 over an in-toto statement whose subject is the image; annotation
 *                 `predicateType`; the signature annotation is "" (the signature is inside)
 *   keyless, on either:
 *     dev.sigstore.cosign/certificate       PEM Fulcio leaf
 *     dev.sigstore.cosign/chain             PEM intermediates … root (the trusted root is what counts)
 *     dev.sigstore.cosign/bundle            {"SignedEntryTimestamp":b64,"Payload":{"body":b64,
 *                                            "integratedTime":N,"logIndex":N,"logID":"<hex>"}}
 *     dev.sigstore.cosign/rfc3161timestamp  {"SignedRFC3161Timestamp":b64 DER}
 *
 * A layer is turned into the Sigstore bundle it amounts to (the Rekor bundle is a log
 * entry with a signed entry timestamp; the timestamp, for signatures, covers the raw
 * signature) and checked by bundle-verify.ts, so legacy and bundle signatures pass the
 * same checks: chain to a Fulcio CA valid at the time the log proves, SCT, identity,
 * the log entry recording exactly this signature, certificate and payload. Then the
 * claims: a payload names the digest (and any required annotations), a statement has
 * the digest as subject.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { Bundle, BundleContent, TlogEntry } from './bundle.js';
import {
  BundleVerificationError,
  IN_TOTO_PAYLOAD_TYPE,
  verifyBundle,
  type Artifact,
  type BundlePolicy,
  type BundleVerification,
} from './bundle-verify.js';
import { checkSignature } from './check.js';
import { strictBase64 } from './encrypted-key.js';
import { PayloadError, parsePayload, type SimpleSigningPayload } from './payload.js';
import type { Descriptor } from '../core/manifest.js';

export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const REKOR_BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
export const TIMESTAMP_ANNOTATION = 'dev.sigstore.cosign/rfc3161timestamp';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const PREDICATE_TYPE_ANNOTATION = 'predicateType';

export class LegacyLayerError extends Error {}

export interface LegacyVerification extends BundleVerification {
  /** Signatures: the simple-signing payload. */
  payload?: SimpleSigningPayload;
}

export interface LegacyPolicy extends BundlePolicy {
  /** Annotations a payload must carry (`cosign verify -a k=v`). */
  annotations?: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (m: string): never => {
  throw new LegacyLayerError(m);
};

/** Is this layer keyless (it carries a certificate)? */
export const hasCertificate = (layer: Descriptor): boolean => Boolean(layer.annotations?.[CERTIFICATE_ANNOTATION]);

/** The `dev.sigstore.cosign/bundle` annotation as a log entry (kind and version from its body). */
export function rekorBundleEntry(text: string): TlogEntry {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('its Rekor bundle annotation is not JSON');
  }
  const p = isObject(doc) ? doc.Payload : undefined;
  const set =
    isObject(doc) && typeof doc.SignedEntryTimestamp === 'string' ? strictBase64(doc.SignedEntryTimestamp) : undefined;
  if (!isObject(p) || !set) return fail('its Rekor bundle annotation has no Payload or SignedEntryTimestamp');
  const body = typeof p.body === 'string' ? p.body : '';
  const bodyBytes = strictBase64(body) ?? fail('its Rekor bundle body is not base64');
  const int = (v: unknown, what: string): number =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`its Rekor bundle ${what} is not an integer`);
  const logID =
    typeof p.logID === 'string' && /^[0-9a-f]{64}$/.test(p.logID) ? p.logID : fail('its Rekor bundle logID is not hex');
  let kind = '';
  let version = '';
  try {
    const b = JSON.parse(bodyBytes.toString('utf8')) as { kind?: unknown; apiVersion?: unknown };
    kind = typeof b.kind === 'string' ? b.kind : '';
    version = typeof b.apiVersion === 'string' ? b.apiVersion : '';
  } catch {
    fail('its Rekor bundle body is not JSON');
  }
  return {
    logIndex: BigInt(int(p.logIndex, 'logIndex')),
    logId: Buffer.from(logID, 'hex'),
    kind,
    version,
    integratedTime: int(p.integratedTime, 'integratedTime'),
    body,
    bodyBytes,
    signedEntryTimestamp: set,
  };
}

/** A DSSE envelope as go-securesystemslib writes it: exactly one signature, as sigstore requires. */
export function parseEnvelope(blob: Buffer): BundleContent {
  let doc: unknown;
  try {
    doc = JSON.parse(blob.toString('utf8'));
  } catch {
    return fail('the attestation is not a JSON DSSE envelope');
  }
  if (
    !isObject(doc) ||
    typeof doc.payloadType !== 'string' ||
    typeof doc.payload !== 'string' ||
    !Array.isArray(doc.signatures)
  )
    return fail('the attestation is not a DSSE envelope');
  if (doc.signatures.length !== 1)
    return fail(`the DSSE envelope carries ${doc.signatures.length} signatures, not one`);
  const s = doc.signatures[0];
  const sig = isObject(s) && typeof s.sig === 'string' ? strictBase64(s.sig) : undefined;
  const payload = strictBase64(doc.payload);
  if (!sig || sig.length === 0 || !payload) return fail('the DSSE envelope is not valid base64');
  return { kind: 'dsseEnvelope', envelope: { payload, payloadType: doc.payloadType, signature: sig } };
}

/** The Sigstore bundle a legacy layer amounts to. */
export function legacyBundle(layer: Descriptor, blob: Buffer): Bundle {
  const a = layer.annotations ?? {};
  let content: BundleContent;
  if (layer.mediaType === DSSE_MEDIA_TYPE) content = parseEnvelope(blob);
  else {
    const signature = strictBase64(a[SIGNATURE_ANNOTATION] ?? '');
    if (!signature || signature.length === 0) return fail('its signature annotation is not base64');
    content = {
      kind: 'messageSignature',
      signature,
      digest: { algorithm: 'SHA2_256', value: createHash('sha256').update(blob).digest() },
    };
  }
  let certificate: X509Certificate | undefined;
  if (a[CERTIFICATE_ANNOTATION]) {
    try {
      certificate = new X509Certificate(a[CERTIFICATE_ANNOTATION]);
    } catch {
      fail('its certificate annotation is not a PEM certificate');
    }
  }
  const rfc3161: Buffer[] = [];
  // cosign timestamps a signature's raw bytes; an attestation's timestamp covers the
  // whole envelope, which a bundle cannot express: it is not counted.
  if (a[TIMESTAMP_ANNOTATION] && content.kind === 'messageSignature') {
    let der: Buffer | undefined;
    try {
      const t = JSON.parse(a[TIMESTAMP_ANNOTATION]) as { SignedRFC3161Timestamp?: unknown };
      der = typeof t.SignedRFC3161Timestamp === 'string' ? strictBase64(t.SignedRFC3161Timestamp) : undefined;
    } catch {
      /* reported below */
    }
    rfc3161.push(der ?? fail('its RFC 3161 timestamp annotation is malformed'));
  }
  return {
    mediaType: 'cosign legacy layer',
    version: 1,
    key: certificate ? { kind: 'certificate', certificate } : { kind: 'publicKey', hint: '' },
    tlogEntries: a[REKOR_BUNDLE_ANNOTATION] ? [rekorBundleEntry(a[REKOR_BUNDLE_ANNOTATION])] : [],
    rfc3161Timestamps: rfc3161,
    content,
  };
}

const hex = (digest: string) => digest.slice(digest.indexOf(':') + 1);

/**
 * Checks one legacy layer (its blob already digest-checked) for `digest`: verified, or
 * why not. Key-signed signatures without a certificate take check.ts's path (what
 * `stowage sign` writes); keyless ones, and every attestation, go through the bundle
 * verifier. Attestations of another predicate type than `predicateType` are refused.
 */
export function checkLegacyLayer(
  layer: Descriptor,
  blob: Buffer,
  digest: string,
  policy: LegacyPolicy,
  predicateType?: string,
): LegacyVerification | string {
  const attestation = layer.mediaType === DSSE_MEDIA_TYPE;
  const keyless = hasCertificate(layer) && policy.trustedRoot !== undefined && policy.identity !== undefined;
  if (!attestation && !keyless) {
    if (!policy.keys?.length)
      return hasCertificate(layer)
        ? 'it is keyless: verify it with --trusted-root and an identity'
        : 'it is signed with a key, not a certificate';
    const check = checkSignature(
      blob,
      layer.annotations?.[SIGNATURE_ANNOTATION] ?? '',
      policy.keys ?? [],
      digest,
      policy.annotations,
    );
    if (!check.ok) return check.reason;
    return {
      signer: { kind: 'key', key: check.key.source, hint: check.key.hint },
      content: 'message-signature',
      timestamps: [],
      tlogEntries: 0,
      payload: check.payload,
    };
  }
  if (!digest.startsWith('sha256:')) return `${digest} is not a sha256 digest`;
  try {
    const bundle = legacyBundle(layer, blob);
    // With a key given, a certificate's key is not what is trusted: verify with the key (as cosign --key).
    if (!keyless) bundle.key = { kind: 'publicKey', hint: '' };
    const artifact: Artifact = attestation
      ? { digests: { sha256: hex(digest) } }
      : { bytes: blob, digests: { sha256: createHash('sha256').update(blob).digest('hex') } };
    const result: LegacyVerification = verifyBundle(
      bundle,
      artifact,
      keyless ? policy : { ...policy, identity: undefined },
    );
    if (attestation) {
      if (bundle.content.kind === 'dsseEnvelope' && bundle.content.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
        return `its payload type is ${bundle.content.envelope.payloadType}`;
      const type = result.statement?.predicateType;
      if (predicateType !== undefined && type !== predicateType)
        return `its predicate type is ${type ?? 'none'}, not ${predicateType}`;
      if (layer.annotations?.[PREDICATE_TYPE_ANNOTATION] && layer.annotations[PREDICATE_TYPE_ANNOTATION] !== type)
        return `its predicateType annotation ${layer.annotations[PREDICATE_TYPE_ANNOTATION]} is not the statement's ${type}`;
      return result;
    }
    let payload: SimpleSigningPayload;
    try {
      payload = parsePayload(blob);
    } catch (e) {
      if (e instanceof PayloadError) return `the signature verifies, but ${e.message}`;
      throw e;
    }
    if (payload.digest !== digest) return `the signature verifies, but for ${payload.digest}, not ${digest}`;
    for (const [k, v] of Object.entries(policy.annotations ?? {}))
      if (payload.annotations?.[k] !== v) return `the signature verifies, but without the annotation ${k}=${v}`;
    return { ...result, payload };
  } catch (e) {
    if (e instanceof LegacyLayerError || e instanceof BundleVerificationError) return e.message;
    throw e;
  }
}
