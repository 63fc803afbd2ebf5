/**
 * Replicas share the token signing key through the environment: one gets the PEM
 * in STOWAGE_AUTH_SIGNING_KEY, another the path in STOWAGE_AUTH_SIGNING_KEY_FILE,
 * both over the same PostgreSQL + S3 and nothing else on a shared disk. A token
 * either one issues is honoured by the other; a replica with a key of its own
 * refuses it. The key never reaches the log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { scaleOutEnv } from '../helpers/services.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { bearer, fetchToken, PASSWORDS, POLICY, pushTinyImage, writeUsers } from '../auth/helpers.js';

describe('replicas verify each other’s tokens with a signing key from env', () => {
  const state: { work?: string; drop?: () => Promise<void>; pem?: string } = {};
  // Two replicas sharing the key, and one with a key of its own.
  let [a, b, loner] = [] as unknown as [StowageProcess, StowageProcess, StowageProcess];

  before(async () => {
    const work = (state.work = await makeTempDir('shared-key'));
    const scaled = await scaleOutEnv();
    state.drop = scaled.drop;
    const pem = (state.pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString());
    const keyFile = join(work, 'signing-key.pem');
    await writeFile(keyFile, pem, { mode: 0o600 });
    await writeUsers(join(work, 'htpasswd'), ['alice', 'bob']);
    const config = join(work, 'config.yaml');
    await writeFile(
      config,
      stringify({ fsync: false, auth: { mode: 'token', htpasswd: join(work, 'htpasswd'), policy: POLICY } }),
    );
    const args = ['--config', config];
    [a, b, loner] = await Promise.all([
      startStowage({ args, env: { ...scaled.env, STOWAGE_AUTH_SIGNING_KEY: pem } }),
      startStowage({ args, env: { ...scaled.env, STOWAGE_AUTH_SIGNING_KEY_FILE: keyFile } }),
      // Same stores, but the key it generates in its own data dir.
      startStowage({ args, env: scaled.env }),
    ]);
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop(), loner?.stop()]);
    await state.drop?.();
    if (state.work) await removeDir(state.work);
  });

  const alice = { user: 'alice', secret: PASSWORDS.alice };

  it('a token from one replica pushes through it and reads through the other, both ways', async () => {
    const fromA = await fetchToken(a, alice, ['repository:alice/app:pull,push']);
    assert.equal(await pushTinyImage(a, 'alice/app', 'v1', bearer(fromA.token)), 201);
    const onB = await fetch(`${b.url}/v2/alice/app/tags/list`, { headers: bearer(fromA.token) });
    assert.equal(onB.status, 200);
    assert.deepEqual(((await onB.json()) as { tags: string[] }).tags, ['v1']);

    const fromB = await fetchToken(b, alice, ['repository:alice/app:pull,push']);
    assert.equal(await pushTinyImage(b, 'alice/app', 'v2', bearer(fromB.token)), 201);
    const onA = await fetch(`${a.url}/v2/alice/app/tags/list`, { headers: bearer(fromB.token) });
    assert.deepEqual(((await onA.json()) as { tags: string[] }).tags, ['v1', 'v2']);
  });

  it('a replica with another key refuses those tokens, and theirs its', async () => {
    const fromA = await fetchToken(a, alice, ['repository:alice/app:pull']);
    const res = await fetch(`${loner.url}/v2/alice/app/tags/list`, { headers: bearer(fromA.token) });
    assert.equal(res.status, 401);
    const fromLoner = await fetchToken(loner, alice, ['repository:alice/app:pull']);
    assert.equal((await fetch(`${b.url}/v2/alice/app/tags/list`, { headers: bearer(fromLoner.token) })).status, 401);
    assert.equal(
      (await fetch(`${loner.url}/v2/alice/app/tags/list`, { headers: bearer(fromLoner.token) })).status,
      200,
    );
  });

  it('never logs the key', () => {
    const body = state.pem!.split('\n')[1]!;
    for (const p of [a, b]) assert.ok(!p.logs.some((l) => l.includes(body) || l.includes('PRIVATE KEY')));
  });
});
