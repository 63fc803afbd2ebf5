/**
 * The content endpoints of /api/v1 through real HTTP, over content pushed with the
 * project's own commands (test/api/content-fixtures.ts): a chart's files with its XSS
 * README rendered inert, a Flux artifact's tree and one of its files, an OPA bundle's
 * files, referrers verified against require_signatures and ui.signature_keys, the pull
 * check of require_signatures, the error answers, and `pull` enforced with auth on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, basic, call, pushTinyImage, startAuthInProcess, type AuthServer } from '../auth/helpers.js';
import { assertInert } from '../helpers/html-inert.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { FLUX_COMMIT, makeKeys, pushContent, type PushedContent } from './content-fixtures.js';

const m = (repository: string, ref: string, rest: string) =>
  `/api/v1/repositories/${repository}/-/manifests/${encodeURIComponent(ref)}/${rest}`;

describe('content endpoints over pushed artifacts', { timeout: 300_000 }, () => {
  let work: string;
  let server: InProcessStowage;
  let pushed: PushedContent;
  const get = (p: string) => call(server.url, 'GET', p);

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'stowage-ui-http-'));
    await makeKeys(work, ['alice', 'bob', 'carol']);
    const alicePub = path.join(work, 'alice.pub');
    server = await startInProcess({
      requireSignatures: [
        { repositories: 'signed/**', keys: [alicePub] },
        { repositories: 'wrongkey/**', keys: [alicePub] },
      ],
      ui: { enabled: true, sessionTtlSeconds: 3600, signatureKeys: [path.join(work, 'carol.pub')] },
    });
    pushed = await pushContent(server.host, work, 'carol');
  });
  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("lists a chart's files and renders its README (with <script> and javascript: links) inert", async () => {
    const files = await get(m(pushed.chart.repository, pushed.chart.tag, 'files'));
    assert.equal(files.status, 200);
    assert.equal(files.headers['cache-control'], 'no-store');
    assert.equal(files.headers['x-content-type-options'], 'nosniff');
    const listing = files.json();
    assert.equal(listing.truncated, false);
    assert.match(listing.layer, /^sha256:/);
    const paths = (listing.entries as { path: string }[]).map((e) => e.path);
    for (const p of ['webapp/Chart.yaml', 'webapp/values.yaml', 'webapp/README.md', 'webapp/templates/cm.yaml'])
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);

    const readme = await get(`${m(pushed.chart.repository, pushed.chart.tag, 'file')}?path=webapp/README.md`);
    assert.equal(readme.status, 200);
    const view = readme.json();
    assert.equal(view.binary, false);
    assert.match(view.text, /<script>alert\(1\)<\/script>/, 'the text is the file as pushed');
    const html: string = view.html;
    assertInert(html);
    assert.doesNotMatch(html, /<script|<img[^>]*onerror|href="javascript:|href="data:/i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /<a href="https:\/\/example.com\/webapp" rel="nofollow noopener noreferrer">home<\/a>/);
    assert.match(html, /<img src="https:\/\/example.com\/logo.png" alt="ok"/);
  });

  it('shows the chart, Flux and OPA parts of the manifest details', async () => {
    const details = async (repository: string, tag: string) => {
      const res = await get(`/api/v1/repositories/${repository}/-/manifests/${tag}`);
      assert.equal(res.status, 200, res.text);
      return res.json();
    };
    const chart = await details(pushed.chart.repository, pushed.chart.tag);
    assert.equal(chart.kind, 'helm-chart');
    assert.equal(chart.chart.metadata.name, 'webapp');
    assert.equal(chart.chart.metadata.icon, null);
    assert.equal(chart.chart.values, 'replicaCount: 2\nimage:\n  repository: nginx\n  tag: "1.25"\n');
    assert.deepEqual(
      chart.chart.dependencies.map((d: { name: string }) => d.name),
      ['redis'],
    );
    assert.deepEqual(
      chart.chart.versions.map((v: { tag: string }) => v.tag),
      pushed.chart.versions,
    );
    assertInert(chart.chart.readmeHtml);
    assert.match(chart.chart.readmeHtml, /&lt;script&gt;/);
    assert.doesNotMatch(chart.chart.readmeHtml, /javascript:alert\(1\)\)?"/);

    const flux = await details(pushed.flux.repository, pushed.flux.tag);
    assert.equal(flux.kind, 'flux-artifact');
    assert.equal(flux.flux.source, 'https://github.com/example/app.git');
    assert.equal(flux.flux.revision, `main@sha1:${FLUX_COMMIT}`);
    assert.equal(flux.flux.sourceUrl, `https://github.com/example/app/commit/${FLUX_COMMIT}`);
    assert.match(flux.flux.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const opa = await details(pushed.policy.repository, pushed.policy.tag);
    assert.equal(opa.kind, 'opa-bundle');
    assert.deepEqual(
      { roots: opa.opa.roots, revision: opa.opa.revision, rego: opa.opa.rego.sort(), data: opa.opa.data.sort() },
      {
        roots: ['authz'],
        revision: 'rev-42',
        rego: ['authz/allow.rego', 'authz/roles/roles.rego'],
        data: ['authz/roles/data.json', 'data.json'],
      },
    );
    assert.equal(opa.opa.layer, opa.layers[0].digest);
  });

  it('opens a file from the tree of a Flux artifact', async () => {
    const files = await get(m(pushed.flux.repository, pushed.flux.tag, 'files'));
    assert.equal(files.status, 200);
    const entries = files.json().entries as { path: string; type: string; size: number }[];
    const deployment = entries.find((e) => e.path === 'apps/deployment.yaml');
    assert.deepEqual(
      { type: deployment?.type, size: deployment?.size },
      { type: 'file', size: 'apiVersion: apps/v1\nkind: Deployment\n'.length },
    );
    const file = await get(`${m(pushed.flux.repository, pushed.flux.tag, 'file')}?path=${deployment!.path}`);
    assert.equal(file.status, 200);
    assert.deepEqual(file.json(), {
      layer: files.json().layer,
      path: 'apps/deployment.yaml',
      size: deployment!.size,
      binary: false,
      text: 'apiVersion: apps/v1\nkind: Deployment\n',
      truncated: false,
      html: null,
    });
    // The revision's commit is what the artifact names (its details come from the annotations).
    const manifest = await call(server.url, 'GET', `/v2/${pushed.flux.repository}/manifests/${pushed.flux.tag}`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.match(manifest.json().annotations['org.opencontainers.image.revision'], new RegExp(FLUX_COMMIT));
  });

  it("lists an OPA bundle's modules and data and shows its .manifest", async () => {
    const files = await get(m(pushed.policy.repository, pushed.policy.tag, 'files'));
    assert.equal(files.status, 200);
    const paths = (files.json().entries as { path: string }[]).map((e) => e.path).sort();
    assert.deepEqual(paths, [
      '.manifest',
      'authz/allow.rego',
      'authz/roles/data.json',
      'authz/roles/roles.rego',
      'data.json',
    ]);
    const manifest = await get(`${m(pushed.policy.repository, pushed.policy.tag, 'file')}?path=.manifest`);
    assert.deepEqual(JSON.parse(manifest.json().text), { revision: 'rev-42', roots: ['authz'] });
  });

  it("shows signatures verified against the repository's key, failed with another, verified by ui.signature_keys", async () => {
    const referrers = async (p: { repository: string; digest: string }) => {
      const res = await get(m(p.repository, p.digest, 'referrers'));
      assert.equal(res.status, 200);
      return (
        res.json().items as {
          kind: string;
          legacyTag: string | null;
          verification: { status: string; signer: string | null };
        }[]
      ).map((r) => ({
        kind: r.kind,
        legacy: r.legacyTag !== null,
        status: r.verification.status,
        signer: r.verification.signer,
      }));
    };
    assert.deepEqual(await referrers(pushed.signed), [
      { kind: 'signature', legacy: false, status: 'verified', signer: 'key alice.pub' },
      { kind: 'signature', legacy: true, status: 'verified', signer: 'key alice.pub' },
    ]);
    assert.deepEqual(await referrers(pushed.wrongKey), [
      { kind: 'signature', legacy: false, status: 'failed', signer: null },
      { kind: 'signature', legacy: true, status: 'failed', signer: null },
    ]);
    assert.deepEqual(await referrers(pushed.unconfigured), [
      { kind: 'signature', legacy: false, status: 'verified', signer: 'key carol.pub' },
      { kind: 'signature', legacy: true, status: 'verified', signer: 'key carol.pub' },
    ]);
    // By tag too, and a referrer names its legacy tag.
    const byTag = await get(m(pushed.signed.repository, pushed.signed.tag, 'referrers'));
    assert.equal(byTag.json().items[1].legacyTag, `${pushed.signed.digest.replace(':', '-')}.sig`);
  });

  it('refuses the files of an unsigned manifest where signatures are required, as /v2/ does', async () => {
    const res = await get(m(pushed.unsigned.repository, pushed.unsigned.tag, 'files'));
    assert.equal(res.status, 403);
    assert.equal(res.json().error.code, 'DENIED');
    assert.equal((await get(m(pushed.signed.repository, pushed.signed.tag, 'files'))).status, 200);
  });

  it('answers JSON errors: no such file, no such layer, no path, no such manifest', async () => {
    const base = m(pushed.flux.repository, pushed.flux.tag, 'file');
    const cases: [string, number, string][] = [
      [`${base}?path=missing.yaml`, 404, 'NOT_FOUND'],
      [`${base}?path=apps`, 400, 'BAD_REQUEST'],
      [base, 400, 'BAD_REQUEST'],
      [`${base}?path=apps/deployment.yaml&layer=sha256:${'0'.repeat(64)}`, 404, 'NOT_FOUND'],
      [m(pushed.flux.repository, 'nope', 'files'), 404, 'NOT_FOUND'],
      [m(pushed.flux.repository, 'sha256:bad', 'files'), 400, 'BAD_REQUEST'],
      [m('no/such/repo', 'v1', 'referrers'), 404, 'NOT_FOUND'],
    ];
    for (const [p, status, code] of cases) {
      const res = await get(p);
      assert.equal(res.status, status, `${p}: ${res.text}`);
      assert.equal(res.json().error.code, code, p);
    }
  });
});

describe('content endpoints enforce pull', { timeout: 120_000 }, () => {
  let s: AuthServer;
  before(async () => {
    s = await startAuthInProcess({ mode: 'basic' });
    const alice = { Authorization: basic('alice', PASSWORDS.alice) };
    assert.equal(await pushTinyImage(s, 'alice/app', 'v1', alice), 201);
    assert.equal(await pushTinyImage(s, 'public/app', 'v1', { Authorization: basic('admin', PASSWORDS.admin) }), 201);
  });
  after(() => s.stop());

  it('404s a repository the caller may not pull, for anonymous callers and other users', async () => {
    for (const rest of ['files', 'file?path=x', 'referrers']) {
      for (const headers of [{}, { Authorization: basic('bob', PASSWORDS.bob) }]) {
        const res = await call(s.url, 'GET', m('alice/app', 'v1', rest), { headers });
        assert.equal(res.status, 404, rest);
        assert.equal(res.json().error.code, 'NOT_FOUND');
      }
    }
  });

  it('serves the owner, and anyone for a public repository', async () => {
    const alice = { Authorization: basic('alice', PASSWORDS.alice) };
    const own = await call(s.url, 'GET', m('alice/app', 'v1', 'referrers'), { headers: alice });
    assert.equal(own.status, 200);
    assert.deepEqual(own.json(), { items: [] });
    // The tiny image's layer is not a tarball: a readable refusal, past the access check.
    const files = await call(s.url, 'GET', m('alice/app', 'v1', 'files'), { headers: alice });
    assert.equal(files.status, 400);
    assert.match(files.json().error.message, /not a readable tar archive/);
    assert.equal((await call(s.url, 'GET', m('public/app', 'v1', 'referrers'))).status, 200);
  });
});
