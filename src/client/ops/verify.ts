/**
 * Verifying the signatures of a manifest, on any registry, as cosign v3 and Flux find
 * them:
 *
 *   - Sigstore bundles stored as OCI 1.1 referrers (artifactType
 *     `application/vnd.dev.sigstore.bundle.v0.3+json`, listed through the referrers API —
 *     filtered server-side — or the `sha256-<hex>` referrers tag): one layer holding the
 *     bundle; checked by bundle-verify.ts with a key or keyless (identity + issuer +
 *     trusted root), DSSE statements' subject = the digest;
 *   - cosign's legacy layers: simple-signing signatures in the `sha256-<hex>.sig` tag and
 *     cosign's OCI 1.1 signature referrers, or (attestations, `--type`) the DSSE envelopes
 *     of the `sha256-<hex>.att` tag; checked with keys, or keyless from their certificate
 *     and Rekor bundle annotations (legacy-layer.ts).
 *
 * At least one must verify; otherwise a ClientError says why each failed.
 *
 * `resolveVerified` is what pull commands call before writing anything: it resolves a
 * tag once, verifies that digest, and returns the reference pinned to it, so what is
 * then pulled is exactly what was verified (the tag cannot move in between).
 */
import type { RegistryClient, Repository } from '../client.js';
import type { Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { formatReference, manifestRef, type Reference } from '../reference.js';
import { checkBundleBytes, type VerificationPolicy } from '../../sign/bundle-check.js';
import type { BundleVerification, Signer } from '../../sign/bundle-verify.js';
import { MAX_PAYLOAD_BYTES } from '../../sign/check.js';
import { DSSE_MEDIA_TYPE, checkLegacyLayer } from '../../sign/legacy-layer.js';
import type { SimpleSigningPayload } from '../../sign/payload.js';
import {
  SIGNATURE_ARTIFACT_TYPE,
  parseSignatureManifest,
  parseBundleReferrer,
  signatureTag,
  BUNDLE_ARTIFACT_TYPE,
  MAX_BUNDLE_BYTES,
  type SignatureLayer,
} from '../../sign/signature-manifest.js';

export interface FoundSignature extends SignatureLayer {
  kind: 'signature' | 'attestation';
  /** Where it was found: the `.sig` / `.att` tag, or a referrer manifest. */
  via: 'tag' | 'referrer';
  /** The tag, when found through one. */
  tag?: string;
  /** The signature manifest's digest. */
  manifest: string;
}

export interface FoundBundle {
  /** The referrer manifest's digest and the bundle layer. */
  manifest: string;
  layer: Descriptor;
  predicateType?: string;
  via: 'api' | 'tag-schema';
}

export interface VerifiedSignature {
  /** The verified manifest digest. */
  digest: string;
  /** A bundle, a legacy `.sig` signature, or a legacy `.att` attestation (DSSE). */
  format: 'sigstore-bundle' | 'simple-signing' | 'cosign-attestation';
  /** Who signed: a key file, or a certificate's identity and issuer. */
  signer: Signer;
  /** The key file (key-signed), for messages. */
  key?: string;
  keyHint?: string;
  /** Bundles with a DSSE in-toto statement: its predicate type. */
  predicateType?: string;
  /** Bundles: the times proven by the log or a timestamp authority, and log entries checked. */
  timestamps?: BundleVerification['timestamps'];
  tlogEntries?: number;
  /** Simple signing: the payload and its signature. */
  payload?: SimpleSigningPayload;
  payloadDigest?: string;
  signature?: string;
  /** Every place this signature was found. */
  foundIn: { via: 'tag' | 'referrer'; manifest: string; tag?: string }[];
}

/** Referrer manifests read at most (a registry could list thousands). */
const MAX_REFERRERS = 100;

/**
 * Every legacy cosign layer stored for `digest` in `ref`'s repository: signatures (the
 * `.sig` tag and cosign's signature referrers) or attestations (the `.att` tag's DSSE
 * envelopes).
 */
export async function findSignatures(
  client: RegistryClient,
  ref: Reference,
  digest: string,
  kind: 'signature' | 'attestation' = 'signature',
): Promise<FoundSignature[]> {
  const repo = client.repository(ref);
  const found: FoundSignature[] = [];
  const read = new Set<string>();
  const tag = kind === 'signature' ? signatureTag(digest) : attestationTag(digest);
  const collect = (bytes: Buffer, manifest: string, via: FoundSignature['via'], subjectMustBe?: string) => {
    read.add(manifest);
    const parsed = parseSignatureManifest(bytes);
    if (!parsed) return;
    if (subjectMustBe !== undefined && parsed.subject?.digest !== subjectMustBe) return;
    const layers =
      kind === 'signature'
        ? parsed.signatures
        : parsed.layers.filter((d) => d.mediaType === DSSE_MEDIA_TYPE).map((d) => ({ descriptor: d, signature: '' }));
    for (const s of layers) found.push({ ...s, kind, via, manifest, ...(via === 'tag' ? { tag } : {}) });
  };

  try {
    const m = await repo.fetchManifest(tag);
    collect(m.bytes, m.descriptor.digest, 'tag');
  } catch (e) {
    if (!isClientError(e, 'MANIFEST_NOT_FOUND')) throw e;
  }
  if (kind === 'attestation') return found;
  const referrers = await repo.referrers(digest, { artifactType: SIGNATURE_ARTIFACT_TYPE });
  for (const r of referrers.manifests.slice(0, MAX_REFERRERS)) {
    if (read.has(r.digest)) continue;
    const m = await fetchListed(repo, r.digest);
    if (m) collect(m, r.digest, 'referrer', digest);
  }
  return found;
}

/** cosign's tag for a manifest's attestations: `sha256-<hex>.att`. */
export const attestationTag = (digest: string): string => signatureTag(digest).replace(/\.sig$/, '.att');

async function fetchListed(repo: Repository, digest: string): Promise<Buffer | undefined> {
  try {
    return (await repo.fetchManifest(digest)).bytes;
  } catch (e) {
    if (isClientError(e, 'MANIFEST_NOT_FOUND')) return undefined; // listed but gone: skip it
    throw e;
  }
}

/** Every Sigstore bundle referrer of `digest` (cosign v3's layout). */
export async function findBundles(client: RegistryClient, ref: Reference, digest: string): Promise<FoundBundle[]> {
  const repo = client.repository(ref);
  const referrers = await repo.referrers(digest, { artifactType: BUNDLE_ARTIFACT_TYPE });
  const out: FoundBundle[] = [];
  for (const r of referrers.manifests.slice(0, MAX_REFERRERS)) {
    const bytes = await fetchListed(repo, r.digest);
    const parsed = bytes ? parseBundleReferrer(bytes) : undefined;
    if (!parsed || parsed.subject !== digest) continue;
    out.push({
      manifest: r.digest,
      layer: parsed.layer,
      via: referrers.via,
      ...(parsed.predicateType ? { predicateType: parsed.predicateType } : {}),
    });
  }
  return out;
}

async function readLimited(repo: Repository, d: Descriptor, limit: number, what: string): Promise<Buffer | string> {
  if (d.size > limit) return `its ${what} is ${d.size} bytes, more than a ${what} can be`;
  try {
    return await repo.read(d, limit);
  } catch (e) {
    if (isClientError(e)) return `its ${what} ${d.digest} cannot be read: ${e.message}`;
    throw e;
  }
}

const hasKeys = (p: VerificationPolicy) => (p.keys?.length ?? 0) > 0;
const hasKeyless = (p: VerificationPolicy) => p.trustedRoot !== undefined && p.identity !== undefined;

/**
 * Verifies the signatures of `digest` (in `ref`'s repository) under `policy`.
 * Returns those that verify; throws SIGNATURE_NOT_FOUND / SIGNATURE_INVALID when none does.
 */
export async function verifyReference(
  client: RegistryClient,
  ref: Reference,
  digest: string,
  policy: VerificationPolicy,
): Promise<VerifiedSignature[]> {
  if (!hasKeys(policy) && !hasKeyless(policy)) {
    throw clientError('INVALID_ARGUMENT', {
      message: 'nothing to verify with',
      hint: 'give a public key (--key / --verify-key FILE), or --trusted-root with --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]',
    });
  }
  const label = formatReference({
    registry: ref.registry,
    repository: ref.repository,
    ...(ref.tag ? { tag: ref.tag } : {}),
    digest,
  });
  const repo = client.repository(ref);
  const bundles = await findBundles(client, ref, digest);
  // cosign's legacy layers: `.sig` signatures, or (with --type) `.att` attestations.
  const legacy = await findSignatures(
    client,
    ref,
    digest,
    policy.predicateType === undefined ? 'signature' : 'attestation',
  );
  if (bundles.length === 0 && legacy.length === 0)
    throw clientError('SIGNATURE_NOT_FOUND', { reference: label, digest });

  const verified: VerifiedSignature[] = [];
  const reasons: string[] = [];
  for (const b of bundles) {
    const where = `bundle ${b.manifest.slice(0, 19)}…`;
    const bytes = await readLimited(repo, b.layer, MAX_BUNDLE_BYTES, 'bundle');
    const result = typeof bytes === 'string' ? bytes : checkBundleBytes(bytes, digest, policy);
    if (typeof result === 'string') {
      reasons.push(`${where}: ${result}`);
      continue;
    }
    verified.push({
      digest,
      format: 'sigstore-bundle',
      signer: result.signer,
      ...(result.signer.kind === 'key' ? { key: result.signer.key, keyHint: result.signer.hint } : {}),
      ...(result.statement ? { predicateType: result.statement.predicateType } : {}),
      timestamps: result.timestamps,
      tlogEntries: result.tlogEntries,
      foundIn: [{ via: 'referrer', manifest: b.manifest }],
    });
  }

  const byId = new Map<string, VerifiedSignature>();
  const blobs = new Map<string, Buffer | string>();
  for (const f of legacy) {
    const id = `${f.descriptor.digest} ${JSON.stringify(f.descriptor.annotations ?? {})}`;
    const place = { via: f.via, manifest: f.manifest, ...(f.tag ? { tag: f.tag } : {}) };
    const seen = byId.get(id);
    if (seen) {
      seen.foundIn.push(place);
      continue;
    }
    let blob = blobs.get(f.descriptor.digest);
    if (blob === undefined) {
      blob =
        f.kind === 'signature'
          ? await readLimited(repo, f.descriptor, MAX_PAYLOAD_BYTES, 'payload')
          : await readLimited(repo, f.descriptor, MAX_BUNDLE_BYTES, 'attestation');
      blobs.set(f.descriptor.digest, blob);
    }
    const where = f.tag ? `${f.kind} in ${f.tag}` : `referrer ${f.manifest.slice(0, 19)}…`;
    const check =
      typeof blob === 'string' ? blob : checkLegacyLayer(f.descriptor, blob, digest, policy, policy.predicateType);
    if (typeof check === 'string') {
      reasons.push(`${where}: ${check}`);
      continue;
    }
    const v: VerifiedSignature = {
      digest,
      format: f.kind === 'signature' ? 'simple-signing' : 'cosign-attestation',
      signer: check.signer,
      ...(check.signer.kind === 'key' ? { key: check.signer.key, keyHint: check.signer.hint } : {}),
      ...(check.statement ? { predicateType: check.statement.predicateType } : {}),
      ...(check.payload ? { payload: check.payload, signature: f.signature } : {}),
      payloadDigest: f.descriptor.digest,
      ...(check.signer.kind === 'certificate' ? { timestamps: check.timestamps, tlogEntries: check.tlogEntries } : {}),
      foundIn: [place],
    };
    byId.set(id, v);
    verified.push(v);
  }
  if (verified.length === 0)
    throw clientError('SIGNATURE_INVALID', { reference: label, digest, reasons: [...new Set(reasons)] });
  return verified;
}

export interface ResolvedVerified {
  /** The reference pinned to the verified digest (its tag kept for naming). */
  reference: Reference;
  descriptor: Descriptor;
  signatures: VerifiedSignature[];
}

/** Resolves `ref` once and verifies that digest: pull exactly `reference` afterwards. */
export async function resolveVerified(
  client: RegistryClient,
  ref: Reference,
  policy: VerificationPolicy,
): Promise<ResolvedVerified> {
  const descriptor = await client.repository(ref).resolve(manifestRef(ref));
  const signatures = await verifyReference(client, ref, descriptor.digest, policy);
  return { reference: { ...ref, digest: descriptor.digest }, descriptor, signatures };
}
