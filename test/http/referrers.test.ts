/** end-12a/12b: the referrers API. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import {
  EMPTY_JSON_DIGEST,
  MT,
  ZERO_DIGEST,
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
  type Pushed,
  type Res,
} from './helpers.js';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

function assertIndex(res: Res): Descriptor[] {
  assert.equal(res.status, 200, res.text);
  assertApiVersion(res);
  assert.deepEqual(rawHeader(res, 'content-type'), [MT.ociIndex], 'exact referrers Content-Type');
  const body = res.json();
  assert.equal(body.schemaVersion, 2);
  assert.equal(body.mediaType, MT.ociIndex);
  assert.ok(Array.isArray(body.manifests));
  assert.equal(res.headers['content-length'], String(res.body.length));
  return body.manifests as Descriptor[];
}

describe('referrers', () => {
  let s: InProcessStowage;
  const repo = repoName('refs');
  let subject: Pushed;
  let sig: Pushed;
  let sbom: Pushed;
  let legacy: Pushed;
  let idxRef: Pushed;
  let typedIdx: Pushed;

  before(async () => {
    s = await startInProcess({ fsync: false });
    subject = await pushImage(s.url, repo, 'app');
    const subj = { mediaType: MT.ociManifest, digest: subject.digest, size: subject.size };
    await pushBlob(s.url, repo, '{}');
    const empty = { mediaType: MT.empty, digest: EMPTY_JSON_DIGEST, size: 2 };
    const sigLayer = await pushBlob(s.url, repo, 'signature bytes');
    sig = await pushManifest(
      s.url,
      repo,
      'digest-sig',
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociManifest,
          artifactType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          config: empty,
          layers: [
            {
              mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
              digest: sigLayer.digest,
              size: sigLayer.size,
            },
          ],
          subject: subj,
          annotations: {
            'org.opencontainers.image.created': '2024-01-01T00:00:00Z',
            'dev.sigstore.cosign/signature': 'MEUC',
          },
        }),
      ),
      MT.ociManifest,
    );
    const sbomLayer = await pushBlob(s.url, repo, '{"spdxVersion":"SPDX-2.3"}');
    sbom = await pushManifest(
      s.url,
      repo,
      'digest-sbom',
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociManifest,
          artifactType: 'application/spdx+json',
          config: empty,
          layers: [{ mediaType: 'application/spdx+json', digest: sbomLayer.digest, size: sbomLayer.size }],
          subject: subj,
        }),
      ),
      MT.ociManifest,
    );
    // No artifactType: the config media type stands in.
    const cfg = await pushBlob(s.url, repo, '{"legacy":true}');
    legacy = await pushManifest(
      s.url,
      repo,
      'digest-legacy',
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociManifest,
          config: { mediaType: 'application/vnd.example.legacy.config.v1+json', digest: cfg.digest, size: cfg.size },
          layers: [],
          subject: subj,
        }),
      ),
      MT.ociManifest,
    );
    // An index referrer without artifactType: the field is omitted.
    idxRef = await pushManifest(
      s.url,
      repo,
      'digest-idx',
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociIndex,
          manifests: [],
          subject: subj,
          annotations: { k: 'v' },
        }),
      ),
      MT.ociIndex,
    );
    typedIdx = await pushManifest(
      s.url,
      repo,
      'digest-typed',
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MT.ociIndex,
          artifactType: 'application/spdx+json',
          manifests: [],
          subject: subj,
        }),
      ),
      MT.ociIndex,
    );
  });
  after(async () => {
    await s.stop();
  });

  it('all referrers of the subject, with their descriptors', async () => {
    const list = assertIndex(await req(s.url, 'GET', `/v2/${repo}/referrers/${subject.digest}`));
    assert.equal(list.length, 5);
    const byDigest = new Map(list.map((d) => [d.digest, d]));
    assert.deepEqual(byDigest.get(sig.digest), {
      mediaType: MT.ociManifest,
      digest: sig.digest,
      size: sig.size,
      artifactType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      annotations: {
        'org.opencontainers.image.created': '2024-01-01T00:00:00Z',
        'dev.sigstore.cosign/signature': 'MEUC',
      },
    });
    assert.deepEqual(byDigest.get(sbom.digest), {
      mediaType: MT.ociManifest,
      digest: sbom.digest,
      size: sbom.size,
      artifactType: 'application/spdx+json',
    });
    assert.deepEqual(byDigest.get(legacy.digest), {
      mediaType: MT.ociManifest,
      digest: legacy.digest,
      size: legacy.size,
      artifactType: 'application/vnd.example.legacy.config.v1+json',
    });
    assert.deepEqual(byDigest.get(idxRef.digest), {
      mediaType: MT.ociIndex,
      digest: idxRef.digest,
      size: idxRef.size,
      annotations: { k: 'v' },
    });
    assert.deepEqual(byDigest.get(typedIdx.digest), {
      mediaType: MT.ociIndex,
      digest: typedIdx.digest,
      size: typedIdx.size,
      artifactType: 'application/spdx+json',
    });
    assert.ok(!list.some((d) => d.digest === subject.digest), 'the subject is not its own referrer');
  });

  it('HEAD → 200 with the index Content-Type and no body', async () => {
    const res = await req(s.url, 'HEAD', `/v2/${repo}/referrers/${subject.digest}`);
    assert.equal(res.status, 200);
    assert.deepEqual(rawHeader(res, 'content-type'), [MT.ociIndex]);
    assert.equal(res.body.length, 0);
  });

  it('artifactType filter → only matching, OCI-Filters-Applied: artifactType', async () => {
    const res = await req(
      s.url,
      'GET',
      `/v2/${repo}/referrers/${subject.digest}?artifactType=${encodeURIComponent('application/spdx+json')}`,
    );
    const list = assertIndex(res);
    assert.equal(res.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(list.map((d) => d.digest).sort(), [sbom.digest, typedIdx.digest].sort());
  });

  it('artifactType filter matches the config-type fallback too', async () => {
    const res = await req(
      s.url,
      'GET',
      `/v2/${repo}/referrers/${subject.digest}?artifactType=application/vnd.example.legacy.config.v1%2Bjson`,
    );
    const list = assertIndex(res);
    assert.equal(res.headers['oci-filters-applied'], 'artifactType');
    assert.deepEqual(
      list.map((d) => d.digest),
      [legacy.digest],
    );
  });

  it('artifactType filter with no match → 200 empty, header still set', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/referrers/${subject.digest}?artifactType=application/x-none`);
    assert.deepEqual(assertIndex(res), []);
    assert.equal(res.headers['oci-filters-applied'], 'artifactType');
  });

  it('no filter → no OCI-Filters-Applied header', async () => {
    const res = await req(s.url, 'GET', `/v2/${repo}/referrers/${subject.digest}`);
    assertIndex(res);
    assert.equal(res.headers['oci-filters-applied'], undefined);
  });

  it('unknown subject → 200 empty index', async () => {
    assert.deepEqual(assertIndex(await req(s.url, 'GET', `/v2/${repo}/referrers/${sha256('unknown subject')}`)), []);
  });

  it('the all-zero digest (oras probe) → 200 empty index', async () => {
    assert.deepEqual(assertIndex(await req(s.url, 'GET', `/v2/${repo}/referrers/${ZERO_DIGEST}`)), []);
  });

  it('unknown repository → 200 empty index', async () => {
    assert.deepEqual(assertIndex(await req(s.url, 'GET', `/v2/${repoName('norepo')}/referrers/${subject.digest}`)), []);
  });

  it('referrers are per repository', async () => {
    const other = repoName('otherrefs');
    await pushImage(s.url, other, 'x');
    assert.deepEqual(assertIndex(await req(s.url, 'GET', `/v2/${other}/referrers/${subject.digest}`)), []);
  });

  it('a subject that does not exist yet still lists its referrers', async () => {
    const r = repoName('dangling');
    const ghost = sha256('future subject');
    const doc = await imageManifest(s.url, r, {
      extra: {
        artifactType: 'application/vnd.example.x',
        subject: { mediaType: MT.ociManifest, digest: ghost, size: 3 },
      },
    });
    const m = await pushManifest(s.url, r, 'sig', doc, MT.ociManifest);
    const list = assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${ghost}`));
    assert.deepEqual(list, [
      { mediaType: MT.ociManifest, digest: m.digest, size: m.size, artifactType: 'application/vnd.example.x' },
    ]);
  });

  it('the subject digest may be percent-encoded', async () => {
    const list = assertIndex(await req(s.url, 'GET', `/v2/${repo}/referrers/${subject.digest.replace(':', '%3A')}`));
    assert.equal(list.length, 5);
  });

  for (const bad of ['sha256:abc', 'latest', `sha256:${'A'.repeat(64)}`, `md5:${'0'.repeat(32)}`, '%ZZ']) {
    it(`malformed digest ${bad} → 400 DIGEST_INVALID`, async () => {
      assertError(await req(s.url, 'GET', `/v2/${repo}/referrers/${bad}`), 400, 'DIGEST_INVALID');
    });
  }

  it('a referrer is removed after its DELETE by digest; deleting the subject keeps the others', async () => {
    const r = repoName('refdel');
    const subj = await pushImage(s.url, r, 'app');
    const sd = { mediaType: MT.ociManifest, digest: subj.digest, size: subj.size };
    const a = await pushManifest(
      s.url,
      r,
      'a',
      await imageManifest(s.url, r, { extra: { subject: sd, artifactType: 'application/a' } }),
      MT.ociManifest,
    );
    const b = await pushManifest(
      s.url,
      r,
      'b',
      await imageManifest(s.url, r, { extra: { subject: sd, artifactType: 'application/b' } }),
      MT.ociManifest,
    );
    assert.equal(assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${subj.digest}`)).length, 2);
    assert.equal((await req(s.url, 'DELETE', `/v2/${r}/manifests/${a.digest}`)).status, 202);
    assert.deepEqual(
      assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${subj.digest}`)).map((d) => d.digest),
      [b.digest],
    );
    // Deleting only the tag of a referrer keeps it listed.
    assert.equal((await req(s.url, 'DELETE', `/v2/${r}/manifests/b`)).status, 202);
    assert.deepEqual(
      assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${subj.digest}`)).map((d) => d.digest),
      [b.digest],
    );
    // The subject going away leaves its referrers (orphans are allowed).
    assert.equal((await req(s.url, 'DELETE', `/v2/${r}/manifests/${subj.digest}`)).status, 202);
    assert.deepEqual(
      assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${subj.digest}`)).map((d) => d.digest),
      [b.digest],
    );
  });

  it('empty annotations ({}) are omitted from the descriptor', async () => {
    const r = repoName('noannot');
    const ghost = sha256('annotated subject');
    const doc = await imageManifest(s.url, r, {
      extra: {
        artifactType: 'application/a',
        annotations: {},
        subject: { mediaType: MT.ociManifest, digest: ghost, size: 1 },
      },
    });
    const m = await pushManifest(s.url, r, 'x', doc, MT.ociManifest);
    assert.deepEqual(assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${ghost}`)), [
      { mediaType: MT.ociManifest, digest: m.digest, size: m.size, artifactType: 'application/a' },
    ]);
  });

  it('an empty artifactType is accepted: manifests fall back to the config type, indexes omit it', async () => {
    // distribution-spec v1.1 (referrers): "If the artifactType is empty or missing in an image
    // manifest, the value of artifactType MUST be set to the config descriptor mediaType value."
    const r = repoName('emptyat');
    const ghost = sha256('empty artifactType subject');
    const subj = { mediaType: MT.ociManifest, digest: ghost, size: 1 };
    const doc = await imageManifest(s.url, r, { extra: { artifactType: '', subject: subj } });
    const put = await putManifest(s.url, r, 'm', JSON.stringify(doc), MT.ociManifest);
    assert.equal(put.status, 201, put.text);
    assert.equal(put.headers['oci-subject'], ghost);
    const idx = await putManifest(
      s.url,
      r,
      'i',
      JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, artifactType: '', manifests: [], subject: subj }),
      MT.ociIndex,
    );
    assert.equal(idx.status, 201, idx.text);
    const list = assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${ghost}`));
    const byType = new Map(list.map((d) => [d.mediaType, d]));
    assert.equal(byType.get(MT.ociManifest)?.artifactType, MT.ociConfig);
    assert.equal(byType.get(MT.ociIndex)?.artifactType, undefined);
  });

  it('referrers are listed newest first', async () => {
    const r = repoName('order');
    const subj = await pushImage(s.url, r, 'app');
    const sd = { mediaType: MT.ociManifest, digest: subj.digest, size: subj.size };
    const pushed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await pushManifest(
        s.url,
        r,
        `r${i}`,
        await imageManifest(s.url, r, { extra: { subject: sd, artifactType: `application/n${i}` } }),
        MT.ociManifest,
      );
      pushed.push(m.digest);
      await new Promise((res) => setTimeout(res, 5));
    }
    const list = assertIndex(await req(s.url, 'GET', `/v2/${r}/referrers/${subj.digest}`));
    assert.deepEqual(
      list.map((d) => d.digest),
      [...pushed].reverse(),
    );
  });
});
