/**
 * `stowage verify-blob FILE --bundle B`: a file checked against a Sigstore bundle, as
 * `cosign verify-blob --bundle` does. The file is streamed once, hashed with SHA-256,
 * -384 and -512 (whichever the bundle names); a message signature is then checked over
 * the digest (prehashed.ts), so the file is never held in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { clientError } from '../errors.js';
import { BundleError, parseBundle } from '../../sign/bundle.js';
import {
  BundleVerificationError,
  verifyBundle,
  type BundlePolicy,
  type BundleVerification,
} from '../../sign/bundle-verify.js';
import { MAX_BUNDLE_BYTES } from '../../sign/signature-manifest.js';

async function readBundleFile(path: string): Promise<Buffer> {
  try {
    const s = await stat(path);
    if (s.size > MAX_BUNDLE_BYTES)
      throw clientError('INVALID_ARGUMENT', { message: `${path} is ${s.size} bytes, larger than a bundle can be` });
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code)
      throw clientError('INVALID_ARGUMENT', { message: `cannot read ${path}: ${(e as Error).message}` });
    throw e;
  }
}

async function digestsOf(path: string): Promise<Record<string, string>> {
  const hashes = ['sha256', 'sha384', 'sha512'].map((a) => [a, createHash(a)] as const);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
      for (const [, h] of hashes) h.update(chunk as Buffer);
  } catch (e) {
    throw clientError('INVALID_ARGUMENT', { message: `cannot read ${path}: ${(e as Error).message}` });
  }
  return Object.fromEntries(hashes.map(([a, h]) => [a, h.digest('hex')]));
}

export async function verifyBlob(file: string, bundleFile: string, policy: BundlePolicy): Promise<BundleVerification> {
  const json = await readBundleFile(bundleFile);
  const digests = await digestsOf(file);
  try {
    return verifyBundle(parseBundle(json), { digests }, policy);
  } catch (e) {
    if (e instanceof BundleError || e instanceof BundleVerificationError)
      throw clientError('SIGNATURE_INVALID', {
        reference: file,
        digest: `sha256:${digests.sha256}`,
        reasons: [e.message],
      });
    throw e;
  }
}
