/**
 * Cosign's simple-signing payload (sigstore `pkg/signature/payload`), the bytes a
 * signature covers (pure):
 *
 *   {"critical":{"identity":{"docker-reference":"registry/repo"},
 *                "image":{"docker-manifest-digest":"sha256:…"},
 *                "type":"cosign container image signature"},
 *    "optional":null}
 *
 * Compact, in that field order, `optional` null without annotations (a map with
 * sorted keys with them), Go's string escaping. Verifiers trust only what the
 * signature covers: the digest claim binds the signature to one manifest.
 */
import { isDigestLike } from '../core/digest.js';
import { goJsonBytes, goMap } from '../gocompat/json.js';

export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  /** The repository the signer named (go-containerregistry form); informational. */
  dockerReference: string;
  /** The signed manifest's digest. */
  digest: string;
  /** `-a key=value` annotations (`optional`), or null. */
  annotations: Record<string, unknown> | null;
}

/** The repository as go-containerregistry names it: `registry/repo`, Docker Hub as `index.docker.io`. */
export function dockerReference(ref: { registry: string; repository: string }): string {
  return `${ref.registry === 'docker.io' ? 'index.docker.io' : ref.registry}/${ref.repository}`;
}

/** The payload bytes cosign would sign for this repository and digest. */
export function buildPayload(p: {
  dockerReference: string;
  digest: string;
  annotations?: Record<string, string> | null;
}): Buffer {
  const annotations = p.annotations && Object.keys(p.annotations).length > 0 ? goMap(p.annotations) : null;
  return goJsonBytes({
    critical: {
      identity: { 'docker-reference': p.dockerReference },
      image: { 'docker-manifest-digest': p.digest },
      type: SIMPLE_SIGNING_TYPE,
    },
    optional: annotations,
  });
}

export class PayloadError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Exactly these keys, none differing only in case (Go's decoder matches names case-insensitively). */
function checkKeys(
  obj: Record<string, unknown>,
  required: readonly string[],
  optional: readonly string[],
  where: string,
): void {
  const known = [...required, ...optional];
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      const twin = known.find((n) => n.toLowerCase() === k.toLowerCase());
      throw new PayloadError(
        twin ? `${where} has "${k}", ambiguous with "${twin}"` : `${where} has an unexpected field "${k}"`,
      );
    }
  }
  for (const k of required) if (!(k in obj)) throw new PayloadError(`${where} lacks "${k}"`);
}

/** Parses and checks a payload; what the signature covers, once it verifies. */
export function parsePayload(bytes: Uint8Array): SimpleSigningPayload {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    throw new PayloadError('the payload is not JSON');
  }
  if (!isObject(doc)) throw new PayloadError('the payload is not a JSON object');
  const critical = doc.critical;
  if (!isObject(critical)) throw new PayloadError('the payload has no "critical" object');
  // Top level: cosign writes critical and optional; other tools add nothing either.
  for (const k of Object.keys(doc)) {
    if (k !== 'critical' && k !== 'optional' && (k.toLowerCase() === 'critical' || k.toLowerCase() === 'optional'))
      throw new PayloadError(`the payload has "${k}", ambiguous with "${k.toLowerCase()}"`);
  }
  checkKeys(critical, ['identity', 'image', 'type'], [], '"critical"');
  if (critical.type !== SIMPLE_SIGNING_TYPE)
    throw new PayloadError(`the payload's type is ${JSON.stringify(critical.type)}, not "${SIMPLE_SIGNING_TYPE}"`);
  const image = critical.image;
  const identity = critical.identity;
  if (!isObject(image)) throw new PayloadError('"critical.image" is not an object');
  if (!isObject(identity)) throw new PayloadError('"critical.identity" is not an object');
  checkKeys(image, ['docker-manifest-digest'], [], '"critical.image"');
  checkKeys(identity, ['docker-reference'], [], '"critical.identity"');
  const digest = image['docker-manifest-digest'];
  const ref = identity['docker-reference'];
  if (typeof digest !== 'string' || !isDigestLike(digest))
    throw new PayloadError(`the payload's docker-manifest-digest ${JSON.stringify(digest)} is not a digest`);
  if (typeof ref !== 'string') throw new PayloadError("the payload's docker-reference is not a string");
  const optional = doc.optional;
  if (optional !== undefined && optional !== null && !isObject(optional))
    throw new PayloadError('"optional" is neither an object nor null');
  return { dockerReference: ref, digest, annotations: optional ?? null };
}
