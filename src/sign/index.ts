/**
 * Signing and verifying artifacts in cosign's formats, so cosign, Flux's
 * OCIRepository verification and Stowage understand each other's signatures.
 *
 *   const key = await readSigningKey('cosign.key', password);
 *   await signReference(client, parseReference('host/team/app:v1'), key);   // signs the digest
 *   const keys = await readTrustedKeys(['cosign.pub']);
 *   const { reference } = await resolveVerified(client, ref, keys);         // throws unless verified
 *   // … then pull `reference` (pinned to the verified digest)
 *
 * Layers: pure formats (go-json (src/util), payload, encrypted-key, keys, signature-manifest,
 * check) that the registry's pull check uses too; key-files (I/O); sign and verify
 * (over the client library).
 */
export { buildPayload, parsePayload, dockerReference, PayloadError, SIMPLE_SIGNING_TYPE } from './payload.js';
export type { SimpleSigningPayload } from './payload.js';
export { encodePem, decodePem, encryptKeyDocument, decryptKeyDocument, KeyFormatError, SIGSTORE_KEY_LABEL, COSIGN_KEY_LABEL, DEFAULT_SCRYPT_N } from './encrypted-key.js';
export { generateKeyPair, openPrivateKey, parsePublicKey, encryptPrivateKey, publicKeyPem, publicKeyHint, signPayload, verifyPayload } from './keys.js';
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
} from './signature-manifest.js';
export { checkSignature, MAX_PAYLOAD_BYTES } from './check.js';
export type { SignatureCheck } from './check.js';
export { readSigningKey, readTrustedKeys, writeKeyPair, assertKeyPairAbsent } from './key-files.js';
export { signReference } from './sign.js';
export type { SignOptions, SignResult } from './sign.js';
export { findSignatures, verifyReference, resolveVerified } from './verify.js';
export type { FoundSignature, VerifiedSignature, VerifyOptions, ResolvedVerified } from './verify.js';
