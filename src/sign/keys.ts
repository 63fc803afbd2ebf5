/**
 * Cosign key pairs (pure apart from randomness): generating them, opening the
 * encrypted private key, reading public keys, and signing / verifying payloads.
 *
 * As cosign does it:
 *   - `generate-key-pair` makes ECDSA P-256; the private key is PKCS#8 inside the
 *     encrypted PEM (a SEC1 `EC PRIVATE KEY` inside is refused, as cosign's
 *     `x509.ParsePKCS8PrivateKey` refuses it); the public key is a PKIX `PUBLIC KEY` PEM.
 *   - a signature is ECDSA over the payload's hash, ASN.1 DER, standard base64. The
 *     hash follows the key (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512, RSA
 *     PKCS#1 v1.5 SHA-256); verification also accepts SHA-256 for the larger curves,
 *     cosign's `--signature-digest-algorithm` default.
 *   - Ed25519 keys are refused: cosign signs with Ed25519ph, which node:crypto lacks.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  COSIGN_KEY_LABEL,
  KeyFormatError,
  SIGSTORE_KEY_LABEL,
  decodePem,
  decryptKeyDocument,
  encodePem,
  encryptKeyDocument,
  strictBase64,
} from './encrypted-key.js';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** What the key was read from (a file name), for messages. */
  source: string;
}

export interface TrustedKey {
  key: KeyObject;
  source: string;
  /** base64 SHA-256 of the PKIX DER: sigstore's public-key hint, to tell keys apart. */
  hint: string;
}

export interface GeneratedKeyPair {
  /** `cosign.key`: the encrypted PEM. */
  privatePem: string;
  /** `cosign.pub`: the PKIX PEM. */
  publicPem: string;
}

function describeKey(k: KeyObject): string {
  const d = k.asymmetricKeyDetails;
  return k.asymmetricKeyType === 'ec'
    ? `ECDSA ${d?.namedCurve ?? '?'}`
    : k.asymmetricKeyType === 'rsa'
      ? `RSA ${d?.modulusLength ?? '?'}`
      : String(k.asymmetricKeyType);
}

const CURVES: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

/** The hashes a signature by this key may use: the key's own first. */
function hashesFor(k: KeyObject): string[] {
  if (k.asymmetricKeyType === 'rsa') {
    if ((k.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new KeyFormatError('unsupported', `${describeKey(k)} is too small (cosign requires at least 2048 bits)`);
    return ['sha256'];
  }
  if (k.asymmetricKeyType === 'ec') {
    const curve = k.asymmetricKeyDetails?.namedCurve ?? '';
    const h = CURVES[curve];
    if (!h)
      throw new KeyFormatError('unsupported', `ECDSA curve ${curve} is not one cosign uses (P-256, P-384, P-521)`);
    return h === 'sha256' ? [h] : [h, 'sha256'];
  }
  throw new KeyFormatError(
    'unsupported',
    `${describeKey(k)} keys are not supported (use ECDSA P-256, as \`stowage key generate\` and \`cosign generate-key-pair\` make)`,
  );
}

export function publicKeyPem(k: KeyObject): string {
  return encodePem('PUBLIC KEY', k.export({ type: 'spki', format: 'der' }));
}

export function publicKeyHint(k: KeyObject): string {
  return createHash('sha256')
    .update(k.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

/** A new P-256 key pair in cosign's file formats, the private key encrypted under `password`. */
export async function generateKeyPair(password: Uint8Array, opts: { N?: number } = {}): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const doc = await encryptKeyDocument(pkcs8, password, opts);
  return { privatePem: encodePem(SIGSTORE_KEY_LABEL, doc), publicPem: publicKeyPem(publicKey) };
}

/** Re-encrypts a private key (`cosign.key` format) under another password. */
export async function encryptPrivateKey(
  k: KeyObject,
  password: Uint8Array,
  opts: { N?: number; label?: string } = {},
): Promise<string> {
  const doc = await encryptKeyDocument(k.export({ type: 'pkcs8', format: 'der' }), password, opts);
  return encodePem(opts.label ?? SIGSTORE_KEY_LABEL, doc);
}

/**
 * Opens a `cosign.key` (either label). KeyFormatError('password') for a wrong password.
 * A password function is called only once the PEM block is known to be an encrypted key.
 */
export async function openPrivateKey(
  pem: string,
  password: Uint8Array | (() => Promise<Uint8Array>),
  source: string,
): Promise<SigningKey> {
  const block = decodePem(pem);
  if (block.label !== SIGSTORE_KEY_LABEL && block.label !== COSIGN_KEY_LABEL) {
    throw new KeyFormatError(
      'unsupported',
      `unsupported pem type: ${block.label} (expected ${SIGSTORE_KEY_LABEL}: import plain keys with \`cosign import-key-pair\`)`,
    );
  }
  const der = await decryptKeyDocument(block.bytes, typeof password === 'function' ? await password() : password);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    const sec1 = der[0] === 0x30 && der.includes(Buffer.from([0x02, 0x01, 0x01, 0x04]));
    throw new KeyFormatError(
      'format',
      sec1
        ? 'parsing private key: the decrypted key is a SEC1 EC PRIVATE KEY, not PKCS#8 (cosign refuses it too: x509: failed to parse private key)'
        : 'parsing private key: the decrypted key is not PKCS#8',
    );
  }
  hashesFor(privateKey);
  return { privateKey, publicKey: createPublicKey(privateKey), source };
}

/** Reads a PKIX `PUBLIC KEY` PEM (`cosign.pub`). */
export function parsePublicKey(pem: string, source: string): TrustedKey {
  const block = decodePem(pem);
  if (block.label !== 'PUBLIC KEY')
    throw new KeyFormatError('unsupported', `expected a PUBLIC KEY PEM block, found ${block.label}`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: block.bytes, format: 'der', type: 'spki' });
  } catch (e) {
    throw new KeyFormatError('format', `the public key does not parse: ${(e as Error).message}`);
  }
  hashesFor(key);
  return { key, source, hint: publicKeyHint(key) };
}

/** Signs payload bytes: base64 of the DER signature, as in `dev.cosignproject.cosign/signature`. */
export function signPayload(k: SigningKey, payload: Uint8Array): string {
  const [hash] = hashesFor(k.privateKey);
  return sign(hash!, payload, { key: k.privateKey, dsaEncoding: 'der' }).toString('base64');
}

/** Does `b64sig` (standard base64 of a DER signature) sign `payload` under `key`? */
export function verifyPayload(key: KeyObject, payload: Uint8Array, b64sig: string): boolean {
  const sig = strictBase64(b64sig);
  if (!sig || sig.length === 0 || sig.length > 1024) return false;
  for (const hash of hashesFor(key)) {
    try {
      if (verify(hash, payload, { key, dsaEncoding: 'der' }, sig)) return true;
    } catch {
      return false; // malformed DER
    }
  }
  return false;
}
