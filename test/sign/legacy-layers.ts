/**
 * cosign v2's legacy layers, built as cosign builds them, for tests: a `.sig` or `.att`
 * image (go-containerregistry's layout: image config regenerated per layer, one layer
 * per signature or attestation) and the DSSE envelope of an attestation
 * (go-securesystemslib's field order, `keyid` empty).
 */
import { LocalContent, pushGraph, type Repository } from '../../src/client/index.js';
import { MT } from '../../src/core/media-types.js';
import { pae, signatureConfig, signatureManifest } from '../../src/sign/index.js';

export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO = 'application/vnd.in-toto+json';

export interface LegacyLayer {
  mediaType: string;
  blob: Buffer;
  annotations: Record<string, string>;
}

/** Pushes a `.sig`/`.att` image of these layers under `tag`. */
export async function pushLegacyImage(repo: Repository, tag: string, layers: readonly LegacyLayer[]): Promise<string> {
  const content = new LocalContent();
  const descs = layers.map((l) => content.addBytes(l.blob, l.mediaType, { annotations: l.annotations }));
  const config = content.addBytes(signatureConfig(descs.map((d) => d.digest)), MT.ociConfig);
  const manifest = content.addBytes(signatureManifest(config, descs), MT.ociManifest);
  return (await pushGraph(content, repo, manifest, { tags: [tag] })).descriptor.digest;
}

/** An in-toto statement about `digest` (cosign v2 writes v0.1 statements). */
export function statement(digest: string, predicateType: string, predicate: unknown = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      predicateType,
      subject: [{ name: 'registry/repo', digest: { sha256: digest.slice(7) } }],
      predicate,
    }),
  );
}

/** A DSSE envelope over `payload`, signed by `sign` (base64 DER over the PAE). */
export function envelope(payload: Buffer, sign: (pae: Buffer) => string): Buffer {
  return Buffer.from(
    JSON.stringify({
      payloadType: IN_TOTO,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: sign(pae(IN_TOTO, payload)) }],
    }),
  );
}

/** An `.att` layer as `cosign attest` (v2) writes it: the envelope, its predicate type, an empty signature annotation. */
export function attestationLayer(env: Buffer, predicateType: string, extra: Record<string, string> = {}): LegacyLayer {
  return {
    mediaType: DSSE_MEDIA_TYPE,
    blob: env,
    annotations: { ...extra, predicateType, 'dev.cosignproject.cosign/signature': '' },
  };
}
