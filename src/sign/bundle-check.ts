/**
 * What a verifier demands of a signature (keys and/or keyless rules, plus cosign's
 * claims), and the check of one fetched Sigstore bundle against it. Pure: the
 * client's `verify` (src/client/ops/verify.ts) and the registry's pull check
 * (src/registry/signature-policy.ts) both fetch the bytes their own way and ask here.
 */
import { BundleError, parseBundle } from './bundle.js';
import {
  BundleVerificationError,
  verifyBundle,
  type BundlePolicy,
  type BundleVerification,
  type Signer,
} from './bundle-verify.js';

/** What must hold: keys and/or keyless rules (bundle-verify.ts), plus cosign's claims. */
export interface VerificationPolicy extends BundlePolicy {
  /** Annotations a simple-signing payload must carry (`cosign verify -a k=v`). */
  annotations?: Record<string, string>;
  /** Only attestations with this in-toto predicate type count (`verify --type`). */
  predicateType?: string;
}

const hex = (digest: string) => digest.slice(digest.indexOf(':') + 1);

/** A bundle fetched for `digest`: verified, or why not. cosign reads v0.3 bundles only from registries. */
export function checkBundleBytes(
  bytes: Buffer,
  digest: string,
  policy: VerificationPolicy,
): BundleVerification | string {
  if (!digest.startsWith('sha256:')) return `${digest} is not a sha256 digest`;
  try {
    const bundle = parseBundle(bytes);
    if (bundle.version < 3) return `a v0.${bundle.version} bundle (registries carry v0.3)`;
    const result = verifyBundle(bundle, { digests: { sha256: hex(digest) } }, policy);
    if (policy.predicateType !== undefined && result.statement?.predicateType !== policy.predicateType) {
      return `its predicate type is ${result.statement?.predicateType ?? 'none (a message signature)'}, not ${policy.predicateType}`;
    }
    const required = Object.entries(policy.annotations ?? {});
    if (required.length > 0) {
      // cosign v3 signs `-a` annotations into the statement's subject.
      const annotations = statementAnnotations(result, digest);
      const missing = required.find(([k, v]) => annotations[k] !== v);
      if (missing)
        return `signed by ${describeSigner(result.signer)}, but without the annotation ${missing[0]}=${missing[1]}`;
    }
    return result;
  } catch (e) {
    if (e instanceof BundleError || e instanceof BundleVerificationError) return e.message;
    throw e;
  }
}

/** The annotations of the statement subject naming `digest`. */
export function statementAnnotations(result: BundleVerification, digest: string): Record<string, unknown> {
  const subject = result.statement?.subjects.find((x) => x.digest.sha256 === hex(digest));
  return subject?.annotations ?? {};
}

/** One line saying who signed: `key cosign.pub`, or `identity X (issuer Y)`. */
export function describeSigner(s: Signer): string {
  return s.kind === 'key' ? `key ${s.key}` : `certificate identity ${s.identity} (issuer ${s.issuer})`;
}
