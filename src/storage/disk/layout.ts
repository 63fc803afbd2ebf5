import { join } from 'node:path';

/**
 * Where the disk blob store keeps its files, drawn in one place:
 *
 *   <root>/
 *     blobs/<algorithm>/<first two hex>/<hex>   committed, content-addressed blobs
 *     uploads/<session id>                      bytes received by an upload session
 *
 * A blob path exists only after its bytes were fsynced and renamed into place,
 * so a crash leaves either nothing or the whole blob; stray session files are
 * swept by upload expiry.
 */
export class DiskLayout {
  constructor(readonly root: string) {}

  get blobsDir(): string {
    return join(this.root, 'blobs');
  }

  get uploadsDir(): string {
    return join(this.root, 'uploads');
  }

  /** `digest` must already be validated (parseDigest): it becomes a path. */
  blobPath(digest: string): string {
    const i = digest.indexOf(':');
    const alg = digest.slice(0, i);
    const hex = digest.slice(i + 1);
    return join(this.blobsDir, alg, hex.slice(0, 2), hex);
  }

  /** Session ids are UUIDs we made; anything else never reaches a path. */
  uploadPath(id: string): string {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error(`invalid upload id ${id}`);
    return join(this.uploadsDir, id);
  }
}
