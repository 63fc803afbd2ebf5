/**
 * Signing and verifying artifacts in cosign's formats, so cosign, Flux's
 * OCIRepository verification and Stowage understand each other's signatures.
 *
 *   const key = await readSigningKey('cosign.key', password);
 *   await signReference(client, parseReference('host/team/app:v1'), key);   // signs the digest
 *   const keys = await readTrustedKeys(['cosign.pub']);
 *   const { reference } = await resolveVerified(client, ref, { keys });     // throws unless verified
 *   // keyless: { trustedRoot: await readTrustedRoot(f), identity: { identity, issuer } }
 *   // … then pull `reference` (pinned to the verified digest)
 *
 * Layers: pure formats (go-json (src/util), payload, encrypted-key, keys, signature-manifest,
 * check) and the Sigstore bundle verifier (der, trusted-root, bundle, transparency-log,
 * fulcio, rfc3161, prehashed, bundle-verify) that the registry's pull check uses too;
 * key-files (I/O); sign and verify (over the client library).
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
export { readSigningKey, readTrustedKeys, readTrustedRoot, writeKeyPair, assertKeyPairAbsent } from './key-files.js';
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
export { signReference, attestReference, pushBundleReferrer, inTotoStatement, signStatement } from './sign.js';
export type { SignOptions, SignResult, AttestResult, PushedReferrer } from './sign.js';
export {
  findSignatures,
  findBundles,
  verifyReference,
  resolveVerified,
  describeSigner,
  checkBundleBytes,
} from './verify.js';
export type { FoundSignature, FoundBundle, VerifiedSignature, VerificationPolicy, ResolvedVerified } from './verify.js';
export { verifyBlob } from './verify-blob.js';
export { PREDICATE_TYPES, COSIGN_SIGN_PREDICATE_TYPE, predicateType, PredicateTypeError } from './predicate-types.js';
