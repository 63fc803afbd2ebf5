/** 03_discovery_test.go: the Content Discovery workflow (tag listing and referrers). */
import assert from 'node:assert/strict';
import { expectStatus, tagListOf, type Context } from './context.js';
import { ANNOTATION_KEY, ARTIFACT_TYPE_FILTER, MT, TEST_TAG_NAME } from './fixtures.js';
import type { Response } from './client.js';
import { runOnlyIf, runOnlyIfNot, type SpecTree } from './runner.js';

interface IndexBody {
  manifests?: { digest: string; annotations?: Record<string, string> }[];
}

export function discoveryWorkflow(t: SpecTree, c: Context): void {
  const { client, fx } = c;
  let numTags = 4;
  let tagList: string[] = [];
  let blobRefs: string[] = [];
  let manifestRefs: string[] = [];

  const referrers = (r: Response): NonNullable<IndexBody['manifests']> => {
    expectStatus(r, 200);
    assert.equal(r.header('Content-Type'), MT.index);
    const index = JSON.parse(r.text()) as IndexBody;
    return index.manifests ?? [];
  };
  const checkAnnotations = (manifests: NonNullable<IndexBody['manifests']>) => {
    for (const m of manifests) {
      assert.equal(Object.keys(m.annotations ?? {}).length, 1, `annotations of ${m.digest}`);
      assert.equal(
        m.annotations?.[ANNOTATION_KEY],
        fx.annotationValues.get(m.digest) ?? '',
        `annotation of ${m.digest}`,
      );
    }
  };

  t.context('Content Discovery', () => {
    t.context('Setup', () => {
      t.specify('Populate registry with test blob', async () => {
        runOnlyIf(c.runContentDiscoverySetup, 'OCI_TAG_LIST is set, so content discovery lists existing tags');
        blobRefs = await c.pushBlob(fx.configs[2]!, blobRefs);
      });
      t.specify('Populate registry with test layer', async () => {
        runOnlyIf(c.runContentDiscoverySetup, 'OCI_TAG_LIST is set, so content discovery lists existing tags');
        blobRefs = await c.pushBlob(fx.layer, blobRefs);
      });
      t.specify('Populate registry with test tags', async () => {
        runOnlyIf(c.runContentDiscoverySetup, 'OCI_TAG_LIST is set, so content discovery lists existing tags');
        for (let i = 0; i < numTags; i++) {
          for (const tag of [`test${i}`, `TEST${i}`]) {
            tagList.push(tag);
            manifestRefs = await c.pushManifest({ tag, ...fx.manifests[2]! }, manifestRefs);
          }
        }
        const resp = await client.do('GET', '/v2/<name>/tags/list');
        tagList = tagListOf(resp);
      });
      t.specify('Populate registry with test tags (no push)', () => {
        runOnlyIfNot(c.runContentDiscoverySetup, 'content discovery pushes its own tags (OCI_TAG_LIST not set)');
        tagList = c.options.tagList ?? [];
      });
      t.specify('References setup', async () => {
        runOnlyIf(c.runContentDiscoverySetup, 'OCI_TAG_LIST is set, so content discovery lists existing tags');
        // validate expected empty JSON blob digest
        assert.equal(
          fx.emptyJsonBlob.digest,
          'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        );
        blobRefs = await c.pushBlob(fx.emptyJsonBlob, blobRefs);
        // reference blob before the image manifest is pushed
        blobRefs = await c.pushBlob(fx.refBlobA, blobRefs);
        const subject = fx.manifests[4]!.digest;
        manifestRefs = await c.pushManifest({ ...fx.refsManifestAConfigArtifact, subject }, manifestRefs);
        manifestRefs = await c.pushManifest({ ...fx.refsManifestALayerArtifact, subject }, manifestRefs);
        manifestRefs = await c.pushManifest({ index: true, ...fx.refsIndexArtifact, subject }, manifestRefs);
        blobRefs = await c.pushBlob(fx.configs[4]!, blobRefs);
        blobRefs = await c.pushBlob(fx.layer, blobRefs);
        manifestRefs = await c.pushManifest({ tag: TEST_TAG_NAME, ...fx.manifests[4]! }, manifestRefs);
        // reference blob after the image manifest is pushed
        blobRefs = await c.pushBlob(fx.refBlobB, blobRefs);
        manifestRefs = await c.pushManifest({ ...fx.refsManifestBConfigArtifact, subject }, manifestRefs);
        manifestRefs = await c.pushManifest({ ...fx.refsManifestBLayerArtifact, subject }, manifestRefs);
        // a referrer whose subject does not exist
        manifestRefs = await c.pushManifest(
          { ...fx.refsManifestCLayerArtifact, subject: fx.manifests[3]!.digest },
          manifestRefs,
        );
      });
    });

    t.context('Test content discovery endpoints (listing tags)', () => {
      t.specify('GET request to list tags should yield 200 response and be in sorted order', async () => {
        const resp = await client.do('GET', '/v2/<name>/tags/list');
        expectStatus(resp, 200);
        tagList = tagListOf(resp);
        numTags = tagList.length;
        // lexical (case-insensitive) order, or historically plain byte order
        const lexical = [...tagList].sort((a, b) => cmp(a.toLowerCase(), b.toLowerCase()));
        const asciibetical = [...tagList].sort(cmp);
        assert.ok(same(tagList, lexical) || same(tagList, asciibetical), `tags not sorted: ${JSON.stringify(tagList)}`);
      });
      t.specify('GET number of tags should be limitable by `n` query parameter', async () => {
        const numResults = Math.trunc(numTags / 2);
        const resp = await client.do('GET', '/v2/<name>/tags/list', { query: { n: String(numResults) } });
        expectStatus(resp, 200);
        tagList = tagListOf(resp);
        assert.equal(tagList.length, numResults);
      });
      t.specify('GET start of tag is set by `last` query parameter', async () => {
        const numResults = Math.trunc(numTags / 2);
        let resp = await client.do('GET', '/v2/<name>/tags/list', { query: { n: String(numResults) } });
        expectStatus(resp, 200);
        tagList = tagListOf(resp);
        const last = tagList[numResults - 1];
        if (last === undefined) throw new Error(`index out of range [${numResults - 1}] with length ${tagList.length}`);
        resp = await client.do('GET', '/v2/<name>/tags/list', { query: { n: String(numResults), last } });
        expectStatus(resp, 200);
        tagList = tagListOf(resp);
        assert.ok(tagList.length <= numResults, `${tagList.length} tags, want at most ${numResults}`);
        assert.ok(!tagList.includes(last), `${last} listed again`);
      });
    });

    t.context('Test content discovery endpoints (listing references)', () => {
      t.specify('GET request to nonexistent blob should result in empty 200 response', async () => {
        const resp = await client.do('GET', '/v2/<name>/referrers/<digest>', { digest: fx.dummyDigest });
        assert.equal(referrers(resp).length, 0);
      });
      t.specify('GET request to existing blob should yield 200', async () => {
        const resp = await client.do('GET', '/v2/<name>/referrers/<digest>', { digest: fx.manifests[4]!.digest });
        const manifests = referrers(resp);
        assert.equal(manifests.length, 5);
        assert.notEqual(manifests[0]!.digest, manifests[1]!.digest);
        checkAnnotations(manifests);
      });
      t.specify('GET request to existing blob with filter should yield 200', async () => {
        const resp = await client.do('GET', '/v2/<name>/referrers/<digest>', {
          digest: fx.manifests[4]!.digest,
          query: { artifactType: fx.refArtifactTypeA },
        });
        const manifests = referrers(resp);
        // OCI-Filters-Applied: artifactType says the filter was applied
        if (resp.header('OCI-Filters-Applied')) {
          assert.equal(manifests.length, 2);
          assert.equal(resp.header('OCI-Filters-Applied'), ARTIFACT_TYPE_FILTER);
        } else {
          assert.equal(manifests.length, 5);
          c.warn('filtering by artifact-type is not implemented');
        }
        checkAnnotations(manifests);
      });
      t.specify('GET request to missing manifest should yield 200', async () => {
        const resp = await client.do('GET', '/v2/<name>/referrers/<digest>', { digest: fx.manifests[3]!.digest });
        const manifests = referrers(resp);
        assert.equal(manifests.length, 1);
        assert.equal(manifests[0]!.digest, fx.refsManifestCLayerArtifact.digest);
      });
    });

    t.context('Teardown', () => {
      const deleteManifests = () =>
        t.specify('Delete created manifest & associated tags', async () => {
          runOnlyIf(c.runContentDiscoverySetup, 'OCI_TAG_LIST is set, so content discovery lists existing tags');
          await c.deleteManifests(manifestRefs);
        });
      if (c.deleteManifestBeforeBlobs) deleteManifests();
      t.specify('Delete blobs created in tests', async () => {
        runOnlyIf(c.runContentDiscoverySetup, 'OCI_TAG_LIST is set, so content discovery lists existing tags');
        await c.deleteBlobs(blobRefs);
      });
      if (!c.deleteManifestBeforeBlobs) deleteManifests();
    });
  });
}

/** Go's string comparison: bytewise (UTF-16 code units are the same for ASCII tags). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
