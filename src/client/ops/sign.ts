/**
 * `stowage sign` / `stowage attest`: signs the manifest a reference resolves to — the
 * digest, never the tag — and stores the signature where cosign (v2 and v3), Flux,
 * policy-controller and Kyverno look for it:
 *
 *   1. a Sigstore bundle (v0.3, key-based: DSSE over an in-toto statement whose subject
 *      is the digest — predicate `https://sigstore.dev/cosign/sign/v1` for signatures,
 *      the user's for attestations) as an OCI 1.1 referrer in cosign v3's layout, with
 *      the `sha256-<hex>` referrers tag kept up to date on registries without the API;
 *   2. for signatures, unless turned off: appended to the legacy `sha256-<hex>.sig`
 *      image (signatures accumulate; a signature by the same key over the same payload
 *      is not added twice, as cosign dedupes).
 */
import { MT } from '../../core/media-types.js';
import type { RegistryClient, Repository } from '../client.js';
import { LocalContent, type Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { pushGraph } from '../graph.js';
import { addToReferrersTag } from './artifact.js';
import { formatReference, manifestRef, type Reference } from '../reference.js';
import { keyBundleJson, pae } from '../../sign/bundle.js';
import { IN_TOTO_PAYLOAD_TYPE } from '../../sign/bundle-verify.js';
import { publicKeyHint, signPayload, verifyPayload, type SigningKey } from '../../sign/keys.js';
import { buildPayload, dockerReference } from '../../sign/payload.js';
import { checkBundleBytes, statementAnnotations } from '../../sign/bundle-check.js';
import { findBundles } from './verify.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../../sign/predicate-types.js';
import {
  BUNDLE_ARTIFACT_TYPE,
  EMPTY_CONFIG,
  MAX_BUNDLE_BYTES,
  SIMPLE_SIGNING_MEDIA_TYPE,
  bundleReferrerManifest,
  parseSignatureManifest,
  signatureConfig,
  signatureLayerDescriptor,
  signatureManifest,
  signatureTag,
  type ParsedSignatureManifest,
} from '../../sign/signature-manifest.js';

export interface SignOptions {
  /** `-a key=value`: signed annotations (the payload's `optional`, the statement subject's annotations). */
  annotations?: Record<string, string>;
  /** Store a Sigstore bundle referrer (default true). */
  bundle?: boolean;
  /** Also append to the legacy `.sig` image (default true). */
  legacy?: boolean;
  /** The referrer's `org.opencontainers.image.created` (default: now). */
  created?: Date;
}

export interface SignResult {
  /** registry/repository@digest that was signed. */
  reference: string;
  digest: string;
  mediaType: string;
  payloadDigest?: string;
  signature?: string;
  /** The legacy `sha256-<hex>.sig` tag and the manifest it now points at. */
  tag?: string;
  tagManifest?: string;
  /** Signatures the tag holds now. */
  signatures?: number;
  /** The Sigstore bundle referrer. */
  referrer?: PushedReferrer;
  /** The same key had already signed this payload: nothing new was added to the tag. */
  alreadySigned: boolean;
}

export interface PushedReferrer {
  digest: string;
  /** How verifiers find it: the referrers API, or the `sha256-<hex>` referrers tag. */
  via: 'api' | 'tag-schema';
  bundleDigest: string;
  bundleSize: number;
}

/** cosign stops appending at 1000 signatures per manifest. */
const MAX_SIGNATURES = 1000;

async function existingSignatures(
  repo: Repository,
  tag: string,
): Promise<{ parsed: ParsedSignatureManifest; created?: string } | undefined> {
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

/** The in-toto v1 statement a bundle signs: its subject is the digest. */
export function inTotoStatement(
  digest: string,
  predicateType: string,
  predicate: unknown,
  annotations?: Record<string, string>,
): Buffer {
  const [alg, hex] = [digest.slice(0, digest.indexOf(':')), digest.slice(digest.indexOf(':') + 1)];
  const subject = {
    digest: { [alg]: hex },
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  return Buffer.from(
    JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [subject], predicateType, predicate }),
  );
}

/** A key-based v0.3 bundle: `key`'s DSSE signature over the statement. */
export function signStatement(key: SigningKey, statement: Buffer): Buffer {
  const signature = Buffer.from(signPayload(key, pae(IN_TOTO_PAYLOAD_TYPE, statement)), 'base64');
  return keyBundleJson(publicKeyHint(key.publicKey), {
    payload: statement,
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    signature,
  });
}

/**
 * Pushes `bundle` as a referrer of `subject` in cosign v3's layout (empty config, one
 * bundle layer, cosign's annotations), by digest; on registries without the referrers
 * API the `sha256-<hex>` referrers tag lists it (as go-containerregistry keeps it).
 */
export async function pushBundleReferrer(
  repo: Repository,
  subject: Descriptor,
  bundle: Buffer,
  p: { predicateType?: string; content: 'dsse-envelope' | 'message-signature'; created?: Date },
): Promise<PushedReferrer> {
  const content = new LocalContent();
  content.addBytes(Buffer.from('{}'), EMPTY_CONFIG.mediaType);
  const layer = content.addBytes(bundle, BUNDLE_ARTIFACT_TYPE);
  const created = (p.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const manifest = content.addBytes(
    bundleReferrerManifest(layer, subject, {
      content: p.content,
      ...(p.predicateType ? { predicateType: p.predicateType } : {}),
      created,
    }),
    MT.ociManifest,
  );
  const pushed = await pushGraph(content, repo, manifest);
  // go-containerregistry's descriptor order, as its fallback index holds it.
  const entry = {
    mediaType: MT.ociManifest,
    size: manifest.size,
    digest: manifest.digest,
    artifactType: BUNDLE_ARTIFACT_TYPE,
  };
  const done = (via: PushedReferrer['via']): PushedReferrer => ({
    digest: manifest.digest,
    via,
    bundleDigest: layer.digest,
    bundleSize: layer.size,
  });
  if (pushed.subjectHandled) return done('api');
  // No OCI-Subject header: the registry may still index subjects (distribution 2.8 does not).
  const check = await repo.referrers(subject.digest, { artifactType: BUNDLE_ARTIFACT_TYPE });
  if (check.via === 'api' && check.manifests.some((m) => m.digest === manifest.digest)) return done('api');
  await addToReferrersTag(repo, subject.digest, entry);
  return done('tag-schema');
}

/** Signs what `ref` names with `key`; see the module comment for where it goes. */
export async function signReference(
  client: RegistryClient,
  ref: Reference,
  key: SigningKey,
  opts: SignOptions = {},
): Promise<SignResult> {
  const repo = client.repository(ref);
  const subject = await repo.resolve(manifestRef(ref), { push: true });
  let referrer: PushedReferrer | undefined;
  let bundled = false;
  if (opts.bundle !== false) referrer = await existingBundle(client, ref, subject.digest, key, opts.annotations ?? {});
  if (referrer) bundled = true;
  else if (opts.bundle !== false) {
    const bundle = signStatement(
      key,
      inTotoStatement(subject.digest, COSIGN_SIGN_PREDICATE_TYPE, {}, opts.annotations),
    );
    referrer = await pushBundleReferrer(repo, subject, bundle, {
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
      content: 'dsse-envelope',
      ...(opts.created ? { created: opts.created } : {}),
    });
  }
  const legacy =
    opts.legacy === false ? undefined : await appendLegacySignature(repo, ref, subject, key, opts.annotations);
  return {
    reference: formatReference({ registry: ref.registry, repository: ref.repository, digest: subject.digest }),
    digest: subject.digest,
    mediaType: subject.mediaType,
    ...(legacy
      ? {
          payloadDigest: legacy.payloadDigest,
          signature: legacy.signature,
          tag: legacy.tag,
          tagManifest: legacy.tagManifest,
          signatures: legacy.signatures,
        }
      : {}),
    ...(referrer ? { referrer } : {}),
    alreadySigned: (legacy?.alreadySigned ?? true) && (opts.bundle === false || bundled),
  };
}

/** A bundle referrer this key already signed for `digest` with exactly these annotations (signing again adds nothing). */
async function existingBundle(
  client: RegistryClient,
  ref: Reference,
  digest: string,
  key: SigningKey,
  annotations: Record<string, string>,
): Promise<PushedReferrer | undefined> {
  const repo = client.repository(ref);
  const trusted = { key: key.publicKey, source: key.source, hint: publicKeyHint(key.publicKey) };
  for (const b of await findBundles(client, ref, digest)) {
    if (b.predicateType !== COSIGN_SIGN_PREDICATE_TYPE || b.layer.size > MAX_BUNDLE_BYTES) continue;
    const result = checkBundleBytes(await repo.read(b.layer, MAX_BUNDLE_BYTES), digest, {
      keys: [trusted],
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    });
    if (typeof result === 'string') continue;
    const have = statementAnnotations(result, digest);
    if (
      Object.keys(have).length === Object.keys(annotations).length &&
      Object.entries(annotations).every(([k, v]) => have[k] === v)
    ) {
      return { digest: b.manifest, via: b.via, bundleDigest: b.layer.digest, bundleSize: b.layer.size };
    }
  }
  return undefined;
}

export interface AttestResult {
  reference: string;
  digest: string;
  predicateType: string;
  referrer: PushedReferrer;
}

/** `stowage attest`: a signed in-toto attestation of what `ref` names, as a bundle referrer. */
export async function attestReference(
  client: RegistryClient,
  ref: Reference,
  key: SigningKey,
  predicateType: string,
  predicate: unknown,
  opts: { created?: Date } = {},
): Promise<AttestResult> {
  const repo = client.repository(ref);
  const subject = await repo.resolve(manifestRef(ref), { push: true });
  const bundle = signStatement(key, inTotoStatement(subject.digest, predicateType, predicate));
  const referrer = await pushBundleReferrer(repo, subject, bundle, {
    predicateType,
    content: 'dsse-envelope',
    ...(opts.created ? { created: opts.created } : {}),
  });
  return {
    reference: formatReference({ registry: ref.registry, repository: ref.repository, digest: subject.digest }),
    digest: subject.digest,
    predicateType,
    referrer,
  };
}

/** Appends a simple-signing signature to the `.sig` image unless this key already signed this payload. */
async function appendLegacySignature(
  repo: Repository,
  ref: Reference,
  subject: Descriptor,
  key: SigningKey,
  annotations?: Record<string, string>,
) {
  const payload = buildPayload({
    dockerReference: dockerReference(ref),
    digest: subject.digest,
    ...(annotations ? { annotations } : {}),
  });
  const content = new LocalContent();
  const payloadDesc = content.addBytes(payload, SIMPLE_SIGNING_MEDIA_TYPE);
  const tag = signatureTag(subject.digest);
  const existing = await existingSignatures(repo, tag);
  const layers = existing?.parsed.layers ?? [];
  const duplicate = existing?.parsed.signatures.find(
    (s) => s.descriptor.digest === payloadDesc.digest && verifyPayload(key.publicKey, payload, s.signature),
  );
  let count = existing?.parsed.signatures.length ?? 0;
  if (duplicate)
    return {
      payloadDigest: payloadDesc.digest,
      signature: duplicate.signature,
      tag,
      tagManifest: (await repo.resolve(tag)).digest,
      signatures: count,
      alreadySigned: true,
    };
  if (layers.length >= MAX_SIGNATURES)
    throw clientError('INVALID_ARGUMENT', {
      message: `${repo.reference({ tag })} already holds ${layers.length} signatures, the most cosign allows`,
    });
  const signature = signPayload(key, payload);
  const all = [...layers, signatureLayerDescriptor(payloadDesc, signature)];
  const config = content.addBytes(
    signatureConfig(
      all.map((l) => l.digest),
      existing?.created,
    ),
    MT.ociConfig,
  );
  const manifest = content.addBytes(signatureManifest(config, all), MT.ociManifest);
  const tagManifest = (await pushGraph(content, repo, manifest, { tags: [tag] })).descriptor.digest;
  count++;
  return { payloadDigest: payloadDesc.digest, signature, tag, tagManifest, signatures: count, alreadySigned: false };
}
