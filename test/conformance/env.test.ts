/**
 * The conformance port driven as the Go suite is: OCI_* environment variables
 * read as setup.go reads them, and the command-line entry (main.js) running
 * only the workflows switched on, writing junit.xml, exiting 1 on a failure.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startStowage } from '../helpers/server.js';
import { makeTempDir, removeDir, run } from '../helpers/tools.js';
import { optionsFromEnv, parseBool } from './options.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

describe('conformance options from OCI_* variables', () => {
  it('reads them as setup.go does', () => {
    assert.throws(() => optionsFromEnv({}), /OCI_ROOT_URL/);
    const none = optionsFromEnv({ OCI_ROOT_URL: 'http://r', OCI_NAMESPACE: 'a/b' });
    assert.deepEqual(none.options.workflows, {
      pull: false,
      push: false,
      contentDiscovery: false,
      contentManagement: false,
    });
    assert.equal(none.options.deleteManifestBeforeBlobs, true);
    assert.equal(none.options.automaticCrossmount, undefined, 'unset: the automatic-mount specs do not run');
    const all = optionsFromEnv({
      OCI_ROOT_URL: 'http://r',
      OCI_NAMESPACE: 'a/b',
      OCI_CROSSMOUNT_NAMESPACE: 'a/c',
      OCI_USERNAME: 'u',
      OCI_PASSWORD: 'p',
      OCI_TEST_PULL: '1',
      OCI_TEST_PUSH: 'true',
      OCI_TEST_CONTENT_DISCOVERY: 'T',
      OCI_TEST_CONTENT_MANAGEMENT: 'yes', // not a Go bool: off
      OCI_DELETE_MANIFEST_BEFORE_BLOBS: '0',
      OCI_AUTOMATIC_CROSSMOUNT: 'false',
      OCI_TAG_LIST: 'a,b',
    });
    assert.equal(all.rootUrl, 'http://r');
    assert.deepEqual(all.options.workflows, {
      pull: true,
      push: true,
      contentDiscovery: true,
      contentManagement: false,
    });
    assert.equal(all.options.crossmountNamespace, 'a/c');
    assert.equal(all.options.username, 'u');
    assert.equal(all.options.password, 'p');
    assert.equal(all.options.deleteManifestBeforeBlobs, false);
    assert.equal(all.options.automaticCrossmount, false);
    assert.deepEqual(all.options.tagList, ['a', 'b']);
    assert.equal(parseBool('False'), false);
    assert.equal(parseBool('on'), undefined);
  });

  it('main.js runs only the workflows switched on and writes junit.xml', async () => {
    const s = await startStowage();
    const dir = await makeTempDir('conformance-report');
    try {
      const env = {
        OCI_ROOT_URL: s.url,
        OCI_NAMESPACE: 'env/repo',
        OCI_TEST_CONTENT_MANAGEMENT: '1',
        OCI_REPORT_DIR: dir,
        OCI_TEST_PULL: undefined,
        OCI_TEST_PUSH: undefined,
        OCI_TEST_CONTENT_DISCOVERY: undefined,
      };
      const r = await run(process.execPath, [MAIN], { env, allowFailure: true });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok {3}Content Management \/ Manifest delete \/ DELETE request to manifest tag/m);
      assert.match(r.stdout, /^skip Pull \/ Pull blobs/m);
      assert.match(r.stdout, /10 passed, 0 failed, 64 skipped/);
      const junit = await readFile(path.join(dir, 'junit.xml'), 'utf8');
      assert.match(junit, /<testsuite name="OCI Distribution Conformance Tests" tests="74" failures="0" skipped="64">/);
    } finally {
      await s.stop();
      await removeDir(dir);
    }
  });
});
