/**
 * Stowage's tokens in distribution's format: Debian's docker-registry (CNCF
 * Distribution 2.8) configured for token auth with Stowage's token endpoint as
 * its realm and Stowage's signing certificate as its `rootcertbundle` accepts
 * the tokens Stowage issues (JWT layout, ES256, libtrust `kid`, access claims),
 * and enforces Stowage's policy through them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { createSimpleLayout, type BuiltImage, type OciLayout } from '../helpers/oci-fixtures.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTools,
  type ContainersSandbox,
} from '../helpers/tools.js';
import { PASSWORDS, call, startAuthProcess, type AuthProcess } from './helpers.js';

describe('docker-registry (distribution 2.8) trusting Stowage as its token service', () => {
  let work: string;
  let stowage: AuthProcess;
  let dist: DistributionHandle;
  let sb: ContainersSandbox;
  let layout: OciLayout;
  let image: BuiltImage;
  const authfile = (n: string) => join(sb.dir, `dist-${n}.json`);
  const ref = (repo: string, tag: string) => `docker://${dist.host}/${repo}:${tag}`;

  before(async () => {
    requireTools('skopeo', 'docker-registry');
    work = await makeTempDir('auth-dist');
    // The signing key and a certificate for it (what distribution's rootcertbundle holds).
    const key = join(work, 'signing.pem');
    const cert = join(work, 'signing.crt');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], {
      stdio: 'pipe',
    });
    execFileSync(
      'openssl',
      ['req', '-x509', '-new', '-key', key, '-subj', '/CN=stowage-token-signer', '-days', '2', '-out', cert],
      { stdio: 'pipe' },
    );
    stowage = await startAuthProcess({ auth: { signing_key: key, service: 'stowage', issuer: 'stowage' } });
    dist = await startDistribution({
      extraConfig: [
        'auth:',
        '  token:',
        `    realm: http://${stowage.host}/token`,
        '    service: stowage',
        '    issuer: stowage',
        `    rootcertbundle: ${JSON.stringify(cert)}`,
      ],
    });
    sb = await createContainersSandbox('auth-dist');
    ({ layout, image } = await createSimpleLayout(join(work, 'layout')));
    await writeFile(authfile('anonymous'), JSON.stringify({ auths: {} }));
  });
  after(async () => {
    await Promise.allSettled([dist?.stop(), stowage?.stop(), sb?.cleanup()]);
    if (work) await removeDir(work);
  });

  it(
    'skopeo logs in to docker-registry through Stowage, pushes and pulls with Stowage-issued tokens',
    { timeout: 120_000 },
    async () => {
      const ping = await call(dist.url, 'GET', '/v2/');
      assert.equal(ping.status, 401);
      assert.equal(ping.headers['www-authenticate'], `Bearer realm="http://${stowage.host}/token",service="stowage"`);
      const login = await sb.skopeo(
        ['login', '--authfile', authfile('alice'), '--tls-verify=false', '-u', 'alice', '--password-stdin', dist.host],
        { input: PASSWORDS.alice },
      );
      assert.match(login.stdout, /Login Succeeded/);
      await sb.skopeo([
        'copy',
        '--dest-authfile',
        authfile('alice'),
        '--dest-tls-verify=false',
        layout.ref('v1'),
        ref('alice/app', 'v1'),
      ]);
      const inspected = JSON.parse(
        (await sb.skopeo(['inspect', '--authfile', authfile('alice'), '--tls-verify=false', ref('alice/app', 'v1')]))
          .stdout,
      );
      assert.equal(inspected.Digest, image.digest);
      // Stowage issued those tokens.
      assert.ok(stowage.proc.logs.some((l) => l.includes('"path":"/token"') && l.includes('"status":200')));
    },
  );

  it(
    "Stowage's policy decides: bob cannot push to or read alice's repository, anonymous gets nothing",
    { timeout: 120_000 },
    async () => {
      await sb.skopeo(
        ['login', '--authfile', authfile('bob'), '--tls-verify=false', '-u', 'bob', '--password-stdin', dist.host],
        { input: PASSWORDS.bob },
      );
      const push = await sb.skopeo(
        [
          'copy',
          '--dest-authfile',
          authfile('bob'),
          '--dest-tls-verify=false',
          layout.ref('v1'),
          ref('alice/app', 'evil'),
        ],
        { allowFailure: true },
      );
      assert.notEqual(push.code, 0);
      assert.match(push.stderr, /denied|unauthorized|authentication required/i);
      const read = await sb.skopeo(
        ['inspect', '--authfile', authfile('bob'), '--tls-verify=false', ref('alice/app', 'v1')],
        { allowFailure: true },
      );
      assert.notEqual(read.code, 0);
      const anon = await sb.skopeo(
        ['inspect', '--authfile', authfile('anonymous'), '--tls-verify=false', ref('alice/app', 'v1')],
        { allowFailure: true },
      );
      assert.notEqual(anon.code, 0);
      const wrong = await sb.skopeo(
        ['login', '--authfile', authfile('x'), '--tls-verify=false', '-u', 'alice', '--password-stdin', dist.host],
        { input: 'wrong', allowFailure: true },
      );
      assert.notEqual(wrong.code, 0);
    },
  );
});
