/**
 * Cosign's password-protected private key (pure): go-securesystemslib's `encrypted`
 * package inside a PEM block.
 *
 *   -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----   (older cosign: ENCRYPTED COSIGN PRIVATE KEY)
 *   base64 of {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64 32 bytes>"},
 *              "cipher":{"name":"nacl/secretbox","nonce":"<b64 24 bytes>"},
 *              "ciphertext":"<b64 secretbox(PKCS#8 DER)>"}
 *   -----END ENCRYPTED SIGSTORE PRIVATE KEY-----
 *
 * key = scrypt(password, salt, N, r=8, p=1, 32 bytes); box = XSalsa20-Poly1305
 * (NaCl secretbox: 16-byte tag, then ciphertext). Decryption accepts only the three
 * parameter sets go-securesystemslib knows (N = 2^15, 2^16, 2^17 with r=8, p=1): a
 * tampered file cannot make us spend unbounded memory.
 */
import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import nacl from 'tweetnacl';
import { goJsonBytes } from '../gocompat/json.js';

export const SIGSTORE_KEY_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
export const COSIGN_KEY_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** go-securesystemslib's Legacy, Standard (the default) and OWASP parameters. */
export const SCRYPT_PARAMS: readonly ScryptParams[] = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
];
export const DEFAULT_SCRYPT_N = 65536;

export type KeyErrorKind = 'format' | 'password' | 'unsupported';

export class KeyFormatError extends Error {
  constructor(
    readonly kind: KeyErrorKind,
    message: string,
  ) {
    super(message);
  }
}

// ---- PEM (encoding/pem) -----------------------------------------------------

/** `pem.EncodeToMemory`: BEGIN line, base64 in 64-character lines, END line, each ending in "\n". */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.map((l) => `${l}\n`).join('')}-----END ${label}-----\n`;
}

const STRICT_B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 with padding, nothing else (Go's `base64.StdEncoding`); undefined otherwise. */
export function strictBase64(text: string): Buffer | undefined {
  if (!STRICT_B64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** The first PEM block of a text (`pem.Decode`): its label and bytes. */
export function decodePem(text: string): { label: string; bytes: Buffer } {
  const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new KeyFormatError('format', 'no PEM block found');
  const body = m[2]!;
  if (/^[\w-]+:/m.test(body))
    throw new KeyFormatError('format', `the ${m[1]} PEM block has headers, which cosign keys never have`);
  const bytes = strictBase64(body.replace(/\s+/g, ''));
  if (!bytes) throw new KeyFormatError('format', `the ${m[1]} PEM block is not valid base64`);
  return { label: m[1]!, bytes };
}

// ---- scrypt + secretbox ---------------------------------------------------------

function scrypt(password: Uint8Array, salt: Uint8Array, p: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 128 * p.N * p.r + 16 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Encrypts `plaintext` (a PKCS#8 DER key) under `password`; returns the JSON document
 * (the PEM block's bytes). `salt` and `nonce` are random unless given (tests).
 */
export async function encryptKeyDocument(
  plaintext: Uint8Array,
  password: Uint8Array,
  opts: { N?: number; salt?: Uint8Array; nonce?: Uint8Array } = {},
): Promise<Buffer> {
  const params = SCRYPT_PARAMS.find((p) => p.N === (opts.N ?? DEFAULT_SCRYPT_N));
  if (!params) throw new KeyFormatError('unsupported', `unsupported scrypt N ${opts.N}`);
  const salt = opts.salt ?? randomBytes(32);
  const nonce = opts.nonce ?? randomBytes(24);
  if (salt.length !== 32 || nonce.length !== 24)
    throw new KeyFormatError('format', 'the salt must be 32 bytes and the nonce 24');
  const key = await scrypt(password, salt, params);
  const box = nacl.secretbox(new Uint8Array(plaintext), new Uint8Array(nonce), new Uint8Array(key));
  // Go field order: kdf{name, params{N,r,p}, salt}, cipher{name, nonce}, ciphertext; []byte is base64.
  return goJsonBytes({
    kdf: {
      name: 'scrypt',
      params: { N: params.N, r: params.r, p: params.p },
      salt: Buffer.from(salt).toString('base64'),
    },
    cipher: { name: 'nacl/secretbox', nonce: Buffer.from(nonce).toString('base64') },
    ciphertext: Buffer.from(box).toString('base64'),
  });
}

interface KeyDocument {
  kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
  cipher?: { name?: unknown; nonce?: unknown };
  ciphertext?: unknown;
}

/** Decrypts the JSON document of an encrypted key; KeyFormatError('password') when the password is wrong. */
export async function decryptKeyDocument(json: Uint8Array, password: Uint8Array): Promise<Buffer> {
  let doc: KeyDocument;
  try {
    doc = JSON.parse(Buffer.from(json).toString('utf8')) as KeyDocument;
  } catch {
    throw new KeyFormatError('format', 'the encrypted key is not JSON');
  }
  if (typeof doc !== 'object' || doc === null)
    throw new KeyFormatError('format', 'the encrypted key is not a JSON object');
  if (doc.kdf?.name !== 'scrypt')
    throw new KeyFormatError('unsupported', `unknown kdf name ${JSON.stringify(doc.kdf?.name)}`);
  if (doc.cipher?.name !== 'nacl/secretbox')
    throw new KeyFormatError('unsupported', `unknown cipher name ${JSON.stringify(doc.cipher?.name)}`);
  const given = doc.kdf.params ?? {};
  const params = SCRYPT_PARAMS.find((p) => p.N === given.N && p.r === given.r && p.p === given.p);
  if (!params) throw new KeyFormatError('unsupported', `unsupported scrypt parameters ${JSON.stringify(given)}`);
  const salt = typeof doc.kdf.salt === 'string' ? strictBase64(doc.kdf.salt) : undefined;
  const nonce = typeof doc.cipher.nonce === 'string' ? strictBase64(doc.cipher.nonce) : undefined;
  const box = typeof doc.ciphertext === 'string' ? strictBase64(doc.ciphertext) : undefined;
  if (!salt || !nonce || !box) throw new KeyFormatError('format', 'salt, nonce or ciphertext is missing or not base64');
  if (nonce.length !== 24) throw new KeyFormatError('format', 'incorrect nonce size');
  const key = await scrypt(password, salt, params);
  const opened = nacl.secretbox.open(new Uint8Array(box), new Uint8Array(nonce), new Uint8Array(key));
  if (!opened) throw new KeyFormatError('password', 'decryption failed: wrong password (or a damaged key)');
  return Buffer.from(opened);
}
