/**
 * The content readers of the UI's API (src/api/content/) over a registry holding real
 * pushes of the project's own commands (test/api/content-fixtures.ts): chart details
 * with a sanitised README, Flux details and files, OPA bundle details, and referrers
 * with signature verification against the configured keys.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedRegistry } from '../../src/app.js';
import { loadSignatureRules } from '../../src/config/signature-keys.js';
import type { Registry } from '../../src/registry/registry.js';
import { acceptedTypes } from '../../src/core/negotiation.js';
import { chartDetails } from '../../src/api/content/chart-details.js';
import { fluxDetails } from '../../src/api/content/flux-details.js';
import { listLayerFiles, readLayerFile } from '../../src/api/content/layer-files.js';
import { opaDetails } from '../../src/api/content/opa-details.js';
import { manifestReferrers, type SignatureKeys } from '../../src/api/content/referrers.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { assertInert } from '../helpers/html-inert.js';
import { FLUX_COMMIT, makeKeys, pushContent, type PushedContent } from './content-fixtures.js';

describe('UI content readers over pushed artifacts', { timeout: 300_000 }, () => {
  let work: string;
  let server: InProcessStowage;
  let registry: Registry;
  let trusted: SignatureKeys;
  let pushed: PushedContent;

  const manifest = async (repository: string, ref: string) => {
    const m = await registry.getManifest(repository, ref, acceptedTypes(undefined));
    return { ...m, doc: JSON.parse(m.content.toString('utf8')) as Record<string, unknown> };
  };

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'stowage-ui-content-'));
    await makeKeys(work);
    const alicePub = path.join(work, 'alice.pub');
    const requirements = [
      { repositories: 'signed/**', keys: [alicePub] },
      { repositories: 'wrongkey/**', keys: [alicePub] },
    ];
    server = await startInProcess({ requireSignatures: requirements });
    pushed = await pushContent(server.host, work);
    registry = await openEmbeddedRegistry(server.config);
    trusted = { rules: await loadSignatureRules(requirements), keys: [] };
  });
  after(async () => {
    await registry?.close();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('shows a chart: Chart.yaml fields, dependencies, values, an inert README, every version', async () => {
    const m = await manifest(pushed.chart.repository, pushed.chart.tag);
    const c = await chartDetails(registry, pushed.chart.repository, m.content);
    assert.equal(c.metadata.name, 'webapp');
    assert.equal(c.metadata.version, '0.1.0');
    assert.equal(c.metadata.appVersion, '1.16.0');
    assert.equal(c.metadata.home, 'https://example.com/webapp');
    assert.equal(c.metadata.icon, null, 'a javascript: icon is dropped');
    assert.deepEqual(c.metadata.keywords, ['web', 'demo']);
    assert.deepEqual(c.metadata.maintainers, [{ name: 'Alice', email: 'alice@example.com', url: null }]);
    assert.deepEqual(c.dependencies, [
      {
        name: 'redis',
        version: '17.x.x',
        repository: 'oci://registry-1.docker.io/bitnamicharts',
        condition: 'redis.enabled',
      },
    ]);
    assert.equal(c.values, 'replicaCount: 2\nimage:\n  repository: nginx\n  tag: "1.25"\n');
    assert.equal(c.valuesTruncated, false);
    assert.ok(c.readmeHtml, 'the README is rendered');
    assert.match(c.readmeHtml, /<h1>webapp<\/h1>/);
    assert.match(c.readmeHtml, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the script tag is shown as text');
    assert.match(c.readmeHtml, /<a href="https:\/\/example.com\/webapp"/);
    assert.doesNotMatch(c.readmeHtml, /not the README of webapp/, "a subchart's README is not the chart's");
    assertInert(c.readmeHtml);
    assert.deepEqual(
      c.versions.map((v) => v.tag),
      pushed.chart.versions,
    );
    assert.ok(c.versions.every((v) => v.digest.startsWith('sha256:') && /Z$/.test(v.pushed)));
  });

  it('shows a Flux artifact: source, revision, commit link, created, its files and one file', async () => {
    const m = await manifest(pushed.flux.repository, pushed.flux.tag);
    const f = fluxDetails(m.doc.annotations as Record<string, string>);
    assert.deepEqual(
      { ...f, created: undefined },
      {
        source: 'https://github.com/example/app.git',
        revision: `main@sha1:${FLUX_COMMIT}`,
        sourceUrl: `https://github.com/example/app/commit/${FLUX_COMMIT}`,
        created: undefined,
      },
    );
    assert.match(f.created!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const layer = (m.doc.layers as { digest: string }[])[0]!.digest;
    const listing = await listLayerFiles(await registry.readBlob(pushed.flux.repository, layer));
    assert.equal(listing.truncated, false);
    assert.deepEqual(
      listing.entries.filter((e) => e.type === 'file').map((e) => e.path),
      ['NOTES.md', 'apps/deployment.yaml', 'kustomization.yaml'],
    );
    const file = await readLayerFile(await registry.readBlob(pushed.flux.repository, layer), 'apps/deployment.yaml');
    assert.equal(file.text, 'apiVersion: apps/v1\nkind: Deployment\n');
    const notes = await readLayerFile(await registry.readBlob(pushed.flux.repository, layer), 'NOTES.md');
    assert.ok(notes.html);
    assertInert(notes.html);
  });

  it('shows an OPA bundle: roots, revision, modules and data documents', async () => {
    const m = await manifest(pushed.policy.repository, pushed.policy.tag);
    const o = await opaDetails(
      registry,
      pushed.policy.repository,
      m.doc.layers as { mediaType: string; digest: string }[],
    );
    assert.deepEqual(o.roots, ['authz']);
    assert.equal(o.revision, 'rev-42');
    assert.deepEqual(o.rego.sort(), ['authz/allow.rego', 'authz/roles/roles.rego']);
    assert.deepEqual(o.data.sort(), ['authz/roles/data.json', 'data.json']);
    assert.equal(o.truncated, false);
  });

  it("verifies signatures against the repository's keys: verified, failed, no keys", async () => {
    const kinds = async (p: { repository: string; digest: string }) =>
      (await manifestReferrers(registry, p.repository, p.digest, trusted)).map((r) => ({
        kind: r.kind,
        legacyTag: r.legacyTag,
        status: r.verification?.status,
        signer: r.verification?.signer,
      }));
    const sigTag = (d: string) => `${d.replace(':', '-')}.sig`;
    assert.deepEqual(await kinds(pushed.signed), [
      { kind: 'signature', legacyTag: null, status: 'verified', signer: 'key alice.pub' },
      { kind: 'signature', legacyTag: sigTag(pushed.signed.digest), status: 'verified', signer: 'key alice.pub' },
    ]);
    assert.deepEqual(await kinds(pushed.wrongKey), [
      { kind: 'signature', legacyTag: null, status: 'failed', signer: null },
      { kind: 'signature', legacyTag: sigTag(pushed.wrongKey.digest), status: 'failed', signer: null },
    ]);
    assert.deepEqual(await kinds(pushed.unconfigured), [
      { kind: 'signature', legacyTag: null, status: 'no-keys', signer: null },
      { kind: 'signature', legacyTag: sigTag(pushed.unconfigured.digest), status: 'no-keys', signer: null },
    ]);
  });
});
