/**
 * Checking one signature (pure), as `cosign verify --key` does for each layer:
 * the signature must verify over the payload bytes with a trusted key, then the
 * payload's claims must hold — the simple-signing type, `docker-manifest-digest`
 * equal to the digest being verified, and any required annotations. Used by the
 * client (`stowage verify`, `--verify-key`) and by the registry's pull check.
 */
import type { TrustedKey } from './keys.js';
import { verifyPayload } from './keys.js';
import { PayloadError, parsePayload, type SimpleSigningPayload } from './payload.js';

export type SignatureCheck =
  { ok: true; key: TrustedKey; payload: SimpleSigningPayload } | { ok: false; reason: string };

/** Largest payload read: real ones are a few hundred bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export function checkSignature(
  payload: Uint8Array,
  signature: string,
  keys: readonly TrustedKey[],
  digest: string,
  required: Readonly<Record<string, string>> = {},
): SignatureCheck {
  const key = keys.find((k) => verifyPayload(k.key, payload, signature));
  if (!key)
    return {
      ok: false,
      reason:
        keys.length === 1
          ? `the signature does not verify with ${keys[0]!.source}`
          : `the signature verifies with none of ${keys.map((k) => k.source).join(', ')}`,
    };
  let parsed: SimpleSigningPayload;
  try {
    parsed = parsePayload(payload);
  } catch (e) {
    if (e instanceof PayloadError) return { ok: false, reason: `signed by ${key.source}, but ${e.message}` };
    throw e;
  }
  if (parsed.digest !== digest)
    return { ok: false, reason: `signed by ${key.source}, but for ${parsed.digest}, not ${digest}` };
  for (const [k, v] of Object.entries(required)) {
    if (parsed.annotations?.[k] !== v)
      return { ok: false, reason: `signed by ${key.source}, but without the annotation ${k}=${v}` };
  }
  return { ok: true, key, payload: parsed };
}
