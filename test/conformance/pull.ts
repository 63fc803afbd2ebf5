/** 01_pull_test.go: the Pull workflow. */
import assert from 'node:assert/strict';
import { expectStatus, type Context } from './context.js';
import { ERROR_CODES, MT, NONEXISTENT_MANIFEST, TEST_TAG_NAME } from './fixtures.js';
import { runOnlyIf, runOnlyIfNot, type SpecTree } from './runner.js';

export function pullWorkflow(t: SpecTree, c: Context): void {
  const { client, fx } = c;
  let tag = '';
  let blobRefs: string[] = [];
  let manifestRefs: string[] = [];
  const accept = { Accept: MT.manifest };

  t.context('Pull', () => {
    t.context('Setup', () => {
      t.specify('Populate registry with test blob', async () => {
        runOnlyIf(
          c.runPullSetup,
          'OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are set, so pull reads existing content',
        );
        blobRefs = await c.pushBlob(fx.configs[0]!, blobRefs);
      });
      t.specify('Populate registry with test blob', async () => {
        runOnlyIf(
          c.runPullSetup,
          'OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are set, so pull reads existing content',
        );
        blobRefs = await c.pushBlob(fx.configs[1]!, blobRefs);
      });
      t.specify('Populate registry with test layer', async () => {
        runOnlyIf(
          c.runPullSetup,
          'OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are set, so pull reads existing content',
        );
        blobRefs = await c.pushBlob(fx.layer, blobRefs);
      });
      t.specify('Populate registry with test manifest', async () => {
        runOnlyIf(
          c.runPullSetup,
          'OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are set, so pull reads existing content',
        );
        tag = TEST_TAG_NAME;
        manifestRefs = await c.pushManifest({ tag, ...fx.manifests[0]! }, manifestRefs);
      });
      t.specify('Populate registry with test manifest', async () => {
        runOnlyIf(
          c.runPullSetup,
          'OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are set, so pull reads existing content',
        );
        manifestRefs = await c.pushManifest({ ...fx.manifests[1]! }, manifestRefs);
      });
      t.specify('Get tag name from environment', () => {
        runOnlyIfNot(
          c.runPullSetup,
          'pull pushes its own content (OCI_TAG_NAME, OCI_MANIFEST_DIGEST, OCI_BLOB_DIGEST not all set)',
        );
        if (c.options.tagName) tag = c.options.tagName;
      });
    });

    t.context('Pull blobs', () => {
      t.specify('HEAD request to nonexistent blob should result in 404 response', async () => {
        const resp = await client.do('HEAD', '/v2/<name>/blobs/<digest>', { digest: fx.dummyDigest });
        expectStatus(resp, 404);
      });
      t.specify('HEAD request to existing blob should yield 200', async () => {
        const resp = await client.do('HEAD', '/v2/<name>/blobs/<digest>', { digest: fx.configs[0]!.digest });
        expectStatus(resp, 200);
        const h = resp.header('Docker-Content-Digest');
        if (h) assert.equal(h, fx.configs[0]!.digest);
      });
      t.specify('GET nonexistent blob should result in 404 response', async () => {
        const resp = await client.do('GET', '/v2/<name>/blobs/<digest>', { digest: fx.dummyDigest });
        expectStatus(resp, 404);
      });
      t.specify('GET request to existing blob URL should yield 200', async () => {
        const resp = await client.do('GET', '/v2/<name>/blobs/<digest>', { digest: fx.configs[0]!.digest });
        expectStatus(resp, 200);
      });
    });

    t.context('Pull manifests', () => {
      t.specify('HEAD request to nonexistent manifest should return 404', async () => {
        const resp = await client.do('HEAD', '/v2/<name>/manifests/<reference>', { reference: NONEXISTENT_MANIFEST });
        expectStatus(resp, 404);
      });
      for (const i of [0, 1]) {
        t.specify(`HEAD request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          const resp = await client.do('HEAD', '/v2/<name>/manifests/<digest>', {
            digest: fx.manifests[i]!.digest,
            headers: accept,
          });
          expectStatus(resp, 200);
          const h = resp.header('Docker-Content-Digest');
          if (h) assert.equal(h, fx.manifests[i]!.digest);
        });
      }
      t.specify('HEAD request to manifest path (tag) should yield 200 response', async () => {
        assert.notEqual(tag, '', 'tag is empty');
        const resp = await client.do('HEAD', '/v2/<name>/manifests/<reference>', { reference: tag, headers: accept });
        expectStatus(resp, 200);
        const h = resp.header('Docker-Content-Digest');
        if (h) assert.equal(h, fx.manifests[0]!.digest);
      });
      t.specify('GET nonexistent manifest should return 404', async () => {
        const resp = await client.do('GET', '/v2/<name>/manifests/<reference>', { reference: NONEXISTENT_MANIFEST });
        expectStatus(resp, 404);
      });
      for (const i of [0, 1]) {
        t.specify(`GET request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          const resp = await client.do('GET', '/v2/<name>/manifests/<digest>', {
            digest: fx.manifests[i]!.digest,
            headers: accept,
          });
          expectStatus(resp, 200);
        });
      }
      t.specify('GET request to manifest path (tag) should yield 200 response', async () => {
        assert.notEqual(tag, '', 'tag is empty');
        const resp = await client.do('GET', '/v2/<name>/manifests/<reference>', { reference: tag, headers: accept });
        expectStatus(resp, 200);
      });
    });

    t.context('Error codes', () => {
      t.specify('400 response body should contain OCI-conforming JSON message', async () => {
        const resp = await client.do('GET', '/v2/<name>/manifests/<reference>', {
          reference: 'sha256:totallywrong',
          headers: { 'Content-Type': MT.manifest },
          body: fx.invalidManifestContent,
        });
        expectStatus(resp, 400, 404);
        if (resp.status === 400) {
          const errors = resp.errors();
          assert.ok(errors.length > 0, 'no errors in the body');
          assert.ok(ERROR_CODES.includes(errors[0]!.code), `unknown error code ${errors[0]!.code}`);
        }
      });
    });

    t.context('Teardown', () => {
      const deleteManifests = () =>
        t.specify('Delete manifests created in setup', async () => {
          runOnlyIf(
            c.runPullSetup,
            'OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are set, so pull reads existing content',
          );
          await c.deleteManifests(manifestRefs);
        });
      if (c.deleteManifestBeforeBlobs) deleteManifests();
      t.specify('Delete blobs created in setup', async () => {
        runOnlyIf(
          c.runPullSetup,
          'OCI_TAG_NAME, OCI_MANIFEST_DIGEST and OCI_BLOB_DIGEST are set, so pull reads existing content',
        );
        await c.deleteBlobs(blobRefs);
      });
      if (!c.deleteManifestBeforeBlobs) deleteManifests();
    });
  });
}
