/**
 * The API's sign-ins and deletes go into the audit trail like /token's logins and
 * /v2's deletes: who, from where, what, and never the password.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, call, startAuthInProcess, type AuthServer } from '../auth/helpers.js';
import type { ServeConfig } from '../../src/config/config.js';
import { adminToken, api, pushImage, signIn } from './helpers.js';

interface Line {
  action: string;
  outcome: string;
  user?: string;
  repository?: string;
  tag?: string;
  digest?: string;
  addr?: string;
}

async function waitForLines(file: string, done: (ls: Line[]) => boolean): Promise<Line[]> {
  for (let i = 0; i < 400; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const ls = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line);
    if (done(ls)) return ls;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`the audit trail never got there:\n${await readFile(file, 'utf8').catch(() => '(no file)')}`);
}

describe('api audit trail', () => {
  let dir: string;
  let file: string;
  let s: AuthServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-api-audit-'));
    file = join(dir, 'audit.jsonl');
    s = await startAuthInProcess({ mode: 'token', config: { audit: { file } } as unknown as Partial<ServeConfig> });
  });
  after(async () => {
    await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('records failed and good sign-ins and deletes, without secrets', async () => {
    const bad = await call(s.url, 'POST', '/api/v1/session', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'not-the-password' }),
    });
    assert.equal(bad.status, 401);
    const alice = await signIn(s, 'alice');
    const token = await adminToken(s, ['alice/app']);
    const img = await pushImage(s, token, 'alice/app', 'v1');
    await pushImage(s, token, 'alice/app', 'v2');
    assert.equal((await api(s, '/repositories/alice/app/-/tags/v2', alice, { method: 'DELETE' })).status, 204);
    assert.equal(
      (await api(s, `/repositories/alice/app/-/manifests/${img.digest}`, alice, { method: 'DELETE' })).status,
      204,
    );

    const got = await waitForLines(file, (ls) => ls.some((l) => l.action === 'delete' && l.digest === img.digest));
    const text = await readFile(file, 'utf8');
    for (const secret of [...Object.values(PASSWORDS), 'not-the-password'])
      assert.ok(!text.includes(secret), 'a password leaked into the audit trail');
    assert.ok(!text.includes(alice.cookie.split('=')[1]!), 'the session token leaked into the audit trail');
    const has = (p: (l: Line) => boolean, what: string) => assert.ok(got.some(p), `no ${what} in\n${text}`);
    has((l) => l.action === 'login' && l.outcome === 'failure' && l.user === 'alice', 'failed sign-in');
    has(
      (l) =>
        l.action === 'login' && l.outcome === 'success' && l.user === 'alice' && /^127\.0\.0\.1:\d+$/.test(l.addr!),
      'sign-in',
    );
    has(
      (l) => l.action === 'delete' && l.user === 'alice' && l.repository === 'alice/app' && l.tag === 'v2',
      'tag delete',
    );
    has((l) => l.action === 'delete' && l.user === 'alice' && l.digest === img.digest, 'manifest delete');
  });
});
