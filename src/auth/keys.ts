/**
 * Key material from disk: Stowage's token-signing key (created on first start
 * when absent) and the public keys of external token services (PEM public
 * keys or certificates, or a JWKS file).
 */
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { algorithmFor, jwkThumbprint, libtrustKeyId, type SigningKey, type TrustedKey } from './jwt.js';

/** Loads the PEM private key at `path`, creating an EC P-256 key (mode 0600) if there is none. */
export async function loadOrCreateSigningKey(path: string): Promise<{ key: SigningKey; created: boolean }> {
  let pem: string;
  let created = false;
  try {
    pem = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await mkdir(dirname(path), { recursive: true });
    // wx: never overwrite a key another process just wrote.
    await writeFile(path, pem, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      pem = await readFile(path, 'utf8');
    });
    created = true;
  }
  return { key: signingKeyFromPem(pem), created };
}

/** A signing key from PEM text (a file's content, or STOWAGE_AUTH_SIGNING_KEY). */
export function signingKeyFromPem(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    // Never the PEM itself in the message.
    throw new Error(`the token signing key is not a usable PEM private key: ${(e as Error).message}`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, alg: algorithmFor(privateKey), kid: libtrustKeyId(publicKey) };
}

/** A key trusted under both ids clients and servers derive: libtrust and RFC 7638. */
export async function trustedKey(key: KeyObject, extraKids: string[] = [], alg?: string): Promise<TrustedKey> {
  return { key, kids: [...extraKids, libtrustKeyId(key), await jwkThumbprint(key)], ...(alg ? { alg } : {}) };
}

/** Every public key in a PEM file: public keys and certificates (a bundle may hold several). */
export async function readPemPublicKeys(path: string): Promise<TrustedKey[]> {
  const text = await readFile(path, 'utf8');
  const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
  const keys: TrustedKey[] = [];
  for (const block of blocks) {
    if (block.startsWith('-----BEGIN CERTIFICATE-----'))
      keys.push(await trustedKey(new X509Certificate(block).publicKey));
    else if (/^-----BEGIN (?:RSA |EC )?PUBLIC KEY-----/.test(block))
      keys.push(await trustedKey(createPublicKey(block)));
  }
  if (keys.length === 0) throw new Error(`${path} holds no PEM public key or certificate`);
  return keys;
}

/** Keys of a JWKS document (`{"keys":[…]}`); private members are ignored. */
export async function readJwks(path: string): Promise<TrustedKey[]> {
  const doc = JSON.parse(await readFile(path, 'utf8')) as { keys?: unknown };
  if (!Array.isArray(doc.keys)) throw new Error(`${path} is not a JWKS document ({"keys":[…]})`);
  const keys: TrustedKey[] = [];
  for (const jwk of doc.keys as Record<string, unknown>[]) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
    const key = createPublicKey({ key: pub as never, format: 'jwk' });
    keys.push(
      await trustedKey(
        key,
        typeof jwk.kid === 'string' ? [jwk.kid] : [],
        typeof jwk.alg === 'string' ? jwk.alg : undefined,
      ),
    );
  }
  if (keys.length === 0) throw new Error(`${path} holds no signing keys`);
  return keys;
}
