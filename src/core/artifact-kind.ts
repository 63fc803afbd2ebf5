/**
 * What a manifest is, for people browsing the registry (pure): decided from its
 * media type, its artifactType, its config's media type and its layers' media
 * types and annotations — never from the repository name or the tag.
 *
 *   index          an OCI index or Docker manifest list (multi-arch image)
 *   image          a container image (OCI or Docker config, filesystem layers)
 *   helm-chart     Helm's config type (application/vnd.cncf.helm.config.v1+json)
 *   flux-artifact  Flux's config type (application/vnd.cncf.flux.config.v1+json)
 *   opa-bundle     OPA's bundle layout (`{}` image config + one tar+gzip layer), or the
 *                  openpolicyagent media types of conftest/ORAS
 *   signature      cosign (legacy `.sig` layers, v3 bundles of the sign predicate), Notary
 *   sbom           SPDX / CycloneDX / Syft documents, or attestations of an SBOM predicate
 *   attestation    in-toto statements and DSSE envelopes of any other predicate
 *   artifact       anything else
 */
import { MT, bareMediaType, isIndexType } from './media-types.js';

export const ARTIFACT_KINDS = [
  'image',
  'index',
  'helm-chart',
  'flux-artifact',
  'opa-bundle',
  'signature',
  'sbom',
  'attestation',
  'artifact',
] as const;

export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export function isArtifactKind(s: string): s is ArtifactKind {
  return (ARTIFACT_KINDS as readonly string[]).includes(s);
}

/** Kinds that describe another manifest (they point at it with `subject` or a cosign tag). */
export function isReferrerKind(kind: ArtifactKind): boolean {
  return kind === 'signature' || kind === 'sbom' || kind === 'attestation';
}

const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART_LAYERS = ['application/vnd.cncf.helm.chart.content.v1.tar+gzip'];
const FLUX_CONFIG = 'application/vnd.cncf.flux.config.v1+json';
const OPA_PREFIXES = ['application/vnd.cncf.openpolicyagent.', 'application/vnd.openpolicyagent.'];
const OPA_BUNDLE_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** sha256 of `{}`: the config OPA's own OCI push writes. */
const EMPTY_OBJECT_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

const SIGNATURE_TYPES = [
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.dev.cosign.simplesigning.v1+json',
  'application/vnd.cncf.notary.signature',
];
const SBOM_TYPES = [
  'application/spdx+json',
  'text/spdx',
  'text/spdx+xml',
  'application/vnd.cyclonedx',
  'application/vnd.cyclonedx+json',
  'application/vnd.cyclonedx+xml',
  'application/vnd.syft+json',
  'application/vnd.dev.cosign.artifact.sbom.v1+json',
];
const ATTESTATION_TYPES = [
  'application/vnd.in-toto+json',
  'application/vnd.dsse.envelope.v1+json',
  'application/vnd.dev.cosign.artifact.att.v1+json',
];
const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';
const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
/** Where an attestation names its predicate: cosign v3 bundles, BuildKit/cosign layers. */
const PREDICATE_ANNOTATIONS = ['dev.sigstore.bundle.predicateType', 'in-toto.io/predicate-type', 'predicateType'];
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const IMAGE_CONFIGS: readonly string[] = [MT.ociConfig, MT.dockerConfig];

interface DescriptorLike {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  annotations?: unknown;
  artifactType?: unknown;
  platform?: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringOf(v: unknown): string {
  return typeof v === 'string' ? bareMediaType(v) : '';
}

function annotationsOf(v: unknown): Record<string, unknown> {
  return isObject(v) ? v : {};
}

function predicateOf(...sources: Record<string, unknown>[]): string | undefined {
  for (const a of sources)
    for (const key of PREDICATE_ANNOTATIONS) if (typeof a[key] === 'string') return a[key] as string;
  return undefined;
}

function isSbomPredicate(predicate: string): boolean {
  return /spdx|cyclonedx|syft/i.test(predicate);
}

/** An attestation's kind from its predicate type: SBOMs are their own kind. */
function attestationKind(predicate: string | undefined): ArtifactKind {
  return predicate !== undefined && isSbomPredicate(predicate) ? 'sbom' : 'attestation';
}

/** The kind a media type names on its own (artifactType, config or layer type), if any. */
function kindOfType(type: string, annotations: Record<string, unknown>): ArtifactKind | undefined {
  if (type === '') return undefined;
  if (type === HELM_CONFIG) return 'helm-chart';
  if (type === FLUX_CONFIG) return 'flux-artifact';
  if (OPA_PREFIXES.some((p) => type.startsWith(p))) return 'opa-bundle';
  if (SIGNATURE_TYPES.includes(type)) return 'signature';
  if (SBOM_TYPES.includes(type)) return 'sbom';
  if (ATTESTATION_TYPES.includes(type)) return attestationKind(predicateOf(annotations));
  if (type.startsWith(SIGSTORE_BUNDLE_PREFIX)) {
    const predicate = predicateOf(annotations);
    return predicate === undefined || predicate === COSIGN_SIGN_PREDICATE ? 'signature' : attestationKind(predicate);
  }
  return undefined;
}

/**
 * The kind of a manifest, from its bytes as pushed and its media type (as the
 * registry resolved it). Bytes that are not a JSON object are an `artifact`.
 */
export function artifactKind(content: Uint8Array | string, mediaType: string): ArtifactKind {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof content === 'string' ? content : new TextDecoder().decode(content));
  } catch {
    return 'artifact';
  }
  if (!isObject(doc)) return 'artifact';
  return kindOfDocument(doc, bareMediaType(mediaType));
}

function kindOfDocument(doc: Record<string, unknown>, mediaType: string): ArtifactKind {
  const annotations = annotationsOf(doc.annotations);
  const explicit = kindOfType(stringOf(doc.artifactType), annotations);
  if (isIndexType(mediaType)) return explicit ?? 'index';
  const config: DescriptorLike = isObject(doc.config) ? doc.config : {};
  const configType = stringOf(config.mediaType);
  const layers = (Array.isArray(doc.layers) ? doc.layers : []).filter(isObject) as DescriptorLike[];
  if (explicit) return explicit;
  const byConfig = kindOfType(configType, annotations);
  if (byConfig) return byConfig;

  // The config says little (an image config, the empty one, or an unknown type): the layers tell.
  for (const layer of layers) {
    const la = annotationsOf(layer.annotations);
    if (typeof la[SIGNATURE_ANNOTATION] === 'string') return 'signature';
    const type = stringOf(layer.mediaType);
    const byLayer = kindOfType(type, { ...annotations, ...la });
    if (byLayer) return byLayer;
    if (HELM_CHART_LAYERS.includes(type)) return 'helm-chart';
  }
  if (
    configType === MT.ociConfig &&
    config.digest === EMPTY_OBJECT_DIGEST &&
    layers.length === 1 &&
    stringOf(layers[0]!.mediaType) === OPA_BUNDLE_LAYER
  )
    return 'opa-bundle';
  if (IMAGE_CONFIGS.includes(configType)) return 'image';
  return 'artifact';
}

/** `os/arch[/variant]` of each platform an index lists (BuildKit's `unknown/unknown` attestation entries left out). */
export function indexPlatforms(content: Uint8Array | string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof content === 'string' ? content : new TextDecoder().decode(content));
  } catch {
    return [];
  }
  if (!isObject(doc) || !Array.isArray(doc.manifests)) return [];
  const out: string[] = [];
  for (const m of doc.manifests as unknown[]) {
    const p = isObject(m) ? formatPlatform(m.platform) : undefined;
    if (p !== undefined && !out.includes(p)) out.push(p);
  }
  return out;
}

/** An OCI platform object as `os/arch[/variant]`; undefined when absent or `unknown`. */
export function formatPlatform(platform: unknown): string | undefined {
  if (!isObject(platform)) return undefined;
  const { os, architecture, variant } = platform;
  if (typeof os !== 'string' || typeof architecture !== 'string' || os === 'unknown' || architecture === 'unknown')
    return undefined;
  return `${os}/${architecture}${typeof variant === 'string' && variant !== '' ? `/${variant}` : ''}`;
}
