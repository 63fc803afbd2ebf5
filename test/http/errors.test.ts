/**
 * Bad input in every position (names, digests, tags) is refused with the right
 * OCI code, on every endpoint, and leaves the registry exactly as it was.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  MT,
  assertError,
  pushBlob,
  pushImage,
  putManifest,
  repoName,
  req,
  sha256,
  snapshot,
  startUpload,
  withDigest,
  type Pushed,
  type Res,
  type Snapshot,
} from './helpers.js';

const SOME_DIGEST = sha256('some digest');
const FAKE_ID = '0b7e0b33-a9f4-4a39-9d70-0b2d5a0f0c55';

/** Every endpoint that takes a repository name, as [method, path-after-name, body?]. */
const NAME_ENDPOINTS: Array<[string, string, string?]> = [
  ['GET', '/tags/list'],
  ['HEAD', '/tags/list'],
  ['GET', '/manifests/latest'],
  ['HEAD', '/manifests/latest'],
  [
    'PUT',
    '/manifests/latest',
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}',
  ],
  ['DELETE', '/manifests/latest'],
  ['GET', `/blobs/${SOME_DIGEST}`],
  ['HEAD', `/blobs/${SOME_DIGEST}`],
  ['DELETE', `/blobs/${SOME_DIGEST}`],
  ['POST', '/blobs/uploads/'],
  ['POST', '/blobs/uploads'],
  ['POST', `/blobs/uploads/?digest=${SOME_DIGEST}`, 'abc'],
  ['POST', `/blobs/uploads/?mount=${SOME_DIGEST}&from=library/x`],
  ['GET', `/blobs/uploads/${FAKE_ID}`],
  ['PATCH', `/blobs/uploads/${FAKE_ID}`, 'abc'],
  ['PUT', `/blobs/uploads/${FAKE_ID}?digest=${SOME_DIGEST}`, 'abc'],
  ['DELETE', `/blobs/uploads/${FAKE_ID}`],
  ['GET', `/referrers/${SOME_DIGEST}`],
];

const BAD_NAMES: Array<[string, string]> = [
  ['uppercase', 'MyRepo'],
  ['uppercase component', 'team/App'],
  ['dot-dot segment', 'a/../b'],
  ['dot-dot alone', '..'],
  ['dot segment', './a'],
  ['encoded slash %2F', 'a%2Fb'],
  ['encoded slash %2f', 'team%2fapp'],
  ['encoded dot-dot', 'a/%2E%2E/b'],
  ['leading dash', '-repo'],
  ['trailing dash', 'repo-'],
  ['leading dot', '.repo'],
  ['leading underscore', '_repo'],
  ['triple underscore', 'a___b'],
  ['double dot', 'a..b'],
  ['mixed separators', 'a.-b'],
  ['empty component', 'a//b'],
  ['trailing slash', 'a/'],
  ['percent-encoded letter', '%61bc'],
  ['space', 'a%20b'],
  ['non-ASCII', 'caf%C3%A9'],
  ['colon', 'a:b'],
  ['256 characters', 'a'.repeat(256)],
  ['256 characters with components', `${'a'.repeat(200)}/${'b'.repeat(55)}`],
];

describe('bad input changes nothing', () => {
  let s: InProcessStowage;
  const repo = repoName('stable');
  let image: Pushed;
  let blob: string;
  let before0: Snapshot;

  async function uploadFiles(): Promise<string[]> {
    return (await readdir(join(s.dataDir, 'uploads'))).sort();
  }

  async function assertUnchanged(uploadsBefore: string[]): Promise<void> {
    const now = await snapshot(s.url, repo, [blob, image.digest]);
    assert.deepEqual(now, before0, 'tags, catalog and blob visibility unchanged');
    const head = await req(s.url, 'HEAD', `/v2/${repo}/manifests/v1`);
    assert.equal(head.status, 200);
    assert.equal(head.headers['docker-content-digest'], image.digest);
    assert.deepEqual(await uploadFiles(), uploadsBefore, 'no upload session files left behind');
  }

  before(async () => {
    s = await startInProcess({ fsync: false });
    image = await pushImage(s.url, repo, 'v1');
    blob = (await pushBlob(s.url, repo, 'a loose blob')).digest;
    before0 = await snapshot(s.url, repo, [blob, image.digest]);
    assert.equal(before0.tags.status, 200);
    assert.deepEqual(JSON.parse(before0.catalog), { repositories: [repo] });
  });
  after(async () => {
    await s.stop();
  });

  describe('malformed repository names → 400 NAME_INVALID on every endpoint', () => {
    for (const [what, name] of BAD_NAMES) {
      it(`${what}: ${name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name}`, async () => {
        const uploads = await uploadFiles();
        for (const [method, suffix, body] of NAME_ENDPOINTS) {
          const res = await req(
            s.url,
            method,
            `/v2/${name}${suffix}`,
            body === undefined ? {} : { body, headers: { 'Content-Type': MT.ociIndex } },
          );
          assertError(res, 400, 'NAME_INVALID', method);
        }
        await assertUnchanged(uploads);
      });
    }

    it('the name length limit is exactly 255', async () => {
      const name = `${'a'.repeat(200)}/${'b'.repeat(54)}`;
      assert.equal(name.length, 255);
      const res = await req(s.url, 'POST', `/v2/${name}/blobs/uploads/`);
      assert.equal(res.status, 202, res.text);
      assert.equal((await req(s.url, 'DELETE', res.headers.location!)).status, 204);
    });

    it('?from= with a malformed name → 400 NAME_INVALID, nothing linked', async () => {
      const uploads = await uploadFiles();
      for (const from of ['UPPER', 'a/../b', 'a%2Fb', '-x']) {
        const res = await req(
          s.url,
          'POST',
          `/v2/${repo}/blobs/uploads/?mount=${sha256('mount')}&from=${encodeURIComponent(from)}`,
        );
        assertError(res, 400, 'NAME_INVALID');
      }
      await assertUnchanged(uploads);
    });
  });

  describe('malformed digests → 400 DIGEST_INVALID in every position', () => {
    const BAD_DIGESTS = [
      'sha256:abc',
      `sha256:${'A'.repeat(64)}`,
      `sha256:${'a'.repeat(65)}`,
      `sha256:${'a'.repeat(63)}`,
      `sha512:${'a'.repeat(64)}`,
      `md5:${'a'.repeat(32)}`,
      `sha256${'a'.repeat(64)}`,
      `:${'a'.repeat(64)}`,
      `SHA256:${'a'.repeat(64)}`,
      `sha256:${'a'.repeat(62)}..`,
      `sha256:${'z'.repeat(64)}`,
    ];

    for (const bad of BAD_DIGESTS) {
      it(`${bad.slice(0, 30)}${bad.length > 30 ? '…' : ''}`, async () => {
        const uploads = await uploadFiles();
        const enc = encodeURIComponent(bad);
        const pathForm = bad.includes(':') ? bad : enc;
        const checks: Array<[string, string, string?]> = [
          ['GET', `/v2/${repo}/blobs/${pathForm}`],
          ['HEAD', `/v2/${repo}/blobs/${pathForm}`],
          ['DELETE', `/v2/${repo}/blobs/${pathForm}`],
          ['GET', `/v2/${repo}/referrers/${pathForm}`],
          ['POST', `/v2/${repo}/blobs/uploads/?digest=${enc}`, 'abc'],
          ['POST', `/v2/${repo}/blobs/uploads/?mount=${enc}&from=${repo}`],
          ['POST', `/v2/${repo}/blobs/uploads/?from=${repo}&mount=${enc}`],
        ];
        if (bad.includes(':')) {
          checks.push(
            ['GET', `/v2/${repo}/manifests/${bad}`],
            ['HEAD', `/v2/${repo}/manifests/${bad}`],
            ['DELETE', `/v2/${repo}/manifests/${bad}`],
          );
          checks.push(['PUT', `/v2/${repo}/manifests/${bad}`, image.bytes.toString()]);
        }
        for (const [method, path, body] of checks) {
          const res = await req(
            s.url,
            method,
            path,
            body === undefined ? {} : { body, headers: { 'Content-Type': MT.ociManifest } },
          );
          assertError(res, 400, 'DIGEST_INVALID', method);
        }
        // PUT ?digest= on a real session: refused, and no blob appears.
        const loc = await startUpload(s.url, repo);
        assertError(await req(s.url, 'PUT', withDigest(loc, bad), { body: 'abc' }), 400, 'DIGEST_INVALID');
        await req(s.url, 'DELETE', loc);
        await assertUnchanged(uploads);
        assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/blobs/${sha256('abc')}`)).status, 404);
      });
    }

    it('a manifest reference that is digest-shaped but wrong for the body → 400 DIGEST_INVALID', async () => {
      const uploads = await uploadFiles();
      assertError(await putManifest(s.url, repo, SOME_DIGEST, image.bytes, MT.ociManifest), 400, 'DIGEST_INVALID');
      await assertUnchanged(uploads);
    });

    it('GET/HEAD of a digest-looking but malformed reference → 400 DIGEST_INVALID', async () => {
      for (const method of ['GET', 'HEAD']) {
        for (const ref of ['sha256:totallywrong', 'sha256:', `sha256:${'0'.repeat(63)}`]) {
          assertError(await req(s.url, method, `/v2/${repo}/manifests/${ref}`), 400, 'DIGEST_INVALID', method);
        }
      }
    });

    it('a malformed percent-escape in a reference → 400', async () => {
      const uploads = await uploadFiles();
      for (const [method, path] of [
        ['GET', `/v2/${repo}/manifests/%E0%A4%A`],
        ['GET', `/v2/${repo}/blobs/%ZZ`],
        ['GET', `/v2/${repo}/referrers/%`],
      ] as const) {
        const res = await req(s.url, method, path);
        assert.equal(res.status, 400, `${method} ${path}: ${res.text}`);
        assert.ok(['DIGEST_INVALID', 'TAG_INVALID'].includes(res.json().errors[0].code));
      }
      await assertUnchanged(uploads);
    });
  });

  describe('malformed tags: GET/HEAD → 404 MANIFEST_UNKNOWN (as distribution and zot), PUT/DELETE → 400 TAG_INVALID', () => {
    const BAD_TAGS = [
      '-latest',
      '.latest',
      '.INVALID_MANIFEST_NAME',
      `a${'b'.repeat(128)}`,
      'tag%20space',
      'tag!',
      'tag%00',
      'caf%C3%A9',
      'tag+1',
      'a%2Fb',
    ];
    for (const tag of BAD_TAGS) {
      it(`${tag.length > 30 ? `${tag.slice(0, 10)}…(${tag.length})` : tag}`, async () => {
        const uploads = await uploadFiles();
        for (const method of ['GET', 'HEAD']) {
          assertError(await req(s.url, method, `/v2/${repo}/manifests/${tag}`), 404, 'MANIFEST_UNKNOWN', method);
        }
        assertError(await req(s.url, 'DELETE', `/v2/${repo}/manifests/${tag}`), 400, 'TAG_INVALID');
        const put = await putManifest(s.url, repo, tag, image.bytes, MT.ociManifest);
        assertError(put, 400, 'TAG_INVALID');
        await assertUnchanged(uploads);
      });
    }
  });

  describe('other refused requests leave no trace', () => {
    it('failed uploads to a never-seen repository do not create it', async () => {
      const fresh = repoName('fresh');
      const uploads = await uploadFiles();
      const attempts: Res[] = [
        await req(s.url, 'POST', `/v2/${fresh}/blobs/uploads/?digest=sha256:bad`, { body: 'abc' }),
        await req(s.url, 'POST', `/v2/${fresh}/blobs/uploads/?digest=${sha256('claimed')}`, { body: 'actual' }),
        await req(s.url, 'POST', `/v2/${fresh}/blobs/uploads/?mount=sha256:bad&from=${repo}`),
      ];
      for (const a of attempts) assertError(a, 400, 'DIGEST_INVALID');
      const doc = {
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: sha256('nope'), size: 4 },
        layers: [],
      };
      assertError(
        await putManifest(s.url, fresh, 'v1', JSON.stringify(doc), MT.ociManifest),
        400,
        'MANIFEST_BLOB_UNKNOWN',
      );
      assertError(await putManifest(s.url, fresh, 'v1', '{bad json', MT.ociManifest), 400, 'MANIFEST_INVALID');
      assertError(await req(s.url, 'GET', `/v2/${fresh}/tags/list`), 404, 'NAME_UNKNOWN');
      assertError(await req(s.url, 'GET', `/v2/${fresh}/manifests/v1`), 404, 'NAME_UNKNOWN');
      await assertUnchanged(uploads);
    });

    it('bad pagination, unknown routes and wrong methods change nothing', async () => {
      const uploads = await uploadFiles();
      assertError(await req(s.url, 'GET', `/v2/${repo}/tags/list?n=-1`), 400, 'PAGINATION_NUMBER_INVALID');
      assertError(await req(s.url, 'GET', '/v2/_catalog?n=x'), 400, 'PAGINATION_NUMBER_INVALID');
      assertError(await req(s.url, 'PUT', `/v2/${repo}/blobs/${blob}`, { body: 'overwrite?' }), 405, 'UNSUPPORTED');
      assertError(await req(s.url, 'POST', `/v2/${repo}/manifests/v1`, { body: '{}' }), 405, 'UNSUPPORTED');
      assertError(await req(s.url, 'DELETE', `/v2/${repo}/tags/list`), 405, 'UNSUPPORTED');
      assertError(await req(s.url, 'DELETE', '/v2/_catalog'), 405, 'UNSUPPORTED');
      assertError(await req(s.url, 'PUT', `/v2/${repo}`, { body: 'x' }), 404, 'UNSUPPORTED');
      await assertUnchanged(uploads);
    });

    it('a refused manifest PUT does not move an existing tag', async () => {
      const uploads = await uploadFiles();
      const doc = JSON.parse(image.bytes.toString());
      doc.layers[0].size += 1;
      assertError(await putManifest(s.url, repo, 'v1', JSON.stringify(doc), MT.ociManifest), 400, 'MANIFEST_INVALID');
      doc.layers[0].size -= 1;
      doc.layers.push({ mediaType: MT.ociLayer, digest: sha256('absent'), size: 6 });
      assertError(
        await putManifest(s.url, repo, 'v1', JSON.stringify(doc), MT.ociManifest),
        400,
        'MANIFEST_BLOB_UNKNOWN',
      );
      await assertUnchanged(uploads);
    });
  });
});
