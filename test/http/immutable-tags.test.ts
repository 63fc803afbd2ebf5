/** Immutable tags over HTTP: move and delete refused with DENIED naming the rule; identical re-push allowed; admin override. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServeConfig } from '../../src/config/config.js';
import { startInProcess } from '../helpers/server.js';
import { POLICY, PASSWORDS, basic, writeUsers } from '../auth/helpers.js';
import { assertError, imageManifest, putManifest, req, sha256, MT } from './helpers.js';

const RULES = [
  { repositories: 'prod/**', tags: ['v*.*.*', 'release-?'], admin_override: true },
  { repositories: 'locked/*', tags: '*' },
];

async function server(extra: Record<string, unknown> = {}) {
  return startInProcess({ fsync: false, immutableTags: RULES, ...extra } as unknown as Partial<ServeConfig>);
}

/** A fresh image's manifest bytes (its config and layer pushed, with `headers` for auth). */
async function image(base: string, repo: string, n: number, headers: Record<string, string> = {}): Promise<Buffer> {
  if (Object.keys(headers).length === 0)
    return Buffer.from(JSON.stringify(await imageManifest(base, repo, { extra: { annotations: { n: String(n) } } })));
  const push = async (bytes: Buffer) => {
    const start = await req(base, 'POST', `/v2/${repo}/blobs/uploads/`, { headers });
    assert.equal(start.status, 202, start.text);
    const loc = String(start.headers.location);
    const done = await req(base, 'PUT', `${loc}${loc.includes('?') ? '&' : '?'}digest=${sha256(bytes)}`, {
      headers: { ...headers, 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(done.status, 201, done.text);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const config = await push(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n, salt: Math.random() })),
  );
  const layer = await push(Buffer.from(`layer ${n} ${Math.random()}`));
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, ...config },
      layers: [{ mediaType: MT.ociLayer, ...layer }],
    }),
  );
}

describe('immutable tags', () => {
  it('a tag matching a rule cannot be moved; the identical manifest may be pushed again; other tags move freely', async () => {
    const s = await server();
    try {
      const one = await image(s.url, 'prod/app', 1);
      const two = await image(s.url, 'prod/app', 2);
      assert.equal((await putManifest(s.url, 'prod/app', 'v1.2.3', one, MT.ociManifest)).status, 201);
      assert.equal(
        (await putManifest(s.url, 'prod/app', 'v1.2.3', one, MT.ociManifest)).status,
        201,
        'identical re-push',
      );
      const moved = await putManifest(s.url, 'prod/app', 'v1.2.3', two, MT.ociManifest);
      const body = assertError(moved, 403, 'DENIED', 'PUT');
      assert.match(
        body.errors[0].message,
        /tag v1\.2\.3 is immutable .*immutable_tags: repositories "prod\/\*\*", tags "v\*\.\*\.\*", "release-\?"/,
      );
      const got = await req(s.url, 'GET', '/v2/prod/app/manifests/v1.2.3', { headers: { Accept: MT.ociManifest } });
      assert.equal(sha256(got.body), sha256(one), 'still the first manifest');
      assert.equal((await putManifest(s.url, 'prod/app', 'latest', one, MT.ociManifest)).status, 201);
      assert.equal(
        (await putManifest(s.url, 'prod/app', 'latest', two, MT.ociManifest)).status,
        201,
        'latest is not immutable',
      );
      assert.equal(
        (await putManifest(s.url, 'prod/app', 'v1.2', two, MT.ociManifest)).status,
        201,
        'v1.2 does not match v*.*.*',
      );
      assert.equal(
        (await putManifest(s.url, 'dev/app', 'v1.2.3', await image(s.url, 'dev/app', 3), MT.ociManifest)).status,
        201,
      );
      assert.equal(
        (await putManifest(s.url, 'dev/app', 'v1.2.3', await image(s.url, 'dev/app', 4), MT.ociManifest)).status,
        201,
        'other repositories are free',
      );
    } finally {
      await s.stop();
    }
  });

  it('DELETE of an immutable tag, or of the manifest it names, is DENIED naming the rule', async () => {
    const s = await server();
    try {
      const one = await image(s.url, 'locked/app', 1);
      assert.equal((await putManifest(s.url, 'locked/app', 'anything', one, MT.ociManifest)).status, 201);
      const byTag = assertError(
        await req(s.url, 'DELETE', '/v2/locked/app/manifests/anything'),
        403,
        'DENIED',
        'DELETE',
      );
      assert.match(
        byTag.errors[0].message,
        /tag anything is immutable \(immutable_tags: repositories "locked\/\*", tags "\*"\)/,
      );
      const byDigest = assertError(
        await req(s.url, 'DELETE', `/v2/locked/app/manifests/${sha256(one)}`),
        403,
        'DENIED',
        'DELETE',
      );
      assert.match(byDigest.errors[0].message, /manifest is tagged anything, which is immutable/);
      assert.equal((await req(s.url, 'HEAD', '/v2/locked/app/manifests/anything')).status, 200);
    } finally {
      await s.stop();
    }
  });

  it('admins override a rule that allows it, and only such a rule; others still get DENIED', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-immutable-'));
    const htpasswd = join(dir, 'htpasswd');
    await writeUsers(htpasswd, ['admin', 'alice']);
    const policy = {
      ...POLICY,
      rules: [
        ...POLICY.rules,
        { repositories: ['prod/**', 'locked/**'], who: ['alice'], actions: ['pull', 'push', 'delete'] },
      ],
    };
    const s = await server({ data: join(dir, 'data'), auth: { mode: 'basic', htpasswd, policy } });
    const alice = { Authorization: basic('alice', PASSWORDS.alice) };
    const admin = { Authorization: basic('admin', PASSWORDS.admin) };
    try {
      const put = (repo: string, tag: string, body: Buffer, headers: Record<string, string>) =>
        req(s.url, 'PUT', `/v2/${repo}/manifests/${tag}`, {
          headers: { ...headers, 'Content-Type': MT.ociManifest },
          body,
        });
      const one = await image(s.url, 'prod/app', 1, alice);
      const two = await image(s.url, 'prod/app', 2, alice);
      assert.equal((await put('prod/app', 'release-1', one, alice)).status, 201);
      assertError(await put('prod/app', 'release-1', two, alice), 403, 'DENIED', 'PUT');
      assert.equal((await put('prod/app', 'release-1', two, admin)).status, 201, 'the admin moves it');
      assert.equal(
        (await req(s.url, 'DELETE', '/v2/prod/app/manifests/release-1', { headers: admin })).status,
        202,
        'and may delete it',
      );
      const locked = await image(s.url, 'locked/app', 1, alice);
      assert.equal((await put('locked/app', 'x', locked, alice)).status, 201);
      assertError(
        await req(s.url, 'DELETE', '/v2/locked/app/manifests/x', { headers: admin }),
        403,
        'DENIED',
        'DELETE',
      );
    } finally {
      await s.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
