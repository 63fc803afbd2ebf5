/**
 * The OCI distribution-spec conformance suite (the TypeScript port in this
 * folder), all four workflows, against `stowage serve` on an ephemeral port:
 * once with the embedded default (files + SQLite, no auth), once with token
 * auth on, signing in as a user with a personal access token (each request
 * goes 401 → /token with Basic → retry with Bearer, as the Go suite's client does).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startAuthProcess } from '../auth/helpers.js';
import { stowage } from '../client/helpers.js';
import { startStowage } from '../helpers/server.js';
import { runConformance } from './index.js';
import { reportSpecs } from './subtests.js';

/** Specs in the suite, and those that skip themselves with these options (no OCI_TAG_NAME/OCI_TAG_LIST etc.). */
const TOTAL_SPECS = 74;

describe('OCI conformance v1.1 (pull, push, content discovery, content management) against Stowage', () => {
  it('embedded default: every spec passes', async (t) => {
    const s = await startStowage();
    try {
      const report = await runConformance(s.url, {
        namespace: 'conformance/repo',
        crossmountNamespace: 'conformance/cross',
      });
      await reportSpecs(t, report);
      assert.equal(report.results.length, TOTAL_SPECS);
      // Skipped by the suite itself: the two "from the environment" setups, the mount of a
      // nonexistent blob (Stowage mounts: 201) and both automatic-mount specs (option unset).
      assert.deepEqual(report.counts, { passed: 69, failed: 0, skipped: 5 });
      assert.deepEqual(report.warnings, []);
    } finally {
      await s.stop();
    }
  });

  it('OCI_DELETE_MANIFEST_BEFORE_BLOBS=false (blobs deleted first): every spec passes', async (t) => {
    // Stowage refuses to delete a blob a manifest still references; the spec allows
    // refusing a blob DELETE only with 400 or 405, and the suite's teardown takes 405.
    const s = await startStowage();
    try {
      const report = await runConformance(s.url, {
        namespace: 'conformance/blobs-first',
        crossmountNamespace: 'conformance/cross',
        deleteManifestBeforeBlobs: false,
      });
      await reportSpecs(t, report);
      assert.deepEqual(report.counts, { passed: 69, failed: 0, skipped: 5 });
    } finally {
      await s.stop();
    }
  });

  it('token auth with a personal access token: every spec passes', async (t) => {
    const s = await startAuthProcess({ mode: 'token' });
    try {
      const created = await stowage([
        'token',
        'create',
        '--config',
        s.configPath,
        '--data',
        s.dataDir,
        '--user',
        'alice',
        '--scope',
        'alice/**:pull,push,delete',
        '--expires',
        '1d',
      ]);
      assert.equal(created.code, 0, created.stderr);
      const pat = created.stdout.trim();
      assert.match(pat, /^stw_/);
      // Anonymous requests are refused, so the suite's client has to take the token route.
      const anonymous = await fetch(`${s.url}/v2/alice/conformance/tags/list`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm=/);

      const report = await runConformance(s.url, {
        namespace: 'alice/conformance',
        crossmountNamespace: 'alice/conformance-mount',
        username: 'alice',
        password: pat,
        // Stowage mounts only with `from`: the "automatic content discovery disabled" spec runs.
        automaticCrossmount: false,
      });
      await reportSpecs(t, report);
      assert.equal(report.results.length, TOTAL_SPECS);
      assert.deepEqual(report.counts, { passed: 70, failed: 0, skipped: 4 });
    } finally {
      await s.stop();
    }
  });
});
