/** end-3 (GET/HEAD manifest), end-7 (PUT manifest), end-9 (DELETE manifest). */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  EMPTY_JSON_DIGEST,
  MT,
  assertApiVersion,
  assertError,
  imageManifest,
  pushBlob,
  pushImage,
  pushManifest,
  putManifest,
  rawHeader,
  repoName,
  req,
  sha256,
  sha512,
  snapshot,
  type Res,
} from './helpers.js';

const MiB = 1024 * 1024;

function assertPutCreated(res: Res, repo: string, bytes: Buffer): string {
  assert.equal(res.status, 201, res.text);
  assertApiVersion(res);
  const digest = sha256(bytes);
  assert.equal(res.headers.location, `/v2/${repo}/manifests/${digest}`);
  assert.equal(res.headers['docker-content-digest'], digest);
  assert.equal(res.headers['content-length'], '0');
  return digest;
}

/** GET and HEAD agree, bytes are exact, Content-Type is the bare stored type. */
async function assertServed(base: string, repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<void> {
  const digest = sha256(bytes);
  const get = await req(base, 'GET', `/v2/${repo}/manifests/${ref}`, {
    headers: { Accept: '*/*', 'Accept-Encoding': 'gzip' },
  });
  assert.equal(get.status, 200, get.text);
  assertApiVersion(get);
  assert.deepEqual(rawHeader(get, 'content-type'), [mediaType], 'raw Content-Type, no parameters');
  assert.equal(get.headers['docker-content-digest'], digest);
  assert.equal(get.headers['content-length'], String(bytes.length));
  assert.equal(get.headers['content-encoding'], undefined);
  assert.equal(get.headers.etag, `"${digest}"`);
  assert.ok(get.body.equals(bytes), 'body is byte-for-byte what was pushed');
  const head = await req(base, 'HEAD', `/v2/${repo}/manifests/${ref}`, { headers: { Accept: '*/*' } });
  assert.equal(head.status, 200);
  assertApiVersion(head);
  assert.deepEqual(rawHeader(head, 'content-type'), [mediaType]);
  assert.equal(head.headers['docker-content-digest'], digest);
  assert.equal(head.headers['content-length'], String(bytes.length));
  assert.equal(head.body.length, 0);
}

async function tagsOf(base: string, repo: string): Promise<string[] | number> {
  const res = await req(base, 'GET', `/v2/${repo}/tags/list`);
  return res.status === 200 ? (res.json().tags as string[]) : res.status;
}

/** Sends only headers (declared Content-Length) and waits for the early answer. */
function declareOnly(base: string, path: string, headers: Record<string, string | number>): Promise<Res> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const r = request({ host: url.hostname, port: url.port, method: 'PUT', path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body,
          text: body.toString(),
          json: () => JSON.parse(body.toString()),
        });
        r.destroy();
      });
    });
    r.on('error', reject);
    r.flushHeaders();
  });
}

/** Streams `total` bytes chunked, tolerating the server closing early; resolves with the response. */
function streamLarge(base: string, path: string, contentType: string, total: number): Promise<Res> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    let done = false;
    const r = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path,
        headers: { 'Content-Type': contentType, 'Transfer-Encoding': 'chunked' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          done = true;
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            text: body.toString(),
            json: () => JSON.parse(body.toString()),
          });
        });
      },
    );
    r.on('error', (e) => {
      if (!done) setTimeout(() => (done ? undefined : reject(e)), 200);
    });
    const piece = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const n = Math.min(piece.length, total - sent);
        sent += n;
        if (!r.write(piece.subarray(0, n))) {
          r.once('drain', pump);
          return;
        }
      }
      r.end();
    };
    r.write('{"schemaVersion":2,');
    pump();
  });
}

describe('manifests', () => {
  let s: InProcessStowage;
  before(async () => {
    s = await startInProcess({ fsync: false });
  });
  after(async () => {
    await s.stop();
  });

  describe('PUT and GET by type', () => {
    it('OCI image manifest by tag → 201 + Location + Docker-Content-Digest; served verbatim', async () => {
      const repo = repoName('oci');
      const bytes = Buffer.from(JSON.stringify(await imageManifest(s.url, repo)));
      const res = await putManifest(s.url, repo, 'v1', bytes, MT.ociManifest);
      const digest = assertPutCreated(res, repo, bytes);
      assert.equal(res.headers['oci-subject'], undefined);
      await assertServed(s.url, repo, 'v1', bytes, MT.ociManifest);
      await assertServed(s.url, repo, digest, bytes, MT.ociManifest);
      assert.deepEqual(await tagsOf(s.url, repo), ['v1']);
    });

    it('OCI image manifest by digest → 201, no tag created', async () => {
      const repo = repoName('ocidigest');
      await pushImage(s.url, repo, 'keep');
      const bytes = Buffer.from(JSON.stringify(await imageManifest(s.url, repo)));
      const digest = sha256(bytes);
      assertPutCreated(await putManifest(s.url, repo, digest, bytes, MT.ociManifest), repo, bytes);
      await assertServed(s.url, repo, digest, bytes, MT.ociManifest);
      assert.deepEqual(await tagsOf(s.url, repo), ['keep']);
    });

    it('by sha512 digest reference → 201 and addressable by that digest', async () => {
      const repo = repoName('oci512');
      const bytes = Buffer.from(JSON.stringify(await imageManifest(s.url, repo)));
      const d = sha512(bytes);
      const res = await putManifest(s.url, repo, d, bytes, MT.ociManifest);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers['docker-content-digest'], d);
      assert.equal(res.headers.location, `/v2/${repo}/manifests/${d}`);
      const get = await req(s.url, 'GET', `/v2/${repo}/manifests/${d}`);
      assert.equal(get.status, 200);
      assert.ok(get.body.equals(bytes));
    });

    it('OCI image index referencing pushed manifests', async () => {
      const repo = repoName('index');
      const a = await pushImage(s.url, repo, 'digest');
      const b = await pushImage(s.url, repo, 'digest');
      const index = {
        schemaVersion: 2,
        mediaType: MT.ociIndex,
        manifests: [
          {
            mediaType: MT.ociManifest,
            digest: a.digest,
            size: a.size,
            platform: { architecture: 'amd64', os: 'linux' },
          },
          {
            mediaType: MT.ociManifest,
            digest: b.digest,
            size: b.size,
            platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
          },
          {
            mediaType: MT.ociManifest,
            digest: b.digest,
            size: b.size,
            platform: { architecture: 'unknown', os: 'unknown' },
            annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
          },
        ],
        annotations: { 'com.example': 'x' },
      };
      const bytes = Buffer.from(JSON.stringify(index, null, 2));
      assertPutCreated(await putManifest(s.url, repo, 'multi', bytes, MT.ociIndex), repo, bytes);
      await assertServed(s.url, repo, 'multi', bytes, MT.ociIndex);
    });

    it('empty OCI index (no manifests) is accepted', async () => {
      const repo = repoName('emptyindex');
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] }));
      assertPutCreated(await putManifest(s.url, repo, 'empty', bytes, MT.ociIndex), repo, bytes);
      await assertServed(s.url, repo, 'empty', bytes, MT.ociIndex);
    });

    it('Docker schema2 manifest', async () => {
      const repo = repoName('docker');
      const doc = await imageManifest(s.url, repo, { docker: true, layers: 2 });
      const bytes = Buffer.from(JSON.stringify(doc, null, 3));
      assertPutCreated(await putManifest(s.url, repo, 'latest', bytes, MT.dockerManifest), repo, bytes);
      await assertServed(s.url, repo, 'latest', bytes, MT.dockerManifest);
    });

    it('Docker manifest list with `\\/` escapes and Docker key order', async () => {
      const repo = repoName('dockerlist');
      const a = await pushImage(s.url, repo, 'digest', { docker: true });
      const text =
        `{"manifests":[{"digest":"${a.digest}","mediaType":"application\\/vnd.docker.distribution.manifest.v2+json",` +
        `"platform":{"architecture":"amd64","os":"linux"},"size":${a.size}}],` +
        `"mediaType":"application\\/vnd.docker.distribution.manifest.list.v2+json","schemaVersion":2}`;
      const bytes = Buffer.from(text);
      assertPutCreated(await putManifest(s.url, repo, 'latest', bytes, MT.dockerList), repo, bytes);
      await assertServed(s.url, repo, 'latest', bytes, MT.dockerList);
    });

    it('helm-style manifest: no mediaType field, Content-Type decides', async () => {
      const repo = `charts/${repoName('helm')}`;
      const config = await pushBlob(
        s.url,
        repo,
        '{"name":"signtest","version":"0.1.0","description":"A Helm chart for Kubernetes","apiVersion":"v1"}',
      );
      const prov = await pushBlob(s.url, repo, '-----BEGIN PGP SIGNED MESSAGE-----\nfake\n');
      const chart = await pushBlob(s.url, repo, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
      const doc = {
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: config.digest, size: config.size },
        layers: [
          { mediaType: 'application/vnd.cncf.helm.chart.provenance.v1.prov', digest: prov.digest, size: prov.size },
          { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: chart.digest, size: chart.size },
        ],
        annotations: { 'org.opencontainers.image.title': 'signtest', 'org.opencontainers.image.version': '0.1.0' },
      };
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, '0.1.0', bytes, MT.ociManifest), repo, bytes);
      await assertServed(s.url, repo, '0.1.0', bytes, MT.ociManifest);
    });

    it('manifest without mediaType and without Content-Type: structure decides (Docker config → Docker schema2)', async () => {
      const repo = repoName('sniff');
      const doc = await imageManifest(s.url, repo, { docker: true });
      delete doc.mediaType;
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, 'x', bytes, undefined), repo, bytes);
      await assertServed(s.url, repo, 'x', bytes, MT.dockerManifest);
    });

    it('no Content-Type: the body mediaType decides', async () => {
      const repo = repoName('bodytype');
      const doc = await imageManifest(s.url, repo);
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, 'x', bytes, undefined), repo, bytes);
      await assertServed(s.url, repo, 'x', bytes, MT.ociManifest);
    });

    it('generic Content-Type application/json falls back to the body mediaType', async () => {
      const repo = repoName('generic');
      const doc = await imageManifest(s.url, repo);
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, 'x', bytes, 'application/json'), repo, bytes);
      await assertServed(s.url, repo, 'x', bytes, MT.ociManifest);
    });

    it('artifact with artifactType and the empty config', async () => {
      const repo = repoName('artifact');
      const empty = await pushBlob(s.url, repo, '{}');
      assert.equal(empty.digest, EMPTY_JSON_DIGEST);
      const doc = {
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        artifactType: 'application/vnd.example.thing.v1',
        config: { mediaType: MT.empty, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' },
        layers: [{ mediaType: MT.empty, digest: EMPTY_JSON_DIGEST, size: 2 }],
        annotations: { 'com.example.data': 'hello' },
      };
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, 'art', bytes, MT.ociManifest), repo, bytes);
      await assertServed(s.url, repo, 'art', bytes, MT.ociManifest);
    });

    it('unknown top-level and descriptor fields are accepted and kept', async () => {
      const repo = repoName('unknownfields');
      const doc = await imageManifest(s.url, repo, { extra: { 'x-vendor': { nested: [1, 2, 3] }, comment: 'hi' } });
      (doc.config as Record<string, unknown>).extraField = true;
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, 'x', bytes, MT.ociManifest), repo, bytes);
      await assertServed(s.url, repo, 'x', bytes, MT.ociManifest);
    });

    it('OCI manifest with "layers": [] is accepted', async () => {
      const repo = repoName('nolayers');
      const doc = await imageManifest(s.url, repo);
      doc.layers = [];
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, 'x', bytes, MT.ociManifest), repo, bytes);
    });

    it('foreign layers (with urls) are not checked for existence', async () => {
      const repo = repoName('foreign');
      const doc = await imageManifest(s.url, repo, { docker: true });
      (doc.layers as unknown[]).unshift({
        mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
        digest: sha256('windows base'),
        size: 12,
        urls: ['https://example.com/layer'],
      });
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, repo, 'win', bytes, MT.dockerManifest), repo, bytes);
    });

    it('bytes are sacred: pretty-printed, odd whitespace, `\\/` escapes, CRLF, trailing newline', async () => {
      const repo = repoName('sacred');
      const doc = await imageManifest(s.url, repo);
      const cfg = doc.config as { digest: string; size: number };
      const layer = (doc.layers as Array<{ digest: string; size: number }>)[0]!;
      const text =
        '{\r\n   "schemaVersion" :  2,\r\n\t"mediaType": "application\\/vnd.oci.image.manifest.v1+json",\r\n' +
        `   "config": {"mediaType":"application\\/vnd.oci.image.config.v1+json","digest":"${cfg.digest}","size":${cfg.size}},\r\n` +
        `   "layers": [ { "size": ${layer.size}, "digest": "${layer.digest}", "mediaType": "application\\/vnd.oci.image.layer.v1.tar+gzip" } ],\r\n` +
        '   "annotations": {"unicode": "h\\u00e9llo \u00e9 \u{1F600}", "empty": ""}\r\n}\n\n  ';
      const bytes = Buffer.from(text, 'utf8');
      const digest = assertPutCreated(await putManifest(s.url, repo, 'pretty', bytes, MT.ociManifest), repo, bytes);
      await assertServed(s.url, repo, 'pretty', bytes, MT.ociManifest);
      await assertServed(s.url, repo, digest, bytes, MT.ociManifest);
      // A re-serialised copy is a different manifest.
      const canonical = Buffer.from(JSON.stringify(JSON.parse(text)));
      assert.notEqual(sha256(canonical), digest);
      const res = await putManifest(s.url, repo, digest, canonical, MT.ociManifest);
      assertError(res, 400, 'DIGEST_INVALID');
    });

    it('Content-Type with `; charset=utf-8` is accepted and stored bare', async () => {
      const repo = repoName('charset');
      const bytes = Buffer.from(JSON.stringify(await imageManifest(s.url, repo)));
      assertPutCreated(await putManifest(s.url, repo, 'x', bytes, `${MT.ociManifest}; charset=utf-8`), repo, bytes);
      await assertServed(s.url, repo, 'x', bytes, MT.ociManifest);
    });

    it('re-pushing the same bytes is a 201 no-op; a tag can move', async () => {
      const repo = repoName('repush');
      const a = await pushImage(s.url, repo, 'latest');
      assertPutCreated(await putManifest(s.url, repo, 'latest', a.bytes, MT.ociManifest), repo, a.bytes);
      assertPutCreated(await putManifest(s.url, repo, a.digest, a.bytes, MT.ociManifest), repo, a.bytes);
      const b = await pushImage(s.url, repo, 'latest');
      const head = await req(s.url, 'HEAD', `/v2/${repo}/manifests/latest`);
      assert.equal(head.headers['docker-content-digest'], b.digest);
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/manifests/${a.digest}`)).status, 200);
      assert.deepEqual(await tagsOf(s.url, repo), ['latest']);
    });

    it('one manifest under several tags', async () => {
      const repo = repoName('multitag');
      const a = await pushImage(s.url, repo, 'one');
      await pushManifest(s.url, repo, 'two', a.bytes, MT.ociManifest);
      await pushManifest(s.url, repo, 'THREE_3.x-y', a.bytes, MT.ociManifest);
      assert.deepEqual(await tagsOf(s.url, repo), ['THREE_3.x-y', 'one', 'two']);
    });

    it('a 128-character tag is accepted', async () => {
      const repo = repoName('longtag');
      const tag = `a${'b'.repeat(127)}`;
      await pushImage(s.url, repo, tag);
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/manifests/${tag}`)).status, 200);
    });
  });

  describe('configured manifest size limit', () => {
    it('max_manifest_bytes is honoured: limit accepted, limit+1 → 413', async () => {
      const small = await startInProcess({ fsync: false, maxManifestBytes: 2048 });
      try {
        const repo = repoName('small');
        const doc = Buffer.from(JSON.stringify(await imageManifest(small.url, repo)));
        const fits = Buffer.alloc(2048, 0x20);
        doc.copy(fits);
        assertPutCreated(await putManifest(small.url, repo, 'fits', fits, MT.ociManifest), repo, fits);
        const over = Buffer.alloc(2049, 0x20);
        doc.copy(over);
        assertError(await putManifest(small.url, repo, 'over', over, MT.ociManifest), 413, 'MANIFEST_INVALID');
        assertError(await req(small.url, 'GET', `/v2/${repo}/manifests/over`), 404, 'MANIFEST_UNKNOWN');
      } finally {
        await small.stop();
      }
    });
  });

  describe('OCI-Subject', () => {
    it('manifest with a subject (which need not exist) → 201 + OCI-Subject', async () => {
      const repo = repoName('subject');
      const subject = { mediaType: MT.ociManifest, digest: sha256('no such subject'), size: 1234 };
      const doc = await imageManifest(s.url, repo, { extra: { subject, artifactType: 'application/vnd.example.sig' } });
      const bytes = Buffer.from(JSON.stringify(doc));
      const res = await putManifest(s.url, repo, sha256(bytes), bytes, MT.ociManifest);
      assertPutCreated(res, repo, bytes);
      assert.equal(res.headers['oci-subject'], subject.digest);
    });

    it('index with a subject → 201 + OCI-Subject', async () => {
      const repo = repoName('idxsubject');
      const subject = { mediaType: MT.ociManifest, digest: sha256('subject of index'), size: 10 };
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [], subject }));
      const res = await putManifest(s.url, repo, sha256(bytes), bytes, MT.ociIndex);
      assertPutCreated(res, repo, bytes);
      assert.equal(res.headers['oci-subject'], subject.digest);
    });

    it('a malformed subject descriptor → 400 MANIFEST_INVALID', async () => {
      const repo = repoName('badsubject');
      const doc = await imageManifest(s.url, repo, {
        extra: { subject: { mediaType: MT.ociManifest, digest: 'sha256:nope', size: 1 } },
      });
      assertError(await putManifest(s.url, repo, 'x', JSON.stringify(doc), MT.ociManifest), 400, 'MANIFEST_INVALID');
    });
  });

  describe('PUT validation errors (and nothing changes)', () => {
    let repo: string;
    let existing: Awaited<ReturnType<typeof pushImage>>;
    before(async () => {
      repo = repoName('invalid');
      existing = await pushImage(s.url, repo, 'stable');
    });

    async function unchanged(): Promise<void> {
      assert.deepEqual(await tagsOf(s.url, repo), ['stable']);
      const head = await req(s.url, 'HEAD', `/v2/${repo}/manifests/stable`);
      assert.equal(head.headers['docker-content-digest'], existing.digest);
    }

    it('missing config and layers → 400 with one MANIFEST_BLOB_UNKNOWN per missing digest', async () => {
      const missing = [sha256('missing config'), sha256('missing layer 1'), sha256('missing layer 2')];
      const present = await pushBlob(s.url, repo, 'present layer');
      const doc = {
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: missing[0], size: 10 },
        layers: [
          { mediaType: MT.ociLayer, digest: missing[1], size: 11 },
          { mediaType: MT.ociLayer, digest: present.digest, size: present.size },
          { mediaType: MT.ociLayer, digest: missing[2], size: 12 },
          { mediaType: MT.ociLayer, digest: missing[2], size: 12 },
        ],
      };
      const res = await putManifest(s.url, repo, 'stable', JSON.stringify(doc), MT.ociManifest);
      const body = assertError(res, 400, ['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']);
      assert.equal(body.errors.length, 3, 'one error per distinct missing digest');
      assert.deepEqual(body.errors.map((e: { detail: unknown }) => e.detail).sort(), [...missing].sort());
      await unchanged();
    });

    it('a blob present only in another repository counts as missing', async () => {
      const other = repoName('elsewhere');
      const doc = await imageManifest(s.url, other);
      const res = await putManifest(s.url, repo, 'stable', JSON.stringify(doc), MT.ociManifest);
      const body = assertError(res, 400, ['MANIFEST_BLOB_UNKNOWN', 'MANIFEST_BLOB_UNKNOWN']);
      assert.equal(body.errors.length, 2);
      await unchanged();
    });

    it('index with a missing child manifest → 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const missing = sha256('missing child');
      const doc = {
        schemaVersion: 2,
        mediaType: MT.ociIndex,
        manifests: [
          { mediaType: MT.ociManifest, digest: existing.digest, size: existing.size },
          { mediaType: MT.ociManifest, digest: missing, size: 100 },
        ],
      };
      const body = assertError(
        await putManifest(s.url, repo, 'stable', JSON.stringify(doc), MT.ociIndex),
        400,
        'MANIFEST_BLOB_UNKNOWN',
      );
      assert.equal(body.errors.length, 1);
      assert.equal(body.errors[0].detail, missing);
      await unchanged();
    });

    it('Docker list with a child manifest from another repository → 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const other = repoName('listother');
      const child = await pushImage(s.url, other, 'digest', { docker: true });
      const doc = {
        schemaVersion: 2,
        mediaType: MT.dockerList,
        manifests: [
          {
            mediaType: MT.dockerManifest,
            digest: child.digest,
            size: child.size,
            platform: { architecture: 'amd64', os: 'linux' },
          },
        ],
      };
      assertError(
        await putManifest(s.url, repo, 'stable', JSON.stringify(doc), MT.dockerList),
        400,
        'MANIFEST_BLOB_UNKNOWN',
      );
      await unchanged();
    });

    it('BuildKit cache index whose children are blobs is accepted', async () => {
      const r = repoName('cache');
      const l1 = await pushBlob(s.url, r, 'cache layer 1');
      const l2 = await pushBlob(s.url, r, 'cache layer 2');
      const cfg = await pushBlob(s.url, r, '{"layers":[],"records":[]}');
      const doc = {
        schemaVersion: 2,
        mediaType: MT.ociIndex,
        manifests: [
          {
            mediaType: MT.ociLayer,
            digest: l1.digest,
            size: l1.size,
            annotations: { 'buildkit/createdat': '2024-01-01T00:00:00Z' },
          },
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: l2.digest, size: l2.size },
          { mediaType: 'application/vnd.buildkit.cacheconfig.v0', digest: cfg.digest, size: cfg.size },
        ],
      };
      const bytes = Buffer.from(JSON.stringify(doc));
      assertPutCreated(await putManifest(s.url, r, 'buildcache', bytes, MT.ociIndex), r, bytes);
      await assertServed(s.url, r, 'buildcache', bytes, MT.ociIndex);
      // The cache blobs are now protected like any referenced blob.
      assertError(await req(s.url, 'DELETE', `/v2/${r}/blobs/${l1.digest}`), 405, 'UNSUPPORTED');
    });

    it('config size mismatch → 400 MANIFEST_INVALID', async () => {
      const doc = await imageManifest(s.url, repo);
      (doc.config as { size: number }).size += 1;
      assertError(
        await putManifest(s.url, repo, 'stable', JSON.stringify(doc), MT.ociManifest),
        400,
        'MANIFEST_INVALID',
      );
      await unchanged();
    });

    it('layer size mismatch → 400 MANIFEST_INVALID', async () => {
      const doc = await imageManifest(s.url, repo);
      (doc.layers as Array<{ size: number }>)[0]!.size = 1;
      assertError(
        await putManifest(s.url, repo, 'stable', JSON.stringify(doc), MT.ociManifest),
        400,
        'MANIFEST_INVALID',
      );
      await unchanged();
    });

    it('index child size mismatch → 400 MANIFEST_INVALID', async () => {
      const doc = {
        schemaVersion: 2,
        mediaType: MT.ociIndex,
        manifests: [{ mediaType: MT.ociManifest, digest: existing.digest, size: existing.size + 5 }],
      };
      assertError(await putManifest(s.url, repo, 'stable', JSON.stringify(doc), MT.ociIndex), 400, 'MANIFEST_INVALID');
      await unchanged();
    });

    it('digest reference that does not match the body → 400 DIGEST_INVALID', async () => {
      const doc = await imageManifest(s.url, repo);
      const res = await putManifest(s.url, repo, sha256('something else'), JSON.stringify(doc), MT.ociManifest);
      assertError(res, 400, 'DIGEST_INVALID');
      assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/manifests/${sha256(JSON.stringify(doc))}`)).status, 404);
      await unchanged();
    });

    const invalidBodies: Array<[string, () => Promise<{ body: Buffer | string; type: string | undefined }>]> = [
      ['invalid JSON', async () => ({ body: '{"schemaVersion": 2, ', type: MT.ociManifest })],
      ['empty body', async () => ({ body: '', type: MT.ociManifest })],
      ['JSON array', async () => ({ body: '[]', type: MT.ociManifest })],
      ['JSON string', async () => ({ body: '"manifest"', type: MT.ociManifest })],
      [
        'non-UTF-8 bytes',
        async () => {
          const doc = await imageManifest(s.url, repo);
          doc.annotations = { a: 'XX' };
          const buf = Buffer.from(JSON.stringify(doc));
          const i = buf.indexOf('XX');
          buf[i] = 0xff;
          buf[i + 1] = 0xfe;
          return { body: buf, type: MT.ociManifest };
        },
      ],
      [
        'schemaVersion 1 body',
        async () => ({
          body: JSON.stringify({ schemaVersion: 1, name: repo, tag: 'stable', fsLayers: [], history: [] }),
          type: 'application/json',
        }),
      ],
      [
        'schema1 Content-Type',
        async () => ({
          body: JSON.stringify({ schemaVersion: 1, name: repo, tag: 'stable', fsLayers: [] }),
          type: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
        }),
      ],
      [
        'schemaVersion 3',
        async () => {
          const doc = await imageManifest(s.url, repo);
          doc.schemaVersion = 3;
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'schemaVersion missing',
        async () => {
          const doc = await imageManifest(s.url, repo);
          delete doc.schemaVersion;
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'unknown Content-Type',
        async () => ({
          body: JSON.stringify(await imageManifest(s.url, repo)),
          type: 'application/vnd.example.unknown+json',
        }),
      ],
      [
        'OCI artifact manifest Content-Type (1.1 RC, removed)',
        async () => ({
          body: JSON.stringify({
            mediaType: 'application/vnd.oci.artifact.manifest.v1+json',
            artifactType: 'a/b',
            blobs: [],
          }),
          type: 'application/vnd.oci.artifact.manifest.v1+json',
        }),
      ],
      [
        'header/body mediaType mismatch',
        async () => ({ body: JSON.stringify(await imageManifest(s.url, repo)), type: MT.dockerManifest }),
      ],
      [
        'index body sent as image manifest',
        async () => ({
          body: JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [] }),
          type: MT.ociManifest,
        }),
      ],
      [
        'unknown body mediaType with generic Content-Type',
        async () => ({
          body: JSON.stringify({ schemaVersion: 2, mediaType: 'text/html', config: {} }),
          type: 'application/json',
        }),
      ],
      [
        'non-string mediaType',
        async () => ({ body: JSON.stringify({ schemaVersion: 2, mediaType: 5, manifests: [] }), type: MT.ociIndex }),
      ],
      [
        'missing config',
        async () => {
          const doc = await imageManifest(s.url, repo);
          delete doc.config;
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'layers not an array',
        async () => {
          const doc = await imageManifest(s.url, repo);
          doc.layers = { 0: 'x' };
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'image manifest with a manifests key',
        async () => {
          const doc = await imageManifest(s.url, repo);
          doc.manifests = [];
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'index with config/layers',
        async () => ({
          body: JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: [], layers: [] }),
          type: MT.ociIndex,
        }),
      ],
      [
        'index without manifests',
        async () => ({ body: JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex }), type: MT.ociIndex }),
      ],
      [
        'descriptor with a malformed digest',
        async () => {
          const doc = await imageManifest(s.url, repo);
          (doc.config as { digest: string }).digest = 'sha256:1234';
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'descriptor with a negative size',
        async () => {
          const doc = await imageManifest(s.url, repo);
          (doc.config as { size: number }).size = -1;
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'descriptor with a string size',
        async () => {
          const doc = await imageManifest(s.url, repo);
          (doc.layers as Array<{ size: unknown }>)[0]!.size = '12';
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'descriptor without mediaType',
        async () => {
          const doc = await imageManifest(s.url, repo);
          delete (doc.layers as Array<{ mediaType?: string }>)[0]!.mediaType;
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'annotations not a string map',
        async () => {
          const doc = await imageManifest(s.url, repo);
          doc.annotations = { a: 1 };
          return { body: JSON.stringify(doc), type: MT.ociManifest };
        },
      ],
      [
        'Docker schema2 without layers',
        async () => {
          const doc = await imageManifest(s.url, repo, { docker: true });
          delete doc.layers;
          return { body: JSON.stringify(doc), type: MT.dockerManifest };
        },
      ],
    ];
    for (const [what, make] of invalidBodies) {
      it(`${what} → 400 MANIFEST_INVALID`, async () => {
        const { body, type } = await make();
        assertError(await putManifest(s.url, repo, 'stable', body, type), 400, 'MANIFEST_INVALID');
        assertError(await putManifest(s.url, repo, 'other', body, type), 400, 'MANIFEST_INVALID');
        await unchanged();
      });
    }

    it('> 4 MiB declared in Content-Length → 413 before the body is read', async () => {
      const res = await declareOnly(s.url, `/v2/${repo}/manifests/stable`, {
        'Content-Type': MT.ociManifest,
        'Content-Length': 4 * MiB + 1,
      });
      assertError(res, 413, 'MANIFEST_INVALID');
      await unchanged();
    });

    it('> 4 MiB sent with Content-Length → 413', async () => {
      const body = Buffer.alloc(4 * MiB + 10, 0x20);
      body.write('{"schemaVersion":2}');
      let res: Res;
      try {
        res = await putManifest(s.url, repo, 'stable', body, MT.ociManifest);
      } catch (e) {
        // The server may close before the body is fully written; the declared-length test covers the status.
        assert.match(String((e as Error).message), /EPIPE|ECONNRESET|socket hang up/);
        await unchanged();
        return;
      }
      assertError(res, 413, 'MANIFEST_INVALID');
      await unchanged();
    });

    it('> 4 MiB streamed chunked (no Content-Length) → 413', async () => {
      const res = await streamLarge(s.url, `/v2/${repo}/manifests/stable`, MT.ociManifest, 4 * MiB + 100);
      assertError(res, 413, 'MANIFEST_INVALID');
      await unchanged();
    });

    it('exactly 4 MiB (padded with whitespace) is accepted', async () => {
      const r = repoName('fourmib');
      const doc = Buffer.from(JSON.stringify(await imageManifest(s.url, r)));
      const body = Buffer.alloc(4 * MiB, 0x20);
      doc.copy(body);
      assertPutCreated(await putManifest(s.url, r, 'big', body, MT.ociManifest), r, body);
      const get = await req(s.url, 'GET', `/v2/${r}/manifests/big`);
      assert.equal(get.status, 200);
      assert.equal(get.body.length, 4 * MiB);
      assert.equal(get.headers['docker-content-digest'], sha256(body));
    });

    it('the state is exactly as before all these bad requests', async () => {
      await unchanged();
      const snap = await snapshot(s.url, repo);
      assert.equal(snap.tags.status, 200);
      assert.deepEqual(JSON.parse(snap.tags.body), { name: repo, tags: ['stable'] });
    });
  });

  describe('GET errors', () => {
    it('unknown tag → 404 MANIFEST_UNKNOWN; unknown digest → 404 MANIFEST_UNKNOWN', async () => {
      const repo = repoName('getunknown');
      await pushImage(s.url, repo, 'v1');
      assertError(await req(s.url, 'GET', `/v2/${repo}/manifests/v2`), 404, 'MANIFEST_UNKNOWN');
      assertError(await req(s.url, 'HEAD', `/v2/${repo}/manifests/v2`), 404, 'MANIFEST_UNKNOWN', 'HEAD');
      assertError(await req(s.url, 'GET', `/v2/${repo}/manifests/${sha256('nope')}`), 404, 'MANIFEST_UNKNOWN');
      assertError(await req(s.url, 'HEAD', `/v2/${repo}/manifests/${sha256('nope')}`), 404, 'MANIFEST_UNKNOWN', 'HEAD');
    });

    it('unknown repository → 404 NAME_UNKNOWN (or MANIFEST_UNKNOWN)', async () => {
      const res = await req(s.url, 'GET', `/v2/${repoName('ghost')}/manifests/latest`);
      assert.equal(res.status, 404);
      assert.ok(['NAME_UNKNOWN', 'MANIFEST_UNKNOWN'].includes(res.json().errors[0].code));
      assertApiVersion(res);
    });

    it('a manifest is visible only in its own repository', async () => {
      const a = repoName('visa');
      const b = repoName('visb');
      const m = await pushImage(s.url, a, 'v1');
      await pushImage(s.url, b, 'v1');
      assertError(await req(s.url, 'GET', `/v2/${b}/manifests/${m.digest}`), 404, 'MANIFEST_UNKNOWN');
    });

    it('digest reference percent-encoded in the path', async () => {
      const repo = repoName('encref');
      const m = await pushImage(s.url, repo, 'v1');
      const res = await req(s.url, 'GET', `/v2/${repo}/manifests/${m.digest.replace(':', '%3A')}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['docker-content-digest'], m.digest);
    });
  });

  describe('content negotiation', () => {
    let repo: string;
    let image: Awaited<ReturnType<typeof pushImage>>;
    let index: Awaited<ReturnType<typeof pushManifest>>;
    let docker: Awaited<ReturnType<typeof pushImage>>;
    before(async () => {
      repo = repoName('accept');
      image = await pushImage(s.url, repo, 'image');
      docker = await pushImage(s.url, repo, 'docker', { docker: true });
      index = await pushManifest(
        s.url,
        repo,
        'index',
        {
          schemaVersion: 2,
          mediaType: MT.ociIndex,
          manifests: [{ mediaType: MT.ociManifest, digest: image.digest, size: image.size }],
        },
        MT.ociIndex,
      );
    });

    async function both(ref: string, accept: string | string[] | undefined): Promise<[Res, Res]> {
      const headers = accept === undefined ? {} : { Accept: accept };
      return [
        await req(s.url, 'GET', `/v2/${repo}/manifests/${ref}`, { headers }),
        await req(s.url, 'HEAD', `/v2/${repo}/manifests/${ref}`, { headers }),
      ];
    }

    it('docker-style repeated Accept lines (one type per line)', async () => {
      const [get, head] = await both('index', [MT.dockerManifest, MT.dockerList, MT.ociManifest, MT.ociIndex]);
      assert.equal(get.status, 200);
      assert.equal(head.status, 200);
      assert.deepEqual(rawHeader(get, 'content-type'), [MT.ociIndex]);
      assert.equal(get.headers['docker-content-digest'], index.digest);
      assert.equal(head.headers['docker-content-digest'], index.digest);
    });

    it('comma-joined Accept list with parameters and */*', async () => {
      const [get, head] = await both('docker', `${MT.ociIndex};q=0.9, ${MT.ociManifest},${MT.dockerList}, */*`);
      assert.equal(get.status, 200);
      assert.equal(head.status, 200);
      assert.deepEqual(rawHeader(get, 'content-type'), [MT.dockerManifest]);
    });

    it('Accept: */* alone, and no Accept at all', async () => {
      for (const accept of ['*/*', undefined]) {
        const [get, head] = await both('index', accept);
        assert.equal(get.status, 200);
        assert.equal(head.status, 200);
        assert.ok(get.body.equals(index.bytes));
      }
    });

    it('client accepting only Docker schema2 asking for an OCI index → 404 MANIFEST_UNKNOWN (GET and HEAD agree)', async () => {
      const [get, head] = await both('index', MT.dockerManifest);
      assertError(get, 404, 'MANIFEST_UNKNOWN');
      assertError(head, 404, 'MANIFEST_UNKNOWN', 'HEAD');
      const [byDigest] = await both(index.digest, MT.dockerManifest);
      assertError(byDigest, 404, 'MANIFEST_UNKNOWN');
    });

    it('client accepting only OCI types asking for a Docker schema2 → 404 MANIFEST_UNKNOWN', async () => {
      for (const ref of ['docker', docker.digest]) {
        const [get, head] = await both(ref, [MT.ociManifest, MT.ociIndex]);
        assertError(get, 404, 'MANIFEST_UNKNOWN');
        assertError(head, 404, 'MANIFEST_UNKNOWN', 'HEAD');
      }
      const [ok] = await both('docker', MT.dockerManifest);
      assert.equal(ok.status, 200);
      assert.deepEqual(rawHeader(ok, 'content-type'), [MT.dockerManifest]);
    });

    it('a client listing unknown types plus the stored one gets it', async () => {
      const [get] = await both('image', [
        'application/vnd.docker.distribution.manifest.v1+prettyjws',
        'application/vnd.oci.artifact.manifest.v1+json',
        MT.ociManifest,
      ]);
      assert.equal(get.status, 200);
      assert.equal(get.headers['docker-content-digest'], image.digest);
    });
  });

  describe('If-None-Match', () => {
    it('matching ETag → 304 with no body; other ETag → 200', async () => {
      const repo = repoName('etag');
      const m = await pushImage(s.url, repo, 'v1');
      for (const method of ['GET', 'HEAD']) {
        const res = await req(s.url, method, `/v2/${repo}/manifests/v1`, {
          headers: { 'If-None-Match': `"${m.digest}"` },
        });
        assert.equal(res.status, 304, method);
        assertApiVersion(res);
        assert.equal(res.body.length, 0);
        assert.equal(res.headers['docker-content-digest'], m.digest);
        assert.equal(res.headers.etag, `"${m.digest}"`);
        // RFC 9110 §8.6: a 304 carries no Content-Length, or the length the 200 would have had.
        const len = res.headers['content-length'];
        assert.ok(
          len === undefined || len === String(m.size),
          `304 Content-Length ${len} (manifest is ${m.size} bytes)`,
        );
      }
      const other = await req(s.url, 'GET', `/v2/${repo}/manifests/v1`, {
        headers: { 'If-None-Match': `"${sha256('x')}"` },
      });
      assert.equal(other.status, 200);
      assert.ok(other.body.equals(m.bytes));
    });
  });

  describe('DELETE', () => {
    it('by tag: only that tag goes; the manifest and other tags stay', async () => {
      const repo = repoName('deltag');
      const m = await pushImage(s.url, repo, 'a');
      await pushManifest(s.url, repo, 'b', m.bytes, MT.ociManifest);
      const del = await req(s.url, 'DELETE', `/v2/${repo}/manifests/a`);
      assert.equal(del.status, 202);
      assertApiVersion(del);
      assertError(await req(s.url, 'GET', `/v2/${repo}/manifests/a`), 404, 'MANIFEST_UNKNOWN');
      assert.equal((await req(s.url, 'GET', `/v2/${repo}/manifests/b`)).status, 200);
      assert.equal((await req(s.url, 'GET', `/v2/${repo}/manifests/${m.digest}`)).status, 200);
      assert.deepEqual(await tagsOf(s.url, repo), ['b']);
      assertError(await req(s.url, 'DELETE', `/v2/${repo}/manifests/a`), 404, 'MANIFEST_UNKNOWN');
    });

    it('by digest: the manifest and all its tags go; other manifests stay', async () => {
      const repo = repoName('deldigest');
      const m = await pushImage(s.url, repo, 'a');
      await pushManifest(s.url, repo, 'b', m.bytes, MT.ociManifest);
      const other = await pushImage(s.url, repo, 'c');
      const del = await req(s.url, 'DELETE', `/v2/${repo}/manifests/${m.digest}`);
      assert.equal(del.status, 202);
      for (const ref of ['a', 'b', m.digest]) {
        assertError(await req(s.url, 'GET', `/v2/${repo}/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN');
        assertError(await req(s.url, 'HEAD', `/v2/${repo}/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN', 'HEAD');
      }
      assert.deepEqual(await tagsOf(s.url, repo), ['c']);
      assert.equal((await req(s.url, 'GET', `/v2/${repo}/manifests/${other.digest}`)).status, 200);
      assertError(await req(s.url, 'DELETE', `/v2/${repo}/manifests/${m.digest}`), 404, 'MANIFEST_UNKNOWN');
      // It can be pushed again.
      await pushManifest(s.url, repo, 'a', m.bytes, MT.ociManifest);
      assert.deepEqual(await tagsOf(s.url, repo), ['a', 'c']);
    });

    it('by digest in one repository leaves the same manifest in another', async () => {
      const a = repoName('dela');
      const b = repoName('delb');
      const doc = await imageManifest(s.url, a);
      const bytes = Buffer.from(JSON.stringify(doc));
      await pushManifest(s.url, a, 'v1', bytes, MT.ociManifest);
      const cfg = doc.config as { digest: string };
      const layer = (doc.layers as Array<{ digest: string }>)[0]!;
      for (const d of [cfg.digest, layer.digest])
        assert.equal((await req(s.url, 'POST', `/v2/${b}/blobs/uploads/?mount=${d}&from=${a}`)).status, 201);
      await pushManifest(s.url, b, 'v1', bytes, MT.ociManifest);
      assert.equal((await req(s.url, 'DELETE', `/v2/${a}/manifests/${sha256(bytes)}`)).status, 202);
      assert.equal((await req(s.url, 'GET', `/v2/${b}/manifests/v1`)).status, 200);
    });

    it('unknown tag / digest / repository → 404 MANIFEST_UNKNOWN', async () => {
      const repo = repoName('delunknown');
      await pushImage(s.url, repo, 'v1');
      assertError(await req(s.url, 'DELETE', `/v2/${repo}/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
      assertError(await req(s.url, 'DELETE', `/v2/${repo}/manifests/${sha256('nope')}`), 404, 'MANIFEST_UNKNOWN');
      const ghost = await req(s.url, 'DELETE', `/v2/${repoName('ghost')}/manifests/v1`);
      assert.equal(ghost.status, 404);
      assert.ok(['MANIFEST_UNKNOWN', 'NAME_UNKNOWN'].includes(ghost.json().errors[0].code));
      assert.deepEqual(await tagsOf(s.url, repo), ['v1']);
    });

    it('deleting a child manifest by digest does not delete the index', async () => {
      const repo = repoName('delchild');
      const child = await pushImage(s.url, repo, 'digest');
      const idx = await pushManifest(
        s.url,
        repo,
        'idx',
        {
          schemaVersion: 2,
          mediaType: MT.ociIndex,
          manifests: [{ mediaType: MT.ociManifest, digest: child.digest, size: child.size }],
        },
        MT.ociIndex,
      );
      const del = await req(s.url, 'DELETE', `/v2/${repo}/manifests/${child.digest}`);
      assert.ok([202, 409].includes(del.status), `status ${del.status}`);
      assert.equal((await req(s.url, 'GET', `/v2/${repo}/manifests/idx`)).headers['docker-content-digest'], idx.digest);
    });
  });
});
