/**
 * The audit trail: logins (good and bad), pushes, tag moves, deletes and policy
 * denials from a server with token auth and one with Basic auth, token creation
 * and revocation by the local commands, all in one append-only file that
 * `stowage audit` filters — and no password, token or secret anywhere in it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../helpers/server.js';
import type { ServeConfig } from '../../src/config/config.js';
import {
  PASSWORDS,
  POLICY,
  basic,
  bearer,
  call,
  fetchToken,
  pushTinyImage,
  startAuthInProcess,
  type AuthServer,
} from './helpers.js';

const stowage = (args: string[]) => runCli(args);

interface Line {
  action: string;
  outcome: string;
  user?: string;
  tokenId?: string;
  repository?: string;
  tag?: string;
  digest?: string;
  previousDigest?: string;
  addr?: string;
  access?: string;
  via?: string;
}

const lines = async (file: string): Promise<Line[]> =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

describe('audit trail', () => {
  let dir: string;
  let file: string;
  let token: AuthServer;
  let basicServer: AuthServer;
  const secrets: string[] = [...Object.values(PASSWORDS), 'not-the-password'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-audit-'));
    file = join(dir, 'audit.jsonl');
    const config = { audit: { file } } as unknown as Partial<ServeConfig>;
    token = await startAuthInProcess({ mode: 'token', config });
    basicServer = await startAuthInProcess({ mode: 'basic', config });
  });
  after(async () => {
    await token.stop();
    await basicServer.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records who did what over HTTP, and never a secret', async () => {
    // Token auth: a failed and a good login, pushes, a tag move, a delete, a denial.
    const bad = await call(token.url, 'GET', '/token?service=stowage', {
      headers: { Authorization: basic('alice', 'not-the-password') },
    });
    assert.equal(bad.status, 401);
    const alice = await fetchToken(token, { user: 'alice', secret: PASSWORDS.alice }, [
      'repository:alice/app:pull,push,delete',
    ]);
    secrets.push(alice.token);
    const h = bearer(alice.token);
    assert.equal(await pushTinyImage(token, 'alice/app', 'v1', h), 201);
    assert.equal(await pushTinyImage(token, 'alice/app', 'v2', h), 201);
    const accept = { ...h, Accept: 'application/vnd.oci.image.manifest.v1+json' };
    const v1 = await call(token.url, 'GET', '/v2/alice/app/manifests/v1', { headers: accept });
    const v2 = await call(token.url, 'GET', '/v2/alice/app/manifests/v2', { headers: accept });
    const put = (body: string) =>
      call(token.url, 'PUT', '/v2/alice/app/manifests/latest', {
        headers: { ...h, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
        body,
      });
    assert.equal((await put(v1.text)).status, 201);
    assert.equal((await put(v2.text)).status, 201);
    assert.equal((await call(token.url, 'DELETE', '/v2/alice/app/manifests/v1', { headers: h })).status, 202);
    // bob's token grants nothing on alice/app: the push is refused.
    const bob = await fetchToken(token, { user: 'bob', secret: PASSWORDS.bob }, ['repository:alice/app:push']);
    secrets.push(bob.token);
    assert.equal(await pushTinyImage(token, 'alice/app', 'x', bearer(bob.token)), 401);
    // Basic auth: a refused password, and an authenticated user the policy denies.
    assert.equal(
      (await call(basicServer.url, 'GET', '/v2/', { headers: { Authorization: basic('carol', 'not-the-password') } }))
        .status,
      401,
    );
    assert.equal(
      await pushTinyImage(basicServer, 'alice/other', 'v1', { Authorization: basic('bob', PASSWORDS.bob) }),
      403,
    );

    const got = await waitForLines(file, (ls) =>
      ls.some(
        (l) => l.action === 'denied' && l.user === 'bob' && l.access === 'push' && l.repository === 'alice/other',
      ),
    );
    const text = await readFile(file, 'utf8');
    for (const s of secrets) assert.ok(!text.includes(s), `a secret leaked into the audit trail: ${s.slice(0, 12)}…`);

    const find = (p: (l: Line) => boolean, what: string) => {
      const l = got.find(p);
      assert.ok(l, `no ${what} in\n${text}`);
      return l;
    };
    find((l) => l.action === 'login' && l.outcome === 'failure' && l.user === 'alice', 'failed login');
    const login = find((l) => l.action === 'login' && l.outcome === 'success' && l.user === 'alice', 'login');
    assert.match(login.addr!, /^127\.0\.0\.1:\d+$/);
    const pushV1 = find((l) => l.action === 'push' && l.tag === 'v1', 'push of v1');
    assert.deepEqual([pushV1.user, pushV1.repository, pushV1.outcome], ['alice', 'alice/app', 'success']);
    assert.match(pushV1.digest!, /^sha256:[0-9a-f]{64}$/);
    const moved = find((l) => l.action === 'tag.move', 'tag move');
    assert.deepEqual([moved.tag, moved.previousDigest], ['latest', pushV1.digest]);
    assert.equal(got.filter((l) => l.action === 'tag.move').length, 1, 'the first push of latest moved nothing');
    find((l) => l.action === 'delete' && l.digest === undefined && l.tag === 'v1' && l.user === 'alice', 'delete');
    find((l) => l.action === 'denied' && l.user === 'bob' && l.repository === 'alice/app', 'token denial');
    find((l) => l.action === 'login' && l.outcome === 'failure' && l.user === 'carol', 'failed Basic login');
  });

  it('records token creation and revocation by the local commands; stowage audit filters the trail', async () => {
    const config = join(dir, 'stowage.yaml');
    await writeFile(
      config,
      stringify({
        data: token.dataDir,
        audit: { file },
        auth: { mode: 'token', htpasswd: token.htpasswd, policy: POLICY },
      }),
    );
    const created = await stowage([
      'token',
      'create',
      '--config',
      config,
      '--user',
      'alice',
      '--scope',
      'alice/**:pull',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const pat = created.stdout.trim();
    const id = /created token (\S+) for alice/.exec(created.stderr)![1]!;
    // The PAT logs in (its id is recorded, its secret is not), then is revoked.
    await fetchToken(token, { user: 'alice', secret: pat }, ['repository:alice/app:pull']);
    const revoked = await stowage(['token', 'revoke', '--config', config, id]);
    assert.equal(revoked.code, 0, revoked.stderr);

    const got = await waitForLines(file, (ls) => ls.some((l) => l.action === 'token.revoke'));
    assert.ok(!(await readFile(file, 'utf8')).includes(pat), 'the PAT itself is never written');
    const create = got.find((l) => l.action === 'token.create')!;
    assert.deepEqual([create.user, create.tokenId, create.via], ['alice', id, 'stowage token create']);
    assert.ok(
      got.some((l) => l.action === 'login' && l.outcome === 'success' && l.tokenId === id),
      'PAT login has its id',
    );

    const pushes = await stowage([
      'audit',
      '--config',
      config,
      '--action',
      'push',
      '--user',
      'alice',
      '--output',
      'json',
    ]);
    assert.equal(pushes.code, 0, pushes.stderr);
    const rows = pushes.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    assert.deepEqual(
      rows.map((r) => r.tag),
      ['v1', 'v2', 'latest', 'latest'],
    );
    const text = await stowage([
      'audit',
      '--file',
      file,
      '--repository',
      'alice/**',
      '--action',
      'tag.move',
      '--since',
      '1h',
    ]);
    assert.match(
      text.stdout.trim(),
      /^\S+ tag\.move success alice\/app:latest@sha256:\S+ \(was sha256:\S+\) by alice from 127\.0\.0\.1:\d+$/,
    );
    const failures = await stowage(['audit', '--file', file, '--outcome', 'failure', '--output', 'json']);
    const kinds = failures.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as Line).action);
    assert.deepEqual([...new Set(kinds)].sort(), ['denied', 'login']);
    const future = await stowage(['audit', '--file', file, '--since', '2999-01-01T00:00:00Z']);
    assert.equal(future.stdout, '');
    assert.equal((await stowage(['audit', '--file', file, '--action', 'nope'])).code, 2);
    assert.equal((await stowage(['audit', '--file', join(dir, 'missing.jsonl')])).code, 1);
  });
});

async function waitForLines(file: string, done: (ls: Line[]) => boolean): Promise<Line[]> {
  for (let i = 0; i < 400; i++) {
    const ls = await lines(file).catch(() => []);
    if (done(ls)) return ls;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`the audit trail never got there:\n${await readFile(file, 'utf8').catch(() => '(no file)')}`);
}
