/**
 * The referrers of a manifest as the UI lists them: the OCI referrers (manifests whose
 * subject it is) and cosign's legacy `sha256-<hex>.sig|.att|.sbom` tags, each with its
 * kind and, for signatures, whether it verifies against the keys (or keyless rule)
 * configured for the repository — checked with src/sign's verifiers over the stored
 * payloads and bundles, no network.
 */
import path from 'node:path';
import { formatRFC3339, isRFC3339 } from '../../gocompat/time.js';
import { compileGlob } from '../../core/repository-glob.js';
import { artifactKind, type ArtifactKind } from '../../core/artifact-kind.js';
import { MAX_PAYLOAD_BYTES } from '../../sign/check.js';
import { checkBundleBytes } from '../../sign/bundle-check.js';
import type { BundlePolicy, Signer } from '../../sign/bundle-verify.js';
import { checkLegacyLayer } from '../../sign/legacy-layer.js';
import {
  BUNDLE_ARTIFACT_TYPE,
  MAX_BUNDLE_BYTES,
  parseBundleReferrer,
  parseSignatureManifest,
} from '../../sign/signature-manifest.js';
import type { Registry } from '../../registry/registry.js';
import type { SignatureRule } from '../../registry/signature-policy.js';
import type { TrustedKey } from '../../sign/keys.js';
import type { ManifestRecord } from '../../storage/metadata-store.js';
import { ContentError } from './content-error.js';
import { readSmallBlob } from './small-blob.js';

export interface Verification {
  status: 'verified' | 'failed' | 'unverified' | 'no-keys';
  signer: string | null;
  message: string;
}

export interface ReferrerItem {
  digest: string;
  kind: ArtifactKind;
  artifactType: string | null;
  mediaType: string;
  size: number;
  created: string | null;
  annotations: Record<string, string>;
  /** The cosign tag it was found under, when found by tag. */
  legacyTag: string | null;
  verification: Verification | null;
}

const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';
const CREATED = 'org.opencontainers.image.created';
/** cosign's tags beside a manifest, and what each holds when its layers do not say. */
const LEGACY_SUFFIXES = { sig: 'signature', att: 'attestation', sbom: 'sbom' } as const;
/** Referrers listed at most, and signatures among them checked at most. */
const MAX_REFERRERS = 1000;
const MAX_VERIFIED = 100;

/** The legacy cosign tag for `digest` with a suffix: `sha256-<hex>.<suffix>`. */
export function legacyTag(digest: string, suffix: keyof typeof LEGACY_SUFFIXES): string {
  return `${digest.replace(':', '-')}.${suffix}`;
}

/** What signatures are checked against: `require_signatures` (first matching glob) and `ui.signature_keys` (every repository). */
export interface SignatureKeys {
  rules: readonly SignatureRule[];
  keys: readonly TrustedKey[];
}

export const NO_SIGNATURE_KEYS: SignatureKeys = { rules: [], keys: [] };

/** What a signature in `repository` must verify with; undefined when nothing is configured for it. */
export function policyFor(trusted: SignatureKeys, repository: string): BundlePolicy | undefined {
  const rule = trusted.rules.find((r) => compileGlob(r.repositories).test(repository));
  const keys = [...(rule?.keys ?? []), ...trusted.keys];
  if (keys.length === 0 && !rule?.keyless) return undefined;
  return {
    keys,
    ...(rule?.keyless ? { trustedRoot: rule.keyless.trustedRoot, identity: rule.keyless.identity } : {}),
  };
}

/** Who signed, without the server's file paths. */
function signerText(s: Signer): string {
  return s.kind === 'key' ? `key ${path.basename(s.key)}` : `${s.identity} (issuer ${s.issuer})`;
}

/** Verifies one signature manifest (a `.sig` tag, a cosign referrer or a Sigstore bundle) for `subject`. */
async function verify(
  registry: Registry,
  repository: string,
  manifest: ManifestRecord,
  subject: string,
  policy: BundlePolicy | undefined,
): Promise<Verification> {
  if (!policy)
    return { status: 'no-keys', signer: null, message: `no signature keys are configured for ${repository}` };
  const reasons: string[] = [];
  let checked = false;
  const bundle = manifest.artifactType === BUNDLE_ARTIFACT_TYPE ? parseBundleReferrer(manifest.content) : undefined;
  if (bundle) {
    try {
      const bytes = await readSmallBlob(registry, repository, bundle.layer, MAX_BUNDLE_BYTES);
      checked = true;
      const r = checkBundleBytes(bytes, subject, policy);
      if (typeof r !== 'string')
        return { status: 'verified', signer: signerText(r.signer), message: 'the bundle verifies' };
      reasons.push(r);
    } catch (e) {
      if (!(e instanceof ContentError)) throw e;
      reasons.push(e.message);
    }
  } else {
    const parsed = parseSignatureManifest(manifest.content);
    for (const s of parsed?.signatures ?? []) {
      let payload: Buffer;
      try {
        payload = await readSmallBlob(registry, repository, s.descriptor, MAX_PAYLOAD_BYTES);
      } catch (e) {
        if (!(e instanceof ContentError)) throw e;
        reasons.push(e.message);
        continue;
      }
      checked = true;
      const r = checkLegacyLayer(s.descriptor, payload, subject, policy);
      if (typeof r !== 'string')
        return { status: 'verified', signer: signerText(r.signer), message: 'the signature verifies' };
      reasons.push(r);
    }
    if (!parsed?.signatures.length) reasons.push('no cosign signature in this manifest');
  }
  return { status: checked ? 'failed' : 'unverified', signer: null, message: reasons.join('; ') };
}

function createdOf(annotations: Readonly<Record<string, string>>): string | null {
  const c = annotations[CREATED];
  return c && isRFC3339(c) ? formatRFC3339(new Date(c)) : null;
}

/** The referrers of `subject` in `repository`, OCI referrers first, then the legacy tags. */
export async function manifestReferrers(
  registry: Registry,
  repository: string,
  subject: string,
  trusted: SignatureKeys,
): Promise<ReferrerItem[]> {
  const policy = policyFor(trusted, repository);
  const found: { record: ManifestRecord; tag: string | null; kind: ArtifactKind }[] = [];
  for (const r of (await registry.referrers(repository, subject)).slice(0, MAX_REFERRERS)) {
    const record = await registry.meta.getManifest(repository, r.digest);
    if (record) found.push({ record, tag: null, kind: artifactKind(record.content, record.mediaType) });
  }
  for (const [suffix, kind] of Object.entries(LEGACY_SUFFIXES) as [keyof typeof LEGACY_SUFFIXES, ArtifactKind][]) {
    const tag = legacyTag(subject, suffix);
    const digest = await registry.meta.resolveTag(repository, tag);
    if (!digest || found.some((f) => f.record.digest === digest)) continue;
    const record = await registry.meta.getManifest(repository, digest);
    if (!record) continue;
    const own = artifactKind(record.content, record.mediaType);
    found.push({ record, tag, kind: own === 'image' || own === 'artifact' ? kind : own });
  }
  const items: ReferrerItem[] = [];
  let verified = 0;
  for (const { record, tag, kind } of found) {
    const annotations = record.annotations ?? {};
    // An attestation is signed too (a DSSE envelope): who signed it is shown as for a signature.
    const signed = kind === 'signature' || kind === 'attestation';
    const signature = signed && record.artifactType !== NOTARY_SIGNATURE;
    items.push({
      digest: record.digest,
      kind,
      artifactType: record.artifactType ?? null,
      mediaType: record.mediaType,
      size: record.size,
      created: createdOf(annotations),
      annotations,
      legacyTag: tag,
      verification: !signed
        ? null
        : !signature
          ? { status: 'unverified', signer: null, message: 'Notation signatures are not verified by Stowage' }
          : verified++ < MAX_VERIFIED
            ? await verify(registry, repository, record, subject, policy)
            : {
                status: 'unverified',
                signer: null,
                message: `only the first ${MAX_VERIFIED} signatures are checked`,
              },
    });
  }
  return items;
}
