/**
 * cosign's formats and their verification, so cosign, Flux's OCIRepository
 * verification and Stowage understand each other's signatures. No I/O and nothing
 * of the client or the registry: both use it. Pure formats (payload, encrypted-key,
 * keys, signature-manifest, check) and the Sigstore bundle verifier (der,
 * trusted-root, bundle, transparency-log, fulcio, rfc3161, prehashed, bundle-verify,
 * bundle-check).
 *
 * Signing and verifying on a registry are client operations (src/client/ops/sign.ts,
 * verify.ts, key-files.ts, verify-blob.ts); the registry's pull check is
 * src/registry/signature-policy.ts.
 */
export { buildPayload, parsePayload, dockerReference, PayloadError, SIMPLE_SIGNING_TYPE } from './payload.js';
export type { SimpleSigningPayload } from './payload.js';
export {
  encodePem,
  decodePem,
  encryptKeyDocument,
  decryptKeyDocument,
  KeyFormatError,
  SIGSTORE_KEY_LABEL,
  COSIGN_KEY_LABEL,
  DEFAULT_SCRYPT_N,
} from './encrypted-key.js';
export {
  generateKeyPair,
  openPrivateKey,
  parsePublicKey,
  encryptPrivateKey,
  publicKeyPem,
  publicKeyHint,
  signPayload,
  verifyPayload,
} from './keys.js';
export type { SigningKey, TrustedKey, GeneratedKeyPair } from './keys.js';
export {
  SIMPLE_SIGNING_MEDIA_TYPE,
  SIGNATURE_ANNOTATION,
  SIGNATURE_ARTIFACT_TYPE,
  signatureTag,
  signatureConfig,
  signatureManifest,
  signatureReferrerManifest,
  signatureLayerDescriptor,
  parseSignatureManifest,
  isSignatureArtifact,
  BUNDLE_ARTIFACT_TYPE,
  bundleReferrerManifest,
  parseBundleReferrer,
} from './signature-manifest.js';
export { checkSignature, MAX_PAYLOAD_BYTES } from './check.js';
export type { SignatureCheck } from './check.js';
export { parseBundle, pae, BundleError, BUNDLE_V03_MEDIA_TYPE } from './bundle.js';
export type { Bundle } from './bundle.js';
export { verifyBundle, artifactFromBytes, BundleVerificationError, IN_TOTO_PAYLOAD_TYPE } from './bundle-verify.js';
export type {
  Artifact,
  BundlePolicy,
  BundleVerification,
  IdentityPolicy,
  Signer,
  InTotoStatement,
} from './bundle-verify.js';
export { parseTrustedRoot, TrustedRootError } from './trusted-root.js';
export type { TrustedRoot } from './trusted-root.js';
export { checkBundleBytes, statementAnnotations, describeSigner } from './bundle-check.js';
export type { VerificationPolicy } from './bundle-check.js';
export { PREDICATE_TYPES, COSIGN_SIGN_PREDICATE_TYPE, predicateType, PredicateTypeError } from './predicate-types.js';
