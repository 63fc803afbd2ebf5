/**
 * Verifying cosign signatures of a manifest, on any registry: find them (the OCI 1.1
 * referrers of the digest — the API or the `sha256-<hex>` fallback tag — and the
 * `sha256-<hex>.sig` tag), then check each as `cosign verify --key` does (see
 * check.ts). At least one must verify; otherwise a ClientError says why each failed.
 *
 * `resolveVerified` is what pull commands call before writing anything: it resolves a
 * tag once, verifies that digest, and returns the reference pinned to it, so what is
 * then pulled is exactly what was verified (the tag cannot move in between).
 */
import type { RegistryClient, Repository } from '../client/client.js';
import type { Descriptor } from '../client/content.js';
import { clientError, isClientError } from '../client/errors.js';
import { formatReference, manifestRef, type Reference } from '../client/reference.js';
import { MAX_PAYLOAD_BYTES, checkSignature } from './check.js';
import type { TrustedKey } from './keys.js';
import type { SimpleSigningPayload } from './payload.js';
import { SIGNATURE_ARTIFACT_TYPE, parseSignatureManifest, signatureTag, type SignatureLayer } from './signature-manifest.js';

export interface FoundSignature extends SignatureLayer {
  /** Where it was found: the `.sig` tag, or a referrer manifest. */
  via: 'tag' | 'referrer';
  /** The signature manifest's digest. */
  manifest: string;
}

export interface VerifiedSignature {
  /** The verified manifest digest (what the payload names). */
  digest: string;
  /** The key file that verified it, and its sigstore hint. */
  key: string;
  keyHint: string;
  payload: SimpleSigningPayload;
  payloadDigest: string;
  signature: string;
  /** Every place this signature was found. */
  foundIn: { via: 'tag' | 'referrer'; manifest: string }[];
}

export interface VerifyOptions {
  /** Annotations the payload must carry (`cosign verify -a k=v`). */
  annotations?: Record<string, string>;
}

/** Referrer manifests read at most (a registry could list thousands). */
const MAX_REFERRERS = 100;

/** Every cosign signature stored for `digest` in `ref`'s repository. */
export async function findSignatures(client: RegistryClient, ref: Reference, digest: string): Promise<FoundSignature[]> {
  const repo = client.repository(ref);
  const found: FoundSignature[] = [];
  const read = new Set<string>();
  const collect = (bytes: Buffer, manifest: string, via: FoundSignature['via'], subjectMustBe?: string) => {
    read.add(manifest);
    const parsed = parseSignatureManifest(bytes);
    if (!parsed) return;
    if (subjectMustBe !== undefined && parsed.subject?.digest !== subjectMustBe) return;
    for (const s of parsed.signatures) found.push({ ...s, via, manifest });
  };

  try {
    const sig = await repo.fetchManifest(signatureTag(digest));
    collect(sig.bytes, sig.descriptor.digest, 'tag');
  } catch (e) {
    if (!isClientError(e, 'MANIFEST_NOT_FOUND')) throw e;
  }
  const referrers = await repo.referrers(digest, { artifactType: SIGNATURE_ARTIFACT_TYPE });
  for (const r of referrers.manifests.slice(0, MAX_REFERRERS)) {
    if (read.has(r.digest)) continue;
    try {
      const m = await repo.fetchManifest(r.digest);
      collect(m.bytes, r.digest, 'referrer', digest);
    } catch (e) {
      if (!isClientError(e, 'MANIFEST_NOT_FOUND')) throw e; // listed but gone: skip it
    }
  }
  return found;
}

async function readPayload(repo: Repository, d: Descriptor): Promise<Buffer | string> {
  if (d.size > MAX_PAYLOAD_BYTES) return `its payload is ${d.size} bytes, more than a signature payload can be`;
  try {
    return await repo.read(d, MAX_PAYLOAD_BYTES);
  } catch (e) {
    if (isClientError(e)) return `its payload ${d.digest} cannot be read: ${e.message}`;
    throw e;
  }
}

/**
 * Verifies the cosign signatures of `digest` (in `ref`'s repository) with `keys`.
 * Returns the signatures that verify; throws SIGNATURE_NOT_FOUND / SIGNATURE_INVALID
 * when none does.
 */
export async function verifyReference(client: RegistryClient, ref: Reference, digest: string, keys: readonly TrustedKey[], opts: VerifyOptions = {}): Promise<VerifiedSignature[]> {
  if (keys.length === 0) throw clientError('INVALID_ARGUMENT', { message: 'no public key to verify with', hint: 'give one with --key FILE (or --verify-key FILE)' });
  const label = formatReference({ registry: ref.registry, repository: ref.repository, ...(ref.tag ? { tag: ref.tag } : {}), digest });
  const repo = client.repository(ref);
  const found = await findSignatures(client, ref, digest);
  if (found.length === 0) throw clientError('SIGNATURE_NOT_FOUND', { reference: label, digest });

  const verified = new Map<string, VerifiedSignature>();
  const reasons: string[] = [];
  const payloads = new Map<string, Buffer | string>();
  for (const f of found) {
    const id = `${f.descriptor.digest} ${f.signature}`;
    const seen = verified.get(id);
    if (seen) {
      seen.foundIn.push({ via: f.via, manifest: f.manifest });
      continue;
    }
    let payload = payloads.get(f.descriptor.digest);
    if (payload === undefined) {
      payload = await readPayload(repo, f.descriptor);
      payloads.set(f.descriptor.digest, payload);
    }
    const where = f.via === 'tag' ? `signature in ${signatureTag(digest)}` : `referrer ${f.manifest.slice(0, 19)}…`;
    if (typeof payload === 'string') {
      reasons.push(`${where}: ${payload}`);
      continue;
    }
    const check = checkSignature(payload, f.signature, keys, digest, opts.annotations);
    if (!check.ok) {
      reasons.push(`${where}: ${check.reason}`);
      continue;
    }
    verified.set(id, {
      digest,
      key: check.key.source,
      keyHint: check.key.hint,
      payload: check.payload,
      payloadDigest: f.descriptor.digest,
      signature: f.signature,
      foundIn: [{ via: f.via, manifest: f.manifest }],
    });
  }
  if (verified.size === 0) throw clientError('SIGNATURE_INVALID', { reference: label, digest, reasons: [...new Set(reasons)] });
  return [...verified.values()];
}

export interface ResolvedVerified {
  /** The reference pinned to the verified digest (its tag kept for naming). */
  reference: Reference;
  descriptor: Descriptor;
  signatures: VerifiedSignature[];
}

/** Resolves `ref` once and verifies that digest: pull exactly `reference` afterwards. */
export async function resolveVerified(client: RegistryClient, ref: Reference, keys: readonly TrustedKey[], opts: VerifyOptions = {}): Promise<ResolvedVerified> {
  const descriptor = await client.repository(ref).resolve(manifestRef(ref));
  const signatures = await verifyReference(client, ref, descriptor.digest, keys, opts);
  return { reference: { ...ref, digest: descriptor.digest }, descriptor, signatures };
}
