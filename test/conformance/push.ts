/** 02_push_test.go: the Push workflow. */
import assert from 'node:assert/strict';
import { expect2xx, expectStatus, type Context } from './context.js';
import { chunkedBlob, EMPTY_LAYER_TEST_TAG, MT, NONEXISTENT_MANIFEST } from './fixtures.js';
import type { Response } from './client.js';
import { runOnlyIf, runOnlyIfNot, type SpecTree } from './runner.js';

const OCTET = { 'Content-Type': 'application/octet-stream' };

export function pushWorkflow(t: SpecTree, c: Context): void {
  const { client, fx } = c;
  let lastResponse: Response | undefined;
  let prevResponse: Response | undefined;
  let emptyLayerManifestRef = '';
  const location = (r: Response) => assert.notEqual(r.header('Location'), '', 'Location header is empty');

  t.context('Push', () => {
    t.context('Setup', () => {
      // No setup required at this time for push tests
    });

    t.context('Blob Upload Streamed', () => {
      t.specify('PATCH request with blob in body should yield 202 response', async () => {
        let resp = await client.do('POST', '/v2/<name>/blobs/uploads/');
        location(resp);
        resp = await client.do('PATCH', resp.relativeLocation(), { headers: OCTET, body: fx.blobA.content });
        expectStatus(resp, 202);
        lastResponse = resp;
      });
      t.specify('PUT request to session URL with digest should yield 201 response', async () => {
        assert.ok(lastResponse, 'no previous response');
        const resp = await client.do('PUT', lastResponse.relativeLocation(), {
          query: { digest: fx.blobA.digest },
          headers: { ...OCTET, 'Content-Length': fx.blobA.contentLength },
        });
        expectStatus(resp, 201);
        location(resp);
      });
    });

    t.context('Blob Upload Monolithic', () => {
      const config = fx.configs[1]!;
      t.specify('GET nonexistent blob should result in 404 response', async () => {
        const resp = await client.do('GET', '/v2/<name>/blobs/<digest>', { digest: fx.dummyDigest });
        expectStatus(resp, 404);
      });
      t.specify('POST request with digest and blob should yield a 201 or 202', async () => {
        const resp = await client.do('POST', '/v2/<name>/blobs/uploads/', {
          headers: { ...OCTET, 'Content-Length': config.contentLength },
          query: { digest: config.digest },
          body: config.content,
        });
        location(resp);
        expectStatus(resp, 201, 202);
        lastResponse = resp;
      });
      t.specify(
        'GET request to blob URL from prior request should yield 200 or 404 based on response code',
        async () => {
          assert.ok(lastResponse, 'no previous response');
          const resp = await client.do('GET', '/v2/<name>/blobs/<digest>', { digest: config.digest });
          expectStatus(resp, lastResponse.status === 202 ? 404 : 200);
        },
      );
      t.specify('POST request should yield a session ID', async () => {
        const resp = await client.do('POST', '/v2/<name>/blobs/uploads/');
        expectStatus(resp, 202);
        lastResponse = resp;
      });
      t.specify('PUT upload of a blob should yield a 201 Response', async () => {
        const resp = await client.do('PUT', lastResponse!.relativeLocation(), {
          headers: { ...OCTET, 'Content-Length': config.contentLength },
          query: { digest: config.digest },
          body: config.content,
        });
        location(resp);
        expectStatus(resp, 201);
      });
      t.specify('GET request to existing blob should yield 200 response', async () => {
        const resp = await client.do('GET', '/v2/<name>/blobs/<digest>', { digest: config.digest });
        expectStatus(resp, 200);
      });
      t.specify('PUT upload of a layer blob should yield a 201 Response', async () => {
        let resp = await client.do('POST', '/v2/<name>/blobs/uploads/');
        resp = await client.do('PUT', resp.relativeLocation(), {
          headers: { ...OCTET, 'Content-Length': fx.layer.contentLength },
          query: { digest: fx.layer.digest },
          body: fx.layer.content,
        });
        location(resp);
        expectStatus(resp, 201);
      });
      t.specify('GET request to existing layer should yield 200 response', async () => {
        const resp = await client.do('GET', '/v2/<name>/blobs/<digest>', { digest: fx.layer.digest });
        expectStatus(resp, 200);
      });
    });

    t.context('Blob Upload Chunked', () => {
      t.specify('Out-of-order blob upload should return 416', async () => {
        let resp = await client.do('POST', '/v2/<name>/blobs/uploads/', { headers: { 'Content-Length': '0' } });
        location(resp);
        // rebuild chunked blob if min size is above our chunk size
        const minSizeStr = resp.header('OCI-Chunk-Min-Length');
        if (minSizeStr) {
          const minSize = Number(minSizeStr);
          assert.ok(Number.isInteger(minSize), `OCI-Chunk-Min-Length is not a number: ${minSizeStr}`);
          if (minSize > fx.chunked.chunk1.length) fx.chunked = chunkedBlob(minSize * 2 - 2);
        }
        const ch = fx.chunked;
        resp = await client.do('PATCH', resp.relativeLocation(), {
          headers: { ...OCTET, 'Content-Length': ch.chunk2Length, 'Content-Range': ch.chunk2Range },
          body: ch.chunk2,
        });
        expectStatus(resp, 416);
      });
      t.specify('PATCH request with first chunk should return 202', async () => {
        const ch = fx.chunked;
        let resp = await client.do('POST', '/v2/<name>/blobs/uploads/', { headers: { 'Content-Length': '0' } });
        location(resp);
        prevResponse = resp;
        resp = await client.do('PATCH', resp.relativeLocation(), {
          headers: { ...OCTET, 'Content-Length': ch.chunk1Length, 'Content-Range': ch.chunk1Range },
          body: ch.chunk1,
        });
        expectStatus(resp, 202);
        assert.equal(resp.header('Range'), ch.chunk1Range);
        lastResponse = resp;
      });
      t.specify('Retry previous blob chunk should return 416', async () => {
        const ch = fx.chunked;
        const resp = await client.do('PATCH', prevResponse!.relativeLocation(), {
          headers: { ...OCTET, 'Content-Length': ch.chunk1Length, 'Content-Range': ch.chunk1Range },
          body: ch.chunk1,
        });
        expectStatus(resp, 416);
      });
      t.specify('Get on stale blob upload should return 204 with a range and location', async () => {
        const resp = await client.do('GET', prevResponse!.relativeLocation());
        expectStatus(resp, 204);
        location(resp);
        assert.equal(resp.header('Range'), fx.chunked.chunk1Range);
        lastResponse = resp;
      });
      t.specify('PATCH request with second chunk should return 202', async () => {
        const ch = fx.chunked;
        const resp = await client.do('PATCH', lastResponse!.relativeLocation(), {
          headers: { 'Content-Length': ch.chunk2Length, 'Content-Range': ch.chunk2Range, ...OCTET },
          body: ch.chunk2,
        });
        expectStatus(resp, 202);
        location(resp);
        lastResponse = resp;
      });
      t.specify('PUT request with digest should return 201', async () => {
        const resp = await client.do('PUT', lastResponse!.relativeLocation(), {
          headers: { 'Content-Length': '0', ...OCTET },
          query: { digest: fx.chunked.digest },
        });
        expectStatus(resp, 201);
        location(resp);
      });
    });

    t.context('Cross-Repository Blob Mount', () => {
      const name = c.crossmountNamespace;
      t.specify('Cross-mounting of a blob without the from argument should yield session id', async () => {
        const resp = await client.do('POST', '/v2/<name>/blobs/uploads/', { name, query: { mount: fx.dummyDigest } });
        expectStatus(resp, 202);
        assert.notEqual(resp.absoluteLocation(), '', 'Location header is empty');
      });
      t.specify("POST request to mount another repository's blob should return 201 or 202", async () => {
        const resp = await client.do('POST', '/v2/<name>/blobs/uploads/', {
          name,
          query: { mount: fx.blobA.digest, from: client.defaultName },
        });
        expectStatus(resp, 201, 202);
        lastResponse = resp;
      });
      t.specify('GET request to test digest within cross-mount namespace should return 200', async () => {
        runOnlyIf(lastResponse!.status === 201, `the mount answered ${lastResponse!.status}, not 201`);
        assert.equal(lastResponse!.relativeLocation(), `/v2/${name}/blobs/${fx.blobA.digest}`);
        const resp = await client.do('GET', lastResponse!.relativeLocation());
        expectStatus(resp, 200);
      });
      t.specify('Cross-mounting of nonexistent blob should yield session id', () => {
        runOnlyIf(lastResponse!.status === 202, `the mount answered ${lastResponse!.status}, not 202 (it mounted)`);
        assert.ok(
          lastResponse!.relativeLocation().startsWith(`/v2/${name}/blobs/uploads/`),
          `Location ${lastResponse!.relativeLocation()}`,
        );
      });
      t.specify(
        'Cross-mounting without from, and automatic content discovery enabled should return a 201',
        async () => {
          runOnlyIf(c.runAutomaticCrossmountTest, 'OCI_AUTOMATIC_CROSSMOUNT is not set');
          runOnlyIf(lastResponse!.status === 201, `the mount answered ${lastResponse!.status}, not 201`);
          runOnlyIf(c.automaticCrossmountEnabled, 'OCI_AUTOMATIC_CROSSMOUNT is false');
          const resp = await client.do('POST', '/v2/<name>/blobs/uploads/', {
            name,
            query: { mount: fx.blobA.digest },
          });
          expectStatus(resp, 201);
        },
      );
      t.specify(
        'Cross-mounting without from, and automatic content discovery disabled should return a 202',
        async () => {
          runOnlyIf(c.runAutomaticCrossmountTest, 'OCI_AUTOMATIC_CROSSMOUNT is not set');
          runOnlyIf(lastResponse!.status === 201, `the mount answered ${lastResponse!.status}, not 201`);
          runOnlyIfNot(c.automaticCrossmountEnabled, 'OCI_AUTOMATIC_CROSSMOUNT is true');
          const resp = await client.do('POST', '/v2/<name>/blobs/uploads/', {
            name,
            query: { mount: fx.blobA.digest },
          });
          expectStatus(resp, 202);
        },
      );
    });

    t.context('Manifest Upload', () => {
      t.specify('GET nonexistent manifest should return 404', async () => {
        const resp = await client.do('GET', '/v2/<name>/manifests/<reference>', { reference: NONEXISTENT_MANIFEST });
        expectStatus(resp, 404);
      });
      t.specify('PUT should accept a manifest upload', async () => {
        for (let i = 0; i < 4; i++) {
          const resp = await client.do('PUT', '/v2/<name>/manifests/<reference>', {
            reference: `test${i}`,
            headers: { 'Content-Type': MT.manifest },
            body: fx.manifests[1]!.content,
          });
          location(resp);
          expectStatus(resp, 201);
        }
      });
      t.specify('Registry should accept a manifest upload with no layers', async () => {
        const resp = await client.do('PUT', '/v2/<name>/manifests/<reference>', {
          reference: EMPTY_LAYER_TEST_TAG,
          headers: { 'Content-Type': MT.manifest },
          body: fx.emptyLayerManifest.content,
        });
        if (resp.status === 201) {
          emptyLayerManifestRef = resp.header('Location');
          location(resp);
        } else {
          c.warn('image manifest with no layers is not supported');
        }
      });
      t.specify('GET request to manifest URL (digest) should yield 200 response', async () => {
        const resp = await client.do('GET', '/v2/<name>/manifests/<digest>', {
          digest: fx.manifests[1]!.digest,
          headers: { Accept: MT.manifest },
        });
        expectStatus(resp, 200);
      });
    });

    t.context('Teardown', () => {
      const deleteManifest = () =>
        t.specify('Delete manifest created in tests', async () => {
          runOnlyIf(c.runPushSetup, 'push setup is off');
          let resp = await client.do('DELETE', '/v2/<name>/manifests/<digest>', { digest: fx.manifests[1]!.digest });
          expect2xx(resp, 405);
          if (emptyLayerManifestRef) {
            resp = await client.do('DELETE', '/v2/<name>/manifests/<reference>', {
              reference: fx.emptyLayerManifest.digest,
            });
            expect2xx(resp, 405);
          }
        });
      if (c.deleteManifestBeforeBlobs) deleteManifest();
      t.specify('Delete config blob created in tests', async () => {
        runOnlyIf(c.runPushSetup, 'push setup is off');
        const resp = await client.do('DELETE', '/v2/<name>/blobs/<digest>', { digest: fx.configs[1]!.digest });
        expect2xx(resp, 404, 405);
      });
      t.specify('Delete layer blob created in setup', async () => {
        runOnlyIf(c.runPushSetup, 'push setup is off');
        const resp = await client.do('DELETE', '/v2/<name>/blobs/<digest>', { digest: fx.layer.digest });
        expect2xx(resp, 404, 405);
      });
      if (!c.deleteManifestBeforeBlobs) deleteManifest();
    });
  });
}
