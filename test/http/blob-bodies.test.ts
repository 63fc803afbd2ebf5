/**
 * The HTTP layer serves whatever body a blob store describes (BlobBody): a
 * stream, or a redirect to where the client fetches the bytes itself (as an
 * object store's presigned URL). Local files are blobs-sendfile.test.ts. And HEAD
 * is answered from the metadata store alone, never asking the blob store.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseRangeHeader } from '../../src/core/ranges.js';
import { createRegistryServer } from '../../src/http/server.js';
import { Registry } from '../../src/registry/registry.js';
import type { BlobBody, BlobStore, BodyRequest } from '../../src/storage/blob-store.js';
import { MemoryBlobStore } from '../../src/storage/memory/memory-blob-store.js';
import { MemoryMetadataStore } from '../../src/storage/memory/memory-metadata-store.js';
import { SqliteMetadataStore } from '../../src/storage/sqlite/sqlite-metadata-store.js';
import { pushBlob, pushImage, req, sha256 } from './helpers.js';

/** A memory blob store that redirects reads to `origin` (standing in for an object store) and counts calls. */
class RedirectingStore extends MemoryBlobStore {
  readonly calls: string[] = [];
  origin = '';

  override async stat(digest: string) {
    this.calls.push('stat');
    return super.stat(digest);
  }
  override async read(digest: string, range?: Parameters<BlobStore['read']>[1]) {
    this.calls.push('read');
    return super.read(digest, range);
  }
  override async body(digest: string, _request?: BodyRequest): Promise<BlobBody> {
    this.calls.push('body');
    await super.stat(digest).then((s) => assert.ok(s, 'body of a missing blob'));
    return { kind: 'redirect', url: `${this.origin}/bytes/${digest}?signature=x` };
  }
}

/** A metadata store of its own in a temporary directory, removed by `done`. */
function tempMetadata(): { meta: SqliteMetadataStore; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-bodies-'));
  return {
    meta: new SqliteMetadataStore(join(dir, 'stowage.db'), { fsync: false }),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('blob bodies a driver describes', () => {
  const blobs = new RedirectingStore();
  const { meta, done } = tempMetadata();
  const registry = new Registry(blobs, meta);
  const { server } = createRegistryServer({ registry, log: pino({ level: 'silent' }) });
  // The "object store": serves committed bytes by digest, honouring Range, as S3 does.
  const origin = createServer((r, res) => {
    void (async () => {
      const digest = decodeURIComponent(new URL(r.url!, 'http://x').pathname.slice('/bytes/'.length));
      const chunks: Buffer[] = [];
      for await (const c of await blobs.read(digest)) chunks.push(c as Buffer);
      const bytes = Buffer.concat(chunks);
      const range = parseRangeHeader(r.headers.range, bytes.length);
      res.writeHead(range ? 206 : 200, { 'Content-Length': range ? range.end - range.start + 1 : bytes.length });
      res.end(range ? bytes.subarray(range.start, range.end + 1) : bytes);
    })();
  });
  let url: string;
  const bytes = randomBytes(100_000);
  let digest: string;

  before(async () => {
    url = await listen(server);
    blobs.origin = await listen(origin);
    digest = (await pushBlob(url, 'app', bytes)).digest;
  });
  after(async () => {
    server.close();
    origin.close();
    await registry.close();
    done();
  });

  it('GET of a redirect body is 307 to the URL, and a client following it gets the bytes (and ranges)', async () => {
    const res = await req(url, 'GET', `/v2/app/blobs/${digest}`);
    assert.equal(res.status, 307);
    assert.equal(res.headers.location, `${blobs.origin}/bytes/${digest}?signature=x`);
    assert.equal(res.headers['docker-content-digest'], digest);
    assert.equal(res.body.length, 0);
    const followed = await fetch(`${url}/v2/app/blobs/${digest}`);
    assert.equal(followed.status, 200);
    assert.equal(sha256(Buffer.from(await followed.arrayBuffer())), digest);
    const ranged = await fetch(`${url}/v2/app/blobs/${digest}`, { headers: { Range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(10, 20)));
  });

  it('HEAD is answered from the metadata store: the blob store is not asked', async () => {
    blobs.calls.length = 0;
    const res = await req(url, 'HEAD', `/v2/app/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(bytes.length));
    assert.equal(res.headers['docker-content-digest'], digest);
    const part = await req(url, 'HEAD', `/v2/app/blobs/${digest}`, { headers: { Range: 'bytes=0-9' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 0-9/${bytes.length}`);
    assert.deepEqual(blobs.calls, []);
    // A GET asks for the body once, and nothing else.
    await req(url, 'GET', `/v2/app/blobs/${digest}`);
    assert.deepEqual(blobs.calls, ['body']);
  });

  it('a manifest read through the blobs endpoint is served from the metadata store, not redirected', async () => {
    const image = await pushImage(url, 'app', 'v1');
    const res = await req(url, 'GET', `/v2/app/blobs/${image.digest}`);
    assert.equal(res.status, 200);
    assert.equal(sha256(res.body), image.digest);
  });
});

/** The in-memory metadata store, counting the lookups a blob GET makes. */
class CountingMetadataStore extends MemoryMetadataStore {
  readonly lookups: string[] = [];

  override async blobLink(repository: string, digest: string) {
    this.lookups.push('blobLink');
    return super.blobLink(repository, digest);
  }
  override async getManifest(repository: string, digest: string) {
    this.lookups.push('getManifest');
    return super.getManifest(repository, digest);
  }
}

describe('a whole registry over the in-memory stores', () => {
  const meta = new CountingMetadataStore();
  const registry = new Registry(new MemoryBlobStore(), meta);
  const { server } = createRegistryServer({ registry, log: pino({ level: 'silent' }) });
  let url: string;
  before(async () => {
    url = await listen(server);
  });
  after(async () => {
    server.close();
    await registry.close();
  });

  it('a blob GET looks the repository’s link up once; a manifest read as a blob, once each', async () => {
    const { digest } = await pushBlob(url, 'mem/lookups', randomBytes(1000));
    const image = await pushImage(url, 'mem/lookups', 'v1');
    meta.lookups.length = 0;
    const blob = await req(url, 'GET', `/v2/mem/lookups/blobs/${digest}`, { headers: { Range: 'bytes=10-19' } });
    assert.equal(blob.status, 206);
    assert.deepEqual(meta.lookups, ['blobLink']);
    meta.lookups.length = 0;
    const manifest = await req(url, 'GET', `/v2/mem/lookups/blobs/${image.digest}`);
    assert.equal(manifest.status, 200);
    assert.equal(sha256(manifest.body), image.digest);
    assert.deepEqual(meta.lookups, ['blobLink', 'getManifest']);
  });

  it('pushes and pulls blobs (streamed bodies, ranges) and images', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const { digest } = await pushBlob(url, 'mem/app', bytes);
    const whole = await req(url, 'GET', `/v2/mem/app/blobs/${digest}`);
    assert.equal(whole.status, 200);
    assert.equal(sha256(whole.body), digest);
    const part = await req(url, 'GET', `/v2/mem/app/blobs/${digest}`, { headers: { Range: 'bytes=1048570-1048580' } });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(bytes.subarray(1048570, 1048581)));
    const image = await pushImage(url, 'mem/app', 'v1');
    const manifest = await req(url, 'GET', '/v2/mem/app/manifests/v1', { headers: { Accept: image.mediaType } });
    assert.equal(manifest.status, 200);
    assert.equal(sha256(manifest.body), image.digest);
    const tags = await req(url, 'GET', '/v2/mem/app/tags/list');
    assert.deepEqual(tags.json(), { name: 'mem/app', tags: ['v1'] });
  });
});
