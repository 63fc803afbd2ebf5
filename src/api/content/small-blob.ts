/**
 * A small blob of a repository read whole (an image or chart config, a signature
 * payload, a bundle): refused beyond `limit` before a byte is read, and digest-checked,
 * so what the UI shows or verifies is exactly what was pushed. A manifest addressed as
 * a blob (a config may name one) comes from the metadata store, already verified.
 */
import { digestBytes, parseDigest } from '../../core/digest.js';
import type { Registry } from '../../registry/registry.js';
import { ContentError } from './content-error.js';

export async function readSmallBlob(
  registry: Registry,
  repository: string,
  d: { digest: string; size?: number },
  limit: number,
): Promise<Buffer> {
  const blob = await registry.statBlob(repository, d.digest);
  if (blob.size > limit || (d.size ?? 0) > limit)
    throw new ContentError('TOO_LARGE', `${d.digest} is ${blob.size} bytes, more than the ${limit} shown`);
  if (blob.manifest) return blob.manifest.content;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of await registry.readBlob(repository, d.digest)) {
    size += (c as Buffer).length;
    if (size > limit) throw new ContentError('TOO_LARGE', `${d.digest} is larger than its descriptor says`);
    chunks.push(c as Buffer);
  }
  const bytes = Buffer.concat(chunks, size);
  if (digestBytes(bytes, parseDigest(d.digest).algorithm).value !== d.digest)
    throw new ContentError('BAD_REQUEST', `${d.digest} does not match its bytes`);
  return bytes;
}
