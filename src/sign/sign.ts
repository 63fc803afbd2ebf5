/**
 * `stowage sign`: signs the manifest a reference resolves to — the digest, never
 * the tag — and stores the signature where cosign and Flux look for it:
 *
 *   1. appended to the `sha256-<hex>.sig` image (signatures accumulate; a signature by
 *      the same key over the same payload is not added twice, as cosign dedupes);
 *   2. as an OCI 1.1 referrer of the signed manifest (one per signature), with the
 *      `sha256-<hex>` referrers tag kept up to date on registries without the API.
 */
import { MT } from '../core/media-types.js';
import type { RegistryClient, Repository } from '../client/client.js';
import { LocalContent, type Descriptor } from '../client/content.js';
import { clientError, isClientError } from '../client/errors.js';
import { pushGraph } from '../client/graph.js';
import { addToReferrersTag } from '../client/ops/artifact.js';
import { formatReference, manifestRef, type Reference } from '../client/reference.js';
import { signPayload, verifyPayload, type SigningKey } from './keys.js';
import { buildPayload, dockerReference } from './payload.js';
import {
  SIGNATURE_ARTIFACT_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  parseSignatureManifest,
  signatureConfig,
  signatureLayerDescriptor,
  signatureManifest,
  signatureReferrerManifest,
  signatureTag,
  type ParsedSignatureManifest,
} from './signature-manifest.js';

export interface SignOptions {
  /** `-a key=value`: signed annotations (the payload's `optional`). */
  annotations?: Record<string, string>;
  /** Also store the signature as an OCI 1.1 referrer (default true). */
  referrer?: boolean;
}

export interface SignResult {
  /** registry/repository@digest that was signed. */
  reference: string;
  digest: string;
  mediaType: string;
  payloadDigest: string;
  signature: string;
  /** The `sha256-<hex>.sig` tag and the manifest it now points at. */
  tag: string;
  tagManifest: string;
  /** Signatures the tag holds now. */
  signatures: number;
  referrer?: { digest: string; via: 'api' | 'tag-schema' };
  /** The same key had already signed this payload: nothing new was added to the tag. */
  alreadySigned: boolean;
}

/** cosign stops appending at 1000 signatures per manifest. */
const MAX_SIGNATURES = 1000;

async function existingSignatures(repo: Repository, tag: string): Promise<{ parsed: ParsedSignatureManifest; created?: string } | undefined> {
  let bytes: Buffer;
  try {
    bytes = (await repo.fetchManifest(tag)).bytes;
  } catch (e) {
    if (isClientError(e, 'MANIFEST_NOT_FOUND')) return undefined;
    throw e;
  }
  const parsed = parseSignatureManifest(bytes);
  if (!parsed) return undefined; // not an image manifest: replaced, as cosign would
  let created: string | undefined;
  if (parsed.config && parsed.config.size <= 64 * 1024) {
    try {
      const doc = JSON.parse((await repo.read(parsed.config)).toString('utf8')) as { created?: unknown };
      if (typeof doc.created === 'string') created = doc.created;
    } catch {
      /* keep the zero time */
    }
  }
  return { parsed, ...(created ? { created } : {}) };
}

/** Signs what `ref` names with `key`; see the module comment for where it goes. */
export async function signReference(client: RegistryClient, ref: Reference, key: SigningKey, opts: SignOptions = {}): Promise<SignResult> {
  const repo = client.repository(ref);
  const subject = await repo.resolve(manifestRef(ref), { push: true });
  const payload = buildPayload({ dockerReference: dockerReference(ref), digest: subject.digest, ...(opts.annotations ? { annotations: opts.annotations } : {}) });
  const content = new LocalContent();
  const payloadDesc = content.addBytes(payload, SIMPLE_SIGNING_MEDIA_TYPE);
  const tag = signatureTag(subject.digest);

  const existing = await existingSignatures(repo, tag);
  const layers = existing?.parsed.layers ?? [];
  const duplicate = existing?.parsed.signatures.find((s) => s.descriptor.digest === payloadDesc.digest && verifyPayload(key.publicKey, payload, s.signature));
  let signature: string;
  let layer: Descriptor;
  let tagManifest: string;
  let count = existing?.parsed.signatures.length ?? 0;
  if (duplicate) {
    signature = duplicate.signature;
    layer = duplicate.descriptor;
    tagManifest = (await repo.resolve(tag)).digest;
  } else {
    if (layers.length >= MAX_SIGNATURES) throw clientError('INVALID_ARGUMENT', { message: `${repo.reference({ tag })} already holds ${layers.length} signatures, the most cosign allows` });
    signature = signPayload(key, payload);
    layer = signatureLayerDescriptor(payloadDesc, signature);
    const all = [...layers, layer];
    const config = content.addBytes(signatureConfig(all.map((l) => l.digest), existing?.created), MT.ociConfig);
    const manifest = content.addBytes(signatureManifest(config, all), MT.ociManifest);
    tagManifest = (await pushGraph(content, repo, manifest, { tags: [tag] })).descriptor.digest;
    count++;
  }

  let referrer: SignResult['referrer'];
  if (opts.referrer !== false) referrer = await ensureReferrer(repo, content, subject, layer);
  return {
    reference: formatReference({ registry: ref.registry, repository: ref.repository, digest: subject.digest }),
    digest: subject.digest,
    mediaType: subject.mediaType,
    payloadDigest: payloadDesc.digest,
    signature,
    tag,
    tagManifest,
    signatures: count,
    ...(referrer ? { referrer } : {}),
    alreadySigned: duplicate !== undefined,
  };
}

/** Pushes the one-signature referrer of `subject` unless one with this signature exists. */
async function ensureReferrer(repo: Repository, content: LocalContent, subject: Descriptor, layer: Descriptor): Promise<{ digest: string; via: 'api' | 'tag-schema' }> {
  const config = content.addBytes(signatureConfig([layer.digest]), SIGNATURE_ARTIFACT_TYPE);
  const bytes = signatureReferrerManifest(config, [layer], subject);
  const manifest = content.addBytes(bytes, MT.ociManifest);
  // The same signature gives the same bytes: already listed means already stored.
  const listed = await repo.referrers(subject.digest, { artifactType: SIGNATURE_ARTIFACT_TYPE });
  if (listed.manifests.some((m) => m.digest === manifest.digest)) return { digest: manifest.digest, via: listed.via };
  const pushed = await pushGraph(content, repo, manifest);
  if (pushed.subjectHandled) return { digest: manifest.digest, via: 'api' };
  // No OCI-Subject header: the registry may still index subjects (distribution 2.8 does not).
  const check = await repo.referrers(subject.digest, { artifactType: SIGNATURE_ARTIFACT_TYPE });
  if (check.via === 'api' && check.manifests.some((m) => m.digest === manifest.digest)) return { digest: manifest.digest, via: 'api' };
  await addToReferrersTag(repo, subject.digest, { mediaType: MT.ociManifest, digest: manifest.digest, size: manifest.size, artifactType: SIGNATURE_ARTIFACT_TYPE });
  return { digest: manifest.digest, via: 'tag-schema' };
}
