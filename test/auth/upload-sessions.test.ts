/**
 * Upload sessions belong to the principal that opened them: another user with
 * push on the same repository is told the session does not exist (404
 * BLOB_UPLOAD_UNKNOWN) and changes nothing. Sessions are capped per user, per
 * repository and in all (429 TOOMANYREQUESTS), and a refused POST leaves nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORDS,
  basic,
  bearer,
  call,
  fetchToken,
  startAuthInProcess,
  type AuthServer,
  type TestUser,
} from './helpers.js';

const sha = (b: string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function sessionTests(mode: 'token' | 'basic'): void {
  describe(`${mode} auth: a session is its opener's`, () => {
    let s: AuthServer;
    before(async () => {
      s = await startAuthInProcess({ mode });
    });
    after(async () => {
      await s?.stop();
    });
    const as = async (who: TestUser, repo: string) =>
      mode === 'basic'
        ? { Authorization: basic(who, PASSWORDS[who]) }
        : bearer((await fetchToken(s, { user: who, secret: PASSWORDS[who] }, [`repository:${repo}:pull,push`])).token);

    it('a teammate with push on the repository cannot see, append to, finish or cancel it', async () => {
      const repo = 'team/shared';
      const alice = await as('alice', repo);
      const carol = await as('carol', repo);
      const start = await call(s.url, 'POST', `/v2/${repo}/blobs/uploads/`, { headers: alice });
      assert.equal(start.status, 202, start.text);
      const loc = String(start.headers.location);
      assert.equal(
        (await call(s.url, 'PATCH', loc, { headers: { ...alice, 'Content-Range': '0-4' }, body: 'hello' })).status,
        202,
      );

      const unknown = (res: { status: number; json(): any }, what: string) => {
        assert.equal(res.status, 404, what);
        if (what !== 'HEAD') assert.equal(res.json().errors[0].code, 'BLOB_UPLOAD_UNKNOWN', what);
      };
      unknown(await call(s.url, 'GET', loc, { headers: carol }), 'GET');
      unknown(
        await call(s.url, 'PATCH', loc, { headers: { ...carol, 'Content-Range': '5-9' }, body: 'world' }),
        'PATCH',
      );
      unknown(await call(s.url, 'PUT', `${loc}?digest=${sha('helloworld')}`, { headers: carol, body: 'world' }), 'PUT');
      unknown(await call(s.url, 'DELETE', loc, { headers: carol }), 'DELETE');

      const status = await call(s.url, 'GET', loc, { headers: alice });
      assert.equal(status.status, 204);
      assert.equal(status.headers.range, '0-4', 'the teammate changed nothing');
      const done = await call(s.url, 'PUT', `${loc}?digest=${sha('hello world')}`, { headers: alice, body: ' world' });
      assert.equal(done.status, 201, done.text);
    });
  });
}

sessionTests('token');
sessionTests('basic');

describe('session caps', () => {
  let s: AuthServer;
  before(async () => {
    s = await startAuthInProcess({
      mode: 'basic',
      config: { maxUploadsPerUser: 3, maxUploadsPerRepository: 2, maxUploads: 5 },
    });
  });
  after(async () => {
    await s?.stop();
  });
  const h = (who: TestUser) => ({ Authorization: basic(who, PASSWORDS[who]) });
  const post = (who: TestUser, repo: string) => call(s.url, 'POST', `/v2/${repo}/blobs/uploads/`, { headers: h(who) });
  const uploadFiles = async () => (await readdir(join(s.dataDir, 'uploads'))).length;

  function tooMany(res: { status: number; headers: Record<string, unknown>; json(): any }): void {
    assert.equal(res.status, 429);
    assert.equal(res.json().errors[0].code, 'TOOMANYREQUESTS');
    assert.ok(Number(res.headers['retry-after']) > 0);
  }

  it('per repository, per user and in all → 429 TOOMANYREQUESTS; refused POSTs leave no session; room again after finishing one', async () => {
    const locs: string[] = [];
    for (const repo of ['alice/a', 'alice/a']) {
      const res = await post('alice', repo);
      assert.equal(res.status, 202);
      locs.push(String(res.headers.location));
    }
    const files = await uploadFiles();
    tooMany(await post('alice', 'alice/a')); // the repository is full
    const third = await post('alice', 'alice/b');
    assert.equal(third.status, 202, 'another repository has room');
    tooMany(await post('alice', 'alice/c')); // alice is at her 3
    const monolithic = await call(s.url, 'POST', `/v2/alice/c/blobs/uploads/?digest=${sha('x')}`, {
      headers: h('alice'),
      body: 'x',
    });
    tooMany(monolithic);
    assert.equal(await uploadFiles(), files + 1, 'refused POSTs leave no session file');
    // bob is not limited by alice's sessions, only by the registry-wide cap (5).
    assert.equal((await post('bob', 'bob/a')).status, 202);
    assert.equal((await post('bob', 'bob/b')).status, 202);
    tooMany(await post('bob', 'bob/c'));
    // Finishing a session makes room.
    assert.equal(
      (await call(s.url, 'PUT', `${locs[0]}?digest=${sha('abc')}`, { headers: h('alice'), body: 'abc' })).status,
      201,
    );
    assert.equal((await post('alice', 'alice/a')).status, 202);
    // Cancelling too.
    assert.equal((await call(s.url, 'DELETE', locs[1]!, { headers: h('alice') })).status, 204);
    assert.equal((await post('bob', 'bob/c')).status, 202);
  });
});
