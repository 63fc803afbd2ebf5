/**
 * Every key the S3 blob store writes, drawn once. All keys sit under the
 * configured prefix (e.g. "registry-a/"), so several registries can share a bucket.
 *
 *   <prefix>blobs/<alg>/<first two hex>/<hex>   a committed blob: one object per digest,
 *                                               written only after its digest was verified
 *   <prefix>uploads/<id>/state                  an upload session's state (JSON, see upload-state.ts):
 *                                               size, multipart upload id and parts, the name of
 *                                               the tail object, the serialised sha256 state
 *   <prefix>uploads/<id>/tail-<size>            bytes received after the last part (< 5 MiB),
 *                                               named by the session size it ends at: a new tail
 *                                               never overwrites the one the state names
 *   <prefix>uploads/<id>/data                   the multipart upload's target, completed at
 *                                               commit, then copied to its blob key and deleted
 */
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class S3Layout {
  constructor(readonly prefix: string) {}

  blobKey(digest: string): string {
    const [alg, hex] = digest.split(':');
    if (!alg || !hex || !/^[a-z0-9]+$/.test(alg) || !/^[a-f0-9]+$/.test(hex))
      throw new Error(`invalid digest "${digest}"`);
    return `${this.prefix}blobs/${alg}/${hex.slice(0, 2)}/${hex}`;
  }

  get blobsPrefix(): string {
    return `${this.prefix}blobs/`;
  }

  /** The digest a `…/blobs/<alg>/<xx>/<hex>` key holds, if it is one. */
  digestOfBlobKey(key: string): string | undefined {
    if (!key.startsWith(this.blobsPrefix)) return undefined;
    const m = /^([a-z0-9]+)\/([a-f0-9]{2})\/([a-f0-9]+)$/.exec(key.slice(this.blobsPrefix.length));
    return m && m[3]!.startsWith(m[2]!) ? `${m[1]}:${m[3]}` : undefined;
  }

  get uploadsPrefix(): string {
    return `${this.prefix}uploads/`;
  }

  uploadPrefix(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`invalid upload id "${id.slice(0, 64)}"`);
    return `${this.uploadsPrefix}${id}/`;
  }

  stateKey(id: string): string {
    return `${this.uploadPrefix(id)}state`;
  }

  tailKey(id: string, endsAt: number): string {
    return `${this.uploadPrefix(id)}tail-${endsAt}`;
  }

  dataKey(id: string): string {
    return `${this.uploadPrefix(id)}data`;
  }

  /** The session id a `…/uploads/<id>/state` key belongs to, if it is one. */
  sessionOfStateKey(key: string): string | undefined {
    if (!key.startsWith(this.uploadsPrefix) || !key.endsWith('/state')) return undefined;
    const id = key.slice(this.uploadsPrefix.length, -'/state'.length);
    return UPLOAD_ID.test(id) ? id : undefined;
  }
}
