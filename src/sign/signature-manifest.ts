/**
 * Where cosign keeps signatures, and the documents it writes there (pure).
 *
 * 1. The `sha256-<hex>.sig` tag in the signed manifest's repository: an image
 *    manifest (go-containerregistry's layout) with one layer per signature, each
 *    layer the payload blob annotated with its base64 signature. Signatures
 *    accumulate: signing again appends a layer and re-tags.
 *
 *      {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 *       "config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":N,"digest":"sha256:…"},
 *       "layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":N,
 *                  "digest":"sha256:<payload>","annotations":{"dev.cosignproject.cosign/signature":"MEU…"}}]}
 *
 *    The config is the image config go-containerregistry regenerates on every
 *    append: one `history` and one `diff_ids` entry per layer.
 *
 * 2. An OCI 1.1 referrer of the signed manifest (cosign's `--registry-referrers-mode
 *    oci-1-1` layout, one per signature): the same shape with `config.mediaType` and
 *    `artifactType` `application/vnd.dev.cosign.artifact.sig.v1+json`, a `subject`,
 *    pushed by digest. Verifiers that list referrers find it; the tag serves the rest.
 *
 * 3. cosign v3's Sigstore bundle referrer: an image manifest with the empty config, one
 *    layer (the bundle JSON), cosign's annotations, a `subject`, pushed by digest:
 *
 *      {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 *       "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136f…",
 *                 "artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},
 *       "layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":N,"digest":"sha256:…"}],
 *       "annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":…,
 *                      "org.opencontainers.image.created":…},
 *       "subject":{…},"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}
 */
import { MT } from '../core/media-types.js';
import type { Descriptor } from '../core/manifest.js';
import { goJsonBytes, goMap } from '../gocompat/json.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
/** artifactType (and config media type) of cosign signatures stored as referrers. */
export const SIGNATURE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
/** Layer types that only ever carry signatures or attestations (never runnable content). */
export const SIGNATURE_LAYER_TYPES: readonly string[] = [
  SIMPLE_SIGNING_MEDIA_TYPE,
  'application/vnd.dsse.envelope.v1+json',
];
const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';
/** artifactType (and layer media type) of cosign v3's Sigstore bundle referrers. */
export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
/** Largest bundle read: real ones are a few KiB (certificates, proofs, a statement). */
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;
/** The OCI empty descriptor's blob `{}`. */
export const EMPTY_CONFIG = {
  mediaType: MT.ociEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
} as const;
const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** cosign's tag for a manifest's signatures: `sha256-<hex>.sig`. */
export function signatureTag(digest: string): string {
  const i = digest.indexOf(':');
  return `${digest.slice(0, i)}-${digest.slice(i + 1)}.sig`;
}

/** One signature as a layer descriptor: the payload blob plus its annotations. */
export interface SignatureLayer {
  descriptor: Descriptor;
  /** base64 DER signature (the `dev.cosignproject.cosign/signature` annotation). */
  signature: string;
}

export function signatureLayerDescriptor(
  payload: { digest: string; size: number },
  signature: string,
  extra: Record<string, string> = {},
): Descriptor {
  return {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    digest: payload.digest,
    size: payload.size,
    annotations: { ...extra, [SIGNATURE_ANNOTATION]: signature },
  };
}

/** go-containerregistry's config for an image of these layers (`created` zero unless given). */
export function signatureConfig(layerDigests: readonly string[], created = ZERO_TIME): Buffer {
  return goJsonBytes({
    architecture: '',
    created,
    history: layerDigests.length > 0 ? layerDigests.map(() => ({ created: ZERO_TIME })) : undefined,
    os: '',
    rootfs: { type: 'layers', diff_ids: layerDigests.length > 0 ? layerDigests : null },
    config: {},
  });
}

function descriptorJson(d: Descriptor): Record<string, unknown> {
  // v1.Descriptor field order: mediaType, size, digest, data, urls, annotations, platform, artifactType.
  return {
    mediaType: d.mediaType,
    size: d.size,
    digest: d.digest,
    annotations: d.annotations && Object.keys(d.annotations).length > 0 ? goMap(d.annotations) : undefined,
  };
}

/** The `.sig` tag's image manifest. */
export function signatureManifest(config: Descriptor, layers: readonly Descriptor[]): Buffer {
  return goJsonBytes({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: descriptorJson(config),
    layers: layers.map(descriptorJson),
  });
}

/** A referrer of `subject` holding these signature layers (cosign's OCI 1.1 layout). */
export function signatureReferrerManifest(
  config: Descriptor,
  layers: readonly Descriptor[],
  subject: Descriptor,
): Buffer {
  return goJsonBytes({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: descriptorJson({ ...config, mediaType: SIGNATURE_ARTIFACT_TYPE }),
    layers: layers.map(descriptorJson),
    subject: descriptorJson({ mediaType: subject.mediaType, digest: subject.digest, size: subject.size }),
    artifactType: SIGNATURE_ARTIFACT_TYPE,
  });
}

/** cosign v3's referrer for a bundle (see 3. above), `created` an RFC 3339 UTC time. */
export function bundleReferrerManifest(
  bundle: Descriptor,
  subject: Descriptor,
  p: { content: 'dsse-envelope' | 'message-signature'; predicateType?: string; created: string },
): Buffer {
  return goJsonBytes({
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { ...descriptorJson(EMPTY_CONFIG), artifactType: BUNDLE_ARTIFACT_TYPE },
    layers: [descriptorJson({ mediaType: BUNDLE_ARTIFACT_TYPE, digest: bundle.digest, size: bundle.size })],
    annotations: goMap({
      [BUNDLE_CONTENT_ANNOTATION]: p.content,
      ...(p.predicateType ? { [BUNDLE_PREDICATE_ANNOTATION]: p.predicateType } : {}),
      'org.opencontainers.image.created': p.created,
    }),
    subject: descriptorJson({ mediaType: subject.mediaType, digest: subject.digest, size: subject.size }),
    artifactType: BUNDLE_ARTIFACT_TYPE,
  });
}

/** A bundle referrer as cosign reads it: exactly one layer of a Sigstore bundle type; else undefined. */
export function parseBundleReferrer(
  bytes: Uint8Array,
): { layer: Descriptor; subject?: string; predicateType?: string } | undefined {
  const parsed = parseSignatureManifest(bytes);
  if (!parsed || parsed.layers.length !== 1 || !parsed.layers[0]!.mediaType.startsWith(SIGSTORE_BUNDLE_PREFIX))
    return undefined;
  let annotations: Record<string, unknown> = {};
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as { annotations?: unknown };
    if (isObject(doc.annotations)) annotations = doc.annotations;
  } catch {
    /* parsed above */
  }
  const predicateType = annotations[BUNDLE_PREDICATE_ANNOTATION];
  return {
    layer: parsed.layers[0]!,
    ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
    ...(typeof predicateType === 'string' ? { predicateType } : {}),
  };
}

export interface ParsedSignatureManifest {
  config?: Descriptor;
  subject?: Descriptor;
  artifactType?: string;
  /** Every layer, as written. */
  layers: Descriptor[];
  /** The simple-signing layers that carry a signature annotation. */
  signatures: SignatureLayer[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function asDescriptor(v: unknown): Descriptor | undefined {
  if (
    !isObject(v) ||
    typeof v.mediaType !== 'string' ||
    typeof v.digest !== 'string' ||
    typeof v.size !== 'number' ||
    !Number.isSafeInteger(v.size) ||
    v.size < 0
  )
    return undefined;
  const d: Descriptor = { mediaType: v.mediaType, digest: v.digest, size: v.size };
  if (isObject(v.annotations) && Object.values(v.annotations).every((x) => typeof x === 'string'))
    d.annotations = v.annotations as Record<string, string>;
  if (typeof v.artifactType === 'string') d.artifactType = v.artifactType;
  return d;
}

/** Reads a signature manifest (tag or referrer); undefined when it is not an image manifest at all. */
export function parseSignatureManifest(bytes: Uint8Array): ParsedSignatureManifest | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(doc) || !Array.isArray(doc.layers)) return undefined;
  const layers = doc.layers.map(asDescriptor).filter((d): d is Descriptor => d !== undefined);
  const signatures: SignatureLayer[] = [];
  for (const d of layers) {
    const sig = d.annotations?.[SIGNATURE_ANNOTATION];
    if (d.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && typeof sig === 'string')
      signatures.push({ descriptor: d, signature: sig });
  }
  const config = asDescriptor(doc.config);
  const subject = asDescriptor(doc.subject);
  return {
    layers,
    signatures,
    ...(config ? { config } : {}),
    ...(subject ? { subject } : {}),
    ...(typeof doc.artifactType === 'string' ? { artifactType: doc.artifactType } : {}),
  };
}

/**
 * Is this manifest signature material only — cosign signatures and attestations,
 * Sigstore bundles, Notation signatures — and never runnable content? Such manifests
 * stay readable where signatures are required (verifiers must read them).
 */
export function isSignatureArtifact(bytes: Uint8Array, mediaType: string): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return false;
  }
  if (!isObject(doc)) return false;
  if (mediaType === MT.ociIndex || mediaType === MT.dockerList) {
    // A referrers list (the tag-schema fallback): every entry names its artifactType. What
    // it lists is judged on its own when fetched.
    const entries = Array.isArray(doc.manifests) ? doc.manifests : [];
    return (
      entries.length > 0 &&
      entries.every(
        (e) => isObject(e) && typeof e.artifactType === 'string' && e.artifactType !== '' && !isObject(e.platform),
      )
    );
  }
  const layers = Array.isArray(doc.layers) ? doc.layers.map(asDescriptor) : [];
  if (layers.length === 0 || layers.some((l) => l === undefined)) return false;
  const notary =
    doc.artifactType === NOTARY_SIGNATURE || (isObject(doc.config) && doc.config.mediaType === NOTARY_SIGNATURE);
  return layers.every(
    (l) =>
      SIGNATURE_LAYER_TYPES.includes(l!.mediaType) ||
      l!.mediaType.startsWith(SIGSTORE_BUNDLE_PREFIX) ||
      (notary && (l!.mediaType === 'application/jose+json' || l!.mediaType === 'application/cose')),
  );
}
