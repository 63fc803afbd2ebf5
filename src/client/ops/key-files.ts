/**
 * Key and trust files: `cosign.key` (mode 0600) and `cosign.pub` (0644), read and
 * written as cosign does, and Sigstore `trusted_root.json` files, with failures as
 * ClientErrors naming the file.
 */
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { clientError } from '../errors.js';
import { KeyFormatError } from '../../sign/encrypted-key.js';
import {
  openPrivateKey,
  parsePublicKey,
  type GeneratedKeyPair,
  type SigningKey,
  type TrustedKey,
} from '../../sign/keys.js';
import { TrustedRootError, parseTrustedRoot, type TrustedRoot } from '../../sign/trusted-root.js';

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw clientError(
      'KEY_UNREADABLE',
      { path, detail: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message },
      { cause: e },
    );
  }
}

function keyError(path: string, e: unknown): unknown {
  if (e instanceof KeyFormatError)
    return e.kind === 'password'
      ? clientError('KEY_PASSWORD_WRONG', { path }, { cause: e })
      : clientError('KEY_INVALID', { path, detail: e.message }, { cause: e });
  return e;
}

/**
 * Opens a private key file. The password (or a function asking for it: COSIGN_PASSWORD
 * or a prompt, the caller's business) is asked for only once the file has been read.
 */
export async function readSigningKey(
  path: string,
  password: Uint8Array | (() => Promise<Uint8Array>),
): Promise<SigningKey> {
  const pem = await readText(path);
  try {
    return await openPrivateKey(pem, password, path);
  } catch (e) {
    throw keyError(path, e);
  }
}

/** Reads public key files (`--key` / `--verify-key`, given once or more). */
export async function readTrustedKeys(paths: readonly string[]): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const path of paths) {
    const pem = await readText(path);
    try {
      keys.push(parsePublicKey(pem, path));
    } catch (e) {
      throw keyError(path, e);
    }
  }
  return keys;
}

/** Reads a Sigstore trusted root (`--trusted-root`, `trusted_root.json`). */
export async function readTrustedRoot(path: string): Promise<TrustedRoot> {
  const text = await readText(path);
  try {
    return parseTrustedRoot(text);
  } catch (e) {
    if (e instanceof TrustedRootError)
      throw clientError('TRUSTED_ROOT_INVALID', { path, detail: e.message }, { cause: e });
    throw e;
  }
}

/** Writes through a temporary file, so a key file is either whole or absent. */
async function writeWhole(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.partial`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw clientError('OUTPUT_FAILED', { path, detail: (e as Error).message }, { cause: e });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** KEY_EXISTS when `<prefix>.key` or `<prefix>.pub` exists (checked before asking for a password). */
export async function assertKeyPairAbsent(prefix: string): Promise<void> {
  for (const p of [`${prefix}.key`, `${prefix}.pub`]) if (await exists(p)) throw clientError('KEY_EXISTS', { path: p });
}

/** Writes `<prefix>.key` (0600) and `<prefix>.pub` (0644); refuses to overwrite unless `force`. */
export async function writeKeyPair(
  prefix: string,
  pair: GeneratedKeyPair,
  opts: { force?: boolean } = {},
): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = `${prefix}.key`;
  const publicKey = `${prefix}.pub`;
  if (!opts.force) await assertKeyPairAbsent(prefix);
  await writeWhole(privateKey, pair.privatePem, 0o600);
  await writeWhole(publicKey, pair.publicPem, 0o644);
  return { privateKey, publicKey };
}
