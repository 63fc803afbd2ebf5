/**
 * The seed workflow with real clients: `skopeo login` / `podman login` with a
 * password and with a personal access token, then push and pull; pushes the
 * policy denies; anonymous pulls of a public repository; token expiry; one
 * user cannot read another's private repository. Token auth over plain HTTP
 * and over TLS (certificate trusted through `--cert-dir` with a ca.crt, TLS
 * verification on), and Basic mode over HTTP.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadOrCreateSigningKey } from '../../src/auth/keys.js';
import { signToken } from '../../src/auth/jwt.js';
import { parsePatScope } from '../../src/auth/pat.js';
import { createSimpleLayout, type OciLayout, type BuiltImage } from '../helpers/oci-fixtures.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
  type RunResult,
} from '../helpers/tools.js';
import {
  openPats,
  PASSWORDS,
  bearer,
  call,
  fetchToken,
  makeTls,
  startAuthProcess,
  type AuthProcess,
  type TlsFiles,
} from './helpers.js';

const TIMEOUT = { timeout: 120_000 };

for (const transport of ['http', 'https'] as const) {
  describe(`real clients, token auth over ${transport}`, () => {
    let s: AuthProcess;
    let sb: ContainersSandbox;
    let work: string;
    let tls: TlsFiles | undefined;
    let image: BuiltImage;
    let layout: OciLayout;

    /** `--tls-verify=false` on plain HTTP; `--cert-dir <dir with ca.crt>` (verification on) over TLS. */
    const tlsFlag = (side: '' | 'src-' | 'dest-' = '') =>
      tls ? [`--${side}cert-dir=${tls.certDir}`] : [`--${side}tls-verify=false`];
    const authfile = (name: string) => join(sb.dir, `auth-${name}.json`);
    const ref = (repo: string, tag: string) => `docker://${s.host}/${repo}:${tag}`;
    const fails = async (p: Promise<RunResult>, what: string) => {
      const r = await p;
      assert.notEqual(r.code, 0, `${what} should fail:\n${r.stdout}\n${r.stderr}`);
      return r.stderr;
    };
    const login = (tool: 'skopeo' | 'podman', name: string, user: string, secret: string, allowFailure = false) =>
      sb[tool](['login', '--authfile', authfile(name), ...tlsFlag(), '--username', user, '--password-stdin', s.host], {
        input: `${secret}\n`,
        allowFailure,
      });
    const tagsOf = async (repo: string) => {
      const t = await fetchToken(s, { user: 'admin', secret: PASSWORDS.admin }, [`repository:${repo}:pull`]);
      const res = await call(s.url, 'GET', `/v2/${repo}/tags/list`, {
        headers: bearer(t.token),
        ...(s.ca ? { ca: s.ca } : {}),
      });
      return res.status === 200 ? (res.json().tags as string[]) : [];
    };

    before(async () => {
      requireTools('skopeo', 'podman');
      work = await makeTempDir(`auth-clients-${transport}`);
      tls = transport === 'https' ? await makeTls(join(work, 'tls')) : undefined;
      s = await startAuthProcess(tls ? { tls } : {});
      sb = await createContainersSandbox(`auth-${transport}`);
      ({ layout, image } = await createSimpleLayout(join(work, 'layout'), { layerCount: 2 }));
    });
    after(async () => {
      await Promise.allSettled([s?.stop(), sb?.cleanup()]);
      if (work) await removeDir(work);
    });

    it('skopeo login with a password, then push and pull back', TIMEOUT, async () => {
      const r = await login('skopeo', 'alice', 'alice', PASSWORDS.alice);
      assert.match(r.stdout, /Login Succeeded/);
      await sb.skopeo([
        'copy',
        '--dest-authfile',
        authfile('alice'),
        ...tlsFlag('dest-'),
        layout.ref('v1'),
        ref('alice/app', 'v1'),
      ]);
      const inspected = JSON.parse(
        (await sb.skopeo(['inspect', '--authfile', authfile('alice'), ...tlsFlag(), ref('alice/app', 'v1')])).stdout,
      );
      assert.equal(inspected.Digest, image.digest);
      await sb.skopeo([
        'copy',
        '--src-authfile',
        authfile('alice'),
        ...tlsFlag('src-'),
        ref('alice/app', 'v1'),
        `oci:${join(work, 'pulled')}:v1`,
      ]);
      assert.deepEqual(await tagsOf('alice/app'), ['v1']);
    });

    it('login fails with a wrong password', TIMEOUT, async () => {
      const stderr = await fails(
        login('skopeo', 'wrong', 'alice', 'not-the-password', true),
        'login with a wrong password',
      );
      assert.match(stderr, /invalid username\/password|unauthorized|401/i);
    });

    it('podman login with a personal access token, then pull and push', TIMEOUT, async () => {
      const pats = openPats(s.dataDir);
      const { token } = await pats.create('alice', [parsePatScope('alice/**:pull,push')]);
      await pats.close();
      assert.match((await login('podman', 'alice-pat', 'alice', token)).stdout, /Login Succeeded/);
      const policy = ['--signature-policy', sb.policyPath];
      const src = `${s.host}/alice/app:v1`;
      await sb.podman(['pull', '--authfile', authfile('alice-pat'), ...tlsFlag(), ...policy, '-q', src]);
      await sb.podman([
        'push',
        '--authfile',
        authfile('alice-pat'),
        ...tlsFlag(),
        ...policy,
        src,
        `docker://${s.host}/alice/copy:v1`,
      ]);
      assert.deepEqual(await tagsOf('alice/copy'), ['v1']);
      // The token's scopes stop at alice/**, and the policy at alice's own repositories.
      await fails(
        sb.podman(
          [
            'push',
            '--authfile',
            authfile('alice-pat'),
            ...tlsFlag(),
            ...policy,
            src,
            `docker://${s.host}/bob/stolen:v1`,
          ],
          { allowFailure: true },
        ),
        'push outside the PAT scope',
      );
      assert.deepEqual(await tagsOf('bob/stolen'), []);
    });

    it('a revoked personal access token cannot log in', TIMEOUT, async () => {
      const pats = openPats(s.dataDir);
      const { token, record } = await pats.create('bob', [parsePatScope('bob/**:pull,push')]);
      assert.match((await login('skopeo', 'bob-pat', 'bob', token)).stdout, /Login Succeeded/);
      await pats.revoke(record.id);
      await pats.close();
      await fails(login('skopeo', 'bob-pat-2', 'bob', token, true), 'login with a revoked token');
      await fails(
        sb.skopeo(['inspect', '--authfile', authfile('bob-pat'), ...tlsFlag(), ref('bob/any', 'v1')], {
          allowFailure: true,
        }),
        'use of a revoked token',
      );
    });

    it(
      "pushes the policy denies fail, and a second user cannot read another user's private repository",
      TIMEOUT,
      async () => {
        await login('skopeo', 'bob', 'bob', PASSWORDS.bob);
        const stderr = await fails(
          sb.skopeo(
            [
              'copy',
              '--dest-authfile',
              authfile('bob'),
              ...tlsFlag('dest-'),
              layout.ref('v1'),
              ref('alice/app', 'evil'),
            ],
            { allowFailure: true },
          ),
          "bob pushing into alice's repository",
        );
        assert.match(stderr, /denied|unauthorized|authentication required/i);
        assert.deepEqual(await tagsOf('alice/app'), ['v1'], 'nothing changed');
        await fails(
          sb.skopeo(['inspect', '--authfile', authfile('bob'), ...tlsFlag(), ref('alice/app', 'v1')], {
            allowFailure: true,
          }),
          'bob reading alice/app',
        );
        await fails(
          sb.podman(
            [
              'pull',
              '--authfile',
              authfile('bob'),
              ...tlsFlag(),
              '--signature-policy',
              sb.policyPath,
              `${s.host}/alice/app:v1`,
            ],
            { allowFailure: true },
          ),
          'bob pulling alice/app with podman',
        );
        // Bob's own namespace works.
        await sb.skopeo([
          'copy',
          '--dest-authfile',
          authfile('bob'),
          ...tlsFlag('dest-'),
          layout.ref('v1'),
          ref('bob/app', 'v1'),
        ]);
      },
    );

    it('anonymous pull of a public repository (and nothing else)', TIMEOUT, async () => {
      await login('skopeo', 'admin', 'admin', PASSWORDS.admin);
      await sb.skopeo([
        'copy',
        '--dest-authfile',
        authfile('admin'),
        ...tlsFlag('dest-'),
        layout.ref('v1'),
        ref('public/base', 'v1'),
      ]);
      const anon = authfile('anonymous'); // never logged in: no credentials at all
      await writeFile(anon, JSON.stringify({ auths: {} }));
      const inspected = JSON.parse(
        (await sb.skopeo(['inspect', '--authfile', anon, ...tlsFlag(), ref('public/base', 'v1')])).stdout,
      );
      assert.equal(inspected.Digest, image.digest);
      await sb.skopeo([
        'copy',
        '--src-authfile',
        anon,
        ...tlsFlag('src-'),
        ref('public/base', 'v1'),
        `oci:${join(work, 'anon')}:v1`,
      ]);
      await sb.podman([
        'pull',
        '--authfile',
        anon,
        ...tlsFlag(),
        '--signature-policy',
        sb.policyPath,
        '-q',
        `${s.host}/public/base:v1`,
      ]);
      await fails(
        sb.skopeo(['inspect', '--authfile', anon, ...tlsFlag(), ref('alice/app', 'v1')], { allowFailure: true }),
        'anonymous read of a private repository',
      );
      await fails(
        sb.skopeo(
          ['copy', '--dest-authfile', anon, ...tlsFlag('dest-'), layout.ref('v1'), ref('public/base', 'anon')],
          { allowFailure: true },
        ),
        'anonymous push',
      );
      assert.deepEqual(await tagsOf('public/base'), ['v1']);
    });

    it('an expired token is refused; a fresh one from the token endpoint works', TIMEOUT, async () => {
      const { key } = await loadOrCreateSigningKey(join(s.dataDir, 'auth', 'token-signing-key.pem'));
      const access = [{ type: 'repository', name: 'alice/app', actions: ['pull'] }];
      const expired = await signToken(
        key,
        { iss: 'stowage', sub: 'alice', aud: 'stowage', access, ttl: 300 },
        Math.floor(Date.now() / 1000) - 600,
      );
      const stderr = await fails(
        sb.skopeo(['inspect', '--registry-token', expired, ...tlsFlag(), ref('alice/app', 'v1')], {
          allowFailure: true,
        }),
        'inspect with an expired token',
      );
      assert.match(stderr, /unauthorized|401|authentication required|invalid/i);
      const fresh = await fetchToken(s, { user: 'alice', secret: PASSWORDS.alice }, ['repository:alice/app:pull']);
      const ok = JSON.parse(
        (await sb.skopeo(['inspect', '--registry-token', fresh.token, ...tlsFlag(), ref('alice/app', 'v1')])).stdout,
      );
      assert.equal(ok.Digest, image.digest);
    });
  });
}

describe('real clients, Basic auth mode over HTTP', () => {
  let s: AuthProcess;
  let sb: ContainersSandbox;
  let work: string;
  let layout: OciLayout;
  const authfile = (name: string) => join(sb.dir, `auth-${name}.json`);
  const ref = (repo: string, tag: string) => `docker://${s.host}/${repo}:${tag}`;

  before(async () => {
    requireTools('skopeo');
    work = await makeTempDir('auth-basic-clients');
    s = await startAuthProcess({ mode: 'basic' });
    sb = await createContainersSandbox('auth-basic');
    ({ layout } = await createSimpleLayout(join(work, 'layout')));
  });
  after(async () => {
    await Promise.allSettled([s?.stop(), sb?.cleanup()]);
    if (work) await removeDir(work);
  });

  it('skopeo login, push, anonymous public pull (podman sends `Basic Og==`), denial', TIMEOUT, async () => {
    const login = (name: string, user: string, pw: string) =>
      sb.skopeo(['login', '--authfile', authfile(name), '--tls-verify=false', '-u', user, '--password-stdin', s.host], {
        input: pw,
        allowFailure: true,
      });
    assert.equal((await login('bad', 'alice', 'wrong-password')).code === 0, false);
    assert.match((await login('admin', 'admin', PASSWORDS.admin)).stdout, /Login Succeeded/);
    await sb.skopeo([
      'copy',
      '--dest-authfile',
      authfile('admin'),
      '--dest-tls-verify=false',
      layout.ref('v1'),
      ref('public/base', 'v1'),
    ]);
    await sb.skopeo([
      'copy',
      '--dest-authfile',
      authfile('admin'),
      '--dest-tls-verify=false',
      layout.ref('v1'),
      ref('alice/app', 'v1'),
    ]);
    await writeFile(authfile('none'), JSON.stringify({ auths: {} }));
    await sb.skopeo(['inspect', '--authfile', authfile('none'), '--tls-verify=false', ref('public/base', 'v1')]);
    await sb.podman([
      'pull',
      '--authfile',
      authfile('none'),
      '--tls-verify=false',
      '--signature-policy',
      sb.policyPath,
      '-q',
      `${s.host}/public/base:v1`,
    ]);
    assert.match((await login('bob', 'bob', PASSWORDS.bob)).stdout, /Login Succeeded/);
    const denied = await sb.skopeo(
      ['inspect', '--authfile', authfile('bob'), '--tls-verify=false', ref('alice/app', 'v1')],
      { allowFailure: true },
    );
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /denied/i);
  });
});
