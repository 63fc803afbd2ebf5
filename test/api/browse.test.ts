/**
 * /api/v1 through real HTTP with token auth and a ghcr-like policy
 * (test/auth/helpers.ts POLICY): each caller sees exactly the repositories it may
 * pull (anonymous: public/**), everything else is 404 as if absent; paging walks
 * every repository once; tags sort by push time, semver and name; summaries name
 * the real host; deletes need the policy's `delete`, the CSRF header with a
 * cookie, and are refused for immutable tags with the rule's message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPats, startAuthInProcess, type AuthServer } from '../auth/helpers.js';
import type { ServeConfig } from '../../src/config/config.js';
import { adminToken, api, pushImage, pushIndex, signIn, walkRepositories, type Browser } from './helpers.js';

const PUBLIC = Array.from({ length: 12 }, (_, i) => `public/r${String(i).padStart(2, '0')}`);
const PRIVATE = ['alice/app', 'alice/tools', 'bob/private', 'team/app', 'shared/docs', 'locked/app', 'admin/only'];

describe('api browse (token auth, policy)', () => {
  let s: AuthServer;
  let token: string;
  let alice: Browser;
  let admin: Browser;
  const digests: Record<string, string> = {};

  before(async () => {
    s = await startAuthInProcess({
      mode: 'token',
      config: {
        immutableTags: [{ repositories: 'locked/**', tags: ['v*'] }],
        quotas: [{ namespaces: 'alice', bytes: '1MiB', tags_per_repository: 50 }],
        retention: [{ repositories: 'alice/app', keep: [{ latest: 2 }] }],
      } as unknown as Partial<ServeConfig>,
    });
    token = await adminToken(s, [...PUBLIC, ...PRIVATE, 'public/multi']);
    for (const r of PUBLIC) await pushImage(s, token, r, 'v1');
    for (const r of PRIVATE) await pushImage(s, token, r, 'v1');
    // alice/app: versions pushed out of order, and a tag that is no version.
    for (const t of ['1.9.0', '1.10.0', 'latest', '1.2.3'])
      digests[t] = (
        await pushImage(s, token, 'alice/app', t, {
          config: {
            Entrypoint: ['/app'],
            Cmd: ['--serve'],
            Env: ['A=1'],
            ExposedPorts: { '8080/tcp': {} },
            Labels: { team: 'a' },
            WorkingDir: '/srv',
            User: 'app',
          },
          history: [
            { created: '2026-01-01T00:00:00Z', created_by: 'COPY app /app' },
            { created_by: 'ENV A=1', empty_layer: true },
          ],
          layers: [`layer ${t}`, 'shared layer'],
        })
      ).digest;
    await pushIndex(s, token, 'public/multi', 'v2', ['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
    alice = await signIn(s, 'alice');
    admin = await signIn(s, 'admin');
  });
  after(() => s.stop());

  it('anonymous sees only public repositories, and paging walks each exactly once', async () => {
    for (const limit of [1, 5, 100]) {
      const names = await walkRepositories(s, undefined, '', limit);
      assert.deepEqual(names, [...PUBLIC, 'public/multi'].sort());
    }
  });

  it('a signed-in user sees what the policy lets them pull, no more', async () => {
    const names = await walkRepositories(s, alice, '', 3);
    assert.deepEqual(names, ['alice/app', 'alice/tools', ...PUBLIC, 'public/multi', 'shared/docs', 'team/app'].sort());
    const all = await walkRepositories(s, admin, '', 7);
    assert.deepEqual(all, [...PUBLIC, ...PRIVATE, 'public/multi'].sort());
  });

  it('a personal access token limits what its bearer sees to its scopes', async () => {
    const pats = openPats(s.dataDir);
    const { token: pat } = await pats.create('alice', [{ glob: 'alice/app', actions: ['pull'] }]);
    await pats.close();
    const res = await api(s, '/repositories', { authorization: `Bearer ${pat}` });
    assert.deepEqual(
      res.json().items.map((i: { name: string }) => i.name),
      ['alice/app'],
    );
    const summary = await api(s, '/repositories/alice/app/-/summary', { authorization: `Bearer ${pat}` });
    assert.equal(summary.json().canDelete, false, 'the token grants pull only');
  });

  it('search text and kind filter on the server', async () => {
    assert.deepEqual(await walkRepositories(s, admin, '&q=APP', 2), ['alice/app', 'locked/app', 'team/app']);
    assert.deepEqual(await walkRepositories(s, undefined, '&kind=index', 2), ['public/multi']);
    assert.deepEqual(await walkRepositories(s, undefined, '&kind=helm-chart', 2), []);
    const bad = await api(s, '/repositories?kind=chart');
    assert.equal(bad.status, 400);
    assert.equal(bad.json().error.code, 'BAD_REQUEST');
  });

  it('list items carry kind, tag count, size and last push', async () => {
    const res = await api(s, '/repositories?q=alice/app', alice);
    const [item] = res.json().items;
    assert.equal(item.name, 'alice/app');
    assert.equal(item.kind, 'image');
    assert.equal(item.tags, 5);
    assert.ok(item.size > 0);
    assert.match(item.lastPush, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('repositories the caller may not pull are 404, exactly like ones that do not exist', async () => {
    for (const path of ['/summary', '/tags', '/manifests/v1', '/manifests/v1/config']) {
      const hidden = await api(s, `/repositories/bob/private/-${path}`, alice);
      const absent = await api(s, `/repositories/bob/nothing/-${path}`, alice);
      assert.equal(hidden.status, 404, path);
      assert.equal(absent.status, 404, path);
      assert.equal(hidden.json().error.code, 'NOT_FOUND');
      assert.deepEqual(
        hidden.json().error.message.replace('private', 'X'),
        absent.json().error.message.replace('nothing', 'X'),
      );
      assert.equal((await api(s, `/repositories/alice/app/-${path}`)).status, 404, `anonymous ${path}`);
    }
    assert.equal((await api(s, '/repositories/bob/private/-/tags/v1', alice, { method: 'DELETE' })).status, 404);
  });

  it('the summary names the host the request used, in commands for the kind, and what the caller may do', async () => {
    const res = await api(s, '/repositories/alice/app/-/summary', alice);
    assert.equal(res.status, 200);
    const body = res.json();
    assert.equal(body.kind, 'image');
    assert.equal(body.tags, 5);
    assert.equal(body.manifests, 5);
    assert.equal(body.canDelete, true);
    assert.equal(body.canPush, true);
    assert.deepEqual(body.commands, [
      { tool: 'docker', command: `docker pull ${s.host}/alice/app:1.2.3` },
      { tool: 'stowage', command: `stowage image pull ${s.host}/alice/app:1.2.3 app.tar` },
    ]);
    assert.equal(body.quota.namespace, 'alice');
    assert.equal(body.quota.limitBytes, 1024 * 1024);
    assert.equal(body.quota.tagsLimit, 50);
    assert.equal(body.quota.manifestsLimit, null);
    assert.ok(body.quota.bytes > 0);
    // retention keeps the latest 2; the others are young, so the collector's own rule keeps them for now.
    const rules = Object.fromEntries(
      body.retention.map((d: { tag: string; keep: boolean; rule: string }) => [d.tag, [d.keep, d.rule]]),
    );
    assert.deepEqual(rules, {
      '1.2.3': [true, 'latest: 2'],
      latest: [true, 'latest: 2'],
      '1.10.0': [true, 'pushed within the grace period'],
      '1.9.0': [true, 'pushed within the grace period'],
      v1: [true, 'pushed within the grace period'],
    });
    const pub = (await api(s, '/repositories/public/r00/-/summary', alice)).json();
    assert.equal(pub.canDelete, false);
    assert.equal(pub.quota, undefined);
    assert.equal(pub.retention, undefined);
    const viaHost = await api(s, '/info');
    assert.equal(viaHost.json().registryHost, s.host);
    assert.deepEqual(viaHost.json().features, { lifecycle: true, quotas: true });
  });

  it('tags sort by push time, semver and name, paged with cursors', async () => {
    const walk = async (sort: string, limit: number) => {
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await api(
          s,
          `/repositories/alice/app/-/tags?sort=${sort}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
          alice,
        );
        assert.equal(res.status, 200, res.text);
        names.push(...res.json().items.map((t: { name: string }) => t.name));
        cursor = res.json().next;
      } while (cursor);
      return names;
    };
    for (const limit of [1, 2, 100]) {
      assert.deepEqual(await walk('pushed', limit), ['1.2.3', 'latest', '1.10.0', '1.9.0', 'v1']);
      assert.deepEqual(await walk('semver', limit), ['1.10.0', '1.9.0', '1.2.3', 'v1', 'latest']);
      assert.deepEqual(await walk('name', limit), ['1.10.0', '1.2.3', '1.9.0', 'latest', 'v1']);
    }
    const [t] = (await api(s, '/repositories/alice/app/-/tags?sort=name&limit=1', alice)).json().items;
    assert.equal(t.digest, digests['1.10.0']);
    assert.equal(t.kind, 'image');
    assert.equal(t.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(t.artifactType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(t.signed, false);
    assert.equal(t.platforms, null);
    assert.equal(t.immutable, false);
    assert.equal(t.pulled, null);
    assert.ok(t.size > 0);
    const multi = (await api(s, '/repositories/public/multi/-/tags')).json().items[0];
    assert.equal(multi.kind, 'index');
    assert.deepEqual(multi.platforms, ['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
    assert.equal((await api(s, '/repositories/alice/app/-/tags?sort=size', alice)).status, 400);
    assert.equal((await api(s, '/repositories/alice/app/-/tags?cursor=garbage', alice)).status, 400);
  });

  it('manifest details: an image with its config fields and history; an index with its platforms', async () => {
    const res = await api(s, '/repositories/alice/app/-/manifests/1.9.0', alice);
    assert.equal(res.status, 200, res.text);
    const m = res.json();
    assert.equal(m.digest, digests['1.9.0']);
    assert.equal(m.kind, 'image');
    assert.deepEqual(m.tags, ['1.9.0']);
    assert.equal(m.layers.length, 2);
    assert.equal(m.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(
      m.size,
      m.config.size +
        m.layers.reduce((n: number, l: { size: number }) => n + l.size, 0) +
        Buffer.byteLength(JSON.stringify(m.manifest)),
    );
    assert.deepEqual(m.image, {
      platform: 'linux/amd64',
      entrypoint: ['/app'],
      cmd: ['--serve'],
      env: ['A=1'],
      labels: { team: 'a' },
      exposedPorts: ['8080/tcp'],
      workingDir: '/srv',
      user: 'app',
      history: [
        { created: '2026-01-01T00:00:00Z', createdBy: 'COPY app /app', emptyLayer: false, comment: null },
        { created: null, createdBy: 'ENV A=1', emptyLayer: true, comment: null },
      ],
    });
    assert.equal(m.referrers, 0);
    const byDigest = await api(s, `/repositories/alice/app/-/manifests/${digests['1.9.0']}`, alice);
    assert.deepEqual(byDigest.json(), m);
    const config = await api(s, `/repositories/alice/app/-/manifests/${digests['1.9.0']}/config`, alice);
    assert.equal(config.status, 200);
    assert.deepEqual(config.json().config.Entrypoint, ['/app']);
    const idx = (await api(s, '/repositories/public/multi/-/manifests/v2')).json();
    assert.equal(idx.kind, 'index');
    assert.deepEqual(
      idx.index.manifests.map((c: { platform: string; kind: string }) => [c.platform, c.kind]),
      [
        ['linux/amd64', 'image'],
        ['linux/arm64', 'image'],
        ['linux/arm/v7', 'image'],
      ],
    );
    assert.equal(idx.image, undefined);
    assert.equal((await api(s, '/repositories/alice/app/-/manifests/nope', alice)).status, 404);
  });

  it('deleting a tag needs delete rights, and with a cookie the CSRF header', async () => {
    const path = '/repositories/alice/app/-/tags/latest';
    const noCsrf = await api(s, path, alice, { method: 'DELETE', csrf: false });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.json().error.code, 'CSRF');
    const anon = await api(s, '/repositories/public/r01/-/tags/v1', undefined, { method: 'DELETE' });
    assert.equal(anon.status, 401);
    const denied = await api(s, '/repositories/public/r01/-/tags/v1', alice, { method: 'DELETE' });
    assert.equal(denied.status, 403);
    assert.equal(denied.json().error.code, 'DENIED');
    const ok = await api(s, path, alice, { method: 'DELETE' });
    assert.equal(ok.status, 204, ok.text);
    assert.equal(ok.headers['cache-control'], 'no-store');
    const tags = (await api(s, '/repositories/alice/app/-/tags?sort=name', alice))
      .json()
      .items.map((t: { name: string }) => t.name);
    assert.ok(!tags.includes('latest'));
    assert.equal((await api(s, path, alice, { method: 'DELETE' })).status, 404, 'already gone');
  });

  it('deleting a manifest by digest removes it and its tags', async () => {
    const digest = digests['1.2.3']!;
    const res = await api(s, `/repositories/alice/app/-/manifests/${digest}`, alice, { method: 'DELETE' });
    assert.equal(res.status, 204, res.text);
    assert.equal((await api(s, `/repositories/alice/app/-/manifests/${digest}`, alice)).status, 404);
    assert.equal((await api(s, '/repositories/alice/app/-/manifests/1.2.3', alice)).status, 404);
    assert.equal(
      (await api(s, '/repositories/alice/app/-/manifests/1.9.0', alice, { method: 'DELETE' })).status,
      400,
      'by digest only',
    );
  });

  it('immutable tags are refused with the rule in the message, even for the admin', async () => {
    const tag = await api(s, '/repositories/locked/app/-/tags/v1', admin, { method: 'DELETE' });
    assert.equal(tag.status, 403);
    assert.equal(tag.json().error.code, 'DENIED');
    assert.match(tag.json().error.message, /immutable.*locked\/\*\*/);
    const [t] = (await api(s, '/repositories/locked/app/-/tags', admin)).json().items;
    assert.equal(t.immutable, true);
    const m = await api(s, `/repositories/locked/app/-/manifests/${t.digest}`, admin, { method: 'DELETE' });
    assert.equal(m.status, 403);
    assert.match(m.json().error.message, /immutable/);
  });
});
