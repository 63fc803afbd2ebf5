/** 04_management_test.go: the Content Management workflow (deletes). */
import assert from 'node:assert/strict';
import { expect2xx, expectStatus, type Context } from './context.js';
import { ERROR_CODES, MT } from './fixtures.js';
import { runOnlyIf, type SpecTree } from './runner.js';

const DEFAULT_TAG_NAME = 'tagtest0';
const UNSUPPORTED = ERROR_CODES.indexOf('UNSUPPORTED');

export function managementWorkflow(t: SpecTree, c: Context): void {
  const { client, fx } = c;
  let tagToDelete = '';
  let numTags = 0;
  let blobDeleteAllowed = true;
  const config = fx.configs[3]!;
  const manifest = fx.manifests[3]!;
  const countTags = async (): Promise<number> => {
    const resp = await client.do('GET', '/v2/<name>/tags/list');
    expectStatus(resp, 200);
    const body = JSON.parse(resp.text()) as { tags?: string[] | null };
    return body.tags?.length ?? 0;
  };

  t.context('Content Management', () => {
    t.context('Setup', () => {
      t.specify('Populate registry with test config blob', async () => {
        runOnlyIf(c.runContentManagementSetup, 'content management setup is off');
        let resp = await client.do('POST', '/v2/<name>/blobs/uploads/');
        resp = await client.do('PUT', resp.relativeLocation(), {
          headers: { 'Content-Length': config.contentLength, 'Content-Type': 'application/octet-stream' },
          query: { digest: config.digest },
          body: config.content,
        });
        expect2xx(resp);
      });
      t.specify('Populate registry with test layer', async () => {
        runOnlyIf(c.runContentManagementSetup, 'content management setup is off');
        let resp = await client.do('POST', '/v2/<name>/blobs/uploads/');
        resp = await client.do('PUT', resp.relativeLocation(), {
          query: { digest: fx.layer.digest },
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': fx.layer.contentLength },
          body: fx.layer.content,
        });
        expect2xx(resp);
      });
      t.specify('Populate registry with test tag', async () => {
        runOnlyIf(c.runContentManagementSetup, 'content management setup is off');
        tagToDelete = DEFAULT_TAG_NAME;
        const resp = await client.do('PUT', '/v2/<name>/manifests/<reference>', {
          reference: tagToDelete,
          headers: { 'Content-Type': MT.manifest },
          body: manifest.content,
        });
        expect2xx(resp);
      });
      t.specify('Check how many tags there are before anything gets deleted', async () => {
        runOnlyIf(c.runContentManagementSetup, 'content management setup is off');
        numTags = await countTags();
      });
    });

    t.context('Manifest delete', () => {
      t.specify(
        'DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)',
        async () => {
          const resp = await client.do('DELETE', '/v2/<name>/manifests/<reference>', { reference: tagToDelete });
          expectStatus(resp, 400, 202, 405);
          if (resp.status === 400) {
            const errors = resp.errors();
            assert.ok(errors.length > 0, 'no errors in the body');
            assert.equal(errors[0]!.code, ERROR_CODES[UNSUPPORTED]);
          }
        },
      );
      t.specify('DELETE request to manifest (digest) should yield 202 response unless already deleted', async () => {
        const resp = await client.do('DELETE', '/v2/<name>/manifests/<digest>', { digest: manifest.digest });
        // In the case that the previous request was accepted, this may or may not fail (which is ok)
        expectStatus(resp, 202, 404);
      });
      t.specify(
        'GET request to deleted manifest URL should yield 404 response, unless delete is disallowed',
        async () => {
          const resp = await client.do('GET', '/v2/<name>/manifests/<digest>', { digest: manifest.digest });
          expectStatus(resp, 404, 200);
        },
      );
      t.specify('GET request to tags list should reflect manifest deletion', async () => {
        const n = await countTags();
        assert.ok(n < numTags, `${n} tags after the delete, ${numTags} before`);
      });
    });

    t.context('Blob delete', () => {
      t.specify('DELETE request to blob URL should yield 202 response', async () => {
        runOnlyIf(c.runContentManagementSetup, 'content management setup is off');
        let resp = await client.do('DELETE', '/v2/<name>/blobs/<digest>', { digest: config.digest });
        expectStatus(resp, 202, 404, 405);
        resp = await client.do('DELETE', '/v2/<name>/blobs/<digest>', { digest: fx.layer.digest });
        expectStatus(resp, 202, 404, 405);
        if (resp.status === 405) blobDeleteAllowed = false;
      });
      t.specify('GET request to deleted blob URL should yield 404 response', async () => {
        runOnlyIf(c.runContentManagementSetup, 'content management setup is off');
        runOnlyIf(blobDeleteAllowed, 'the registry refuses blob deletes (405)');
        const resp = await client.do('GET', '/v2/<name>/blobs/<digest>', { digest: config.digest });
        expectStatus(resp, 404);
      });
    });

    t.context('Teardown', () => {
      // No teardown required at this time for content management tests
    });
  });
}
