import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, DEFAULTS, readConfigFile, readEnv, resolveConfig } from '../../src/config/config.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/auth.yaml', import.meta.url));

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stowage-authcfg-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fromYaml(text: string, env: Record<string, string> = {}, flags: Record<string, unknown> = {}) {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, text);
  return resolveConfig(readConfigFile(path), readEnv(env), flags);
}

describe('auth and tls config', () => {
  it('adds nothing when absent: open access, plain HTTP, defaults unchanged', () => {
    const c = resolveConfig({}, {}, {});
    assert.deepEqual(c, DEFAULTS);
    assert.equal('auth' in c, false);
    assert.equal('tls' in c, false);
  });

  it('fills token-auth defaults, with files under the data dir', async () => {
    const c = await fromYaml('data: /srv/reg\nauth:\n  mode: token\n');
    assert.deepEqual(c.auth, {
      mode: 'token',
      htpasswd: '/srv/reg/htpasswd',
      service: 'stowage',
      issuer: 'stowage',
      signingKey: '/srv/reg/auth/token-signing-key.pem',
      tokenTtlSeconds: 300,
      refreshTokenTtlSeconds: 2592000,
      trustedIssuers: [],
      rateLimit: { windowSeconds: 60, perAddress: 30, perUser: 10 },
      credentialCacheSeconds: 30,
      policy: {},
    });
  });

  it('auth.mode none means open access', async () => {
    assert.equal((await fromYaml('auth:\n  mode: none\n')).auth, undefined);
  });

  it('reads the documented example as is', () => {
    const c = resolveConfig(readConfigFile(EXAMPLE), {}, {});
    assert.equal(c.auth?.mode, 'token');
    assert.equal(c.auth?.htpasswd, './data/htpasswd');
    assert.deepEqual(c.auth?.policy.rules, [
      { repositories: ['{user}', '{user}/**'], who: ['{user}'], actions: ['pull', 'push', 'delete'] },
    ]);
  });

  it('refuses mistakes with a message that names the setting', async () => {
    const cases: [string, RegExp][] = [
      ['auth:\n  mode: oauth\n', /auth.mode must be token, basic or none/],
      ['auth:\n  modes: token\n', /auth: unknown setting "modes"/],
      ['auth:\n  token_ttl_seconds: 30\n', /tokenTtlSeconds must be an integer ≥ 60/],
      ['auth:\n  realm: /token\n', /absolute http\(s\) URL/],
      ['auth:\n  trusted_issuers:\n    - issuer: x\n', /exactly one of jwks or public_key/],
      ['auth:\n  trusted_issuers:\n    - issuer: stowage\n      jwks: k.json\n', /Stowage's own issuer/],
      [
        'auth:\n  policy:\n    rules:\n      - repositories: ["a/**"]\n        who: [alice]\n        actions: [write]\n',
        /unknown action "write"/,
      ],
      [
        'auth:\n  policy:\n    rules:\n      - repositories: ["{user}/**"]\n        who: [{user}]\n        actions: [pull]\n',
        /who must be a list of strings/,
      ],
      ['auth:\n  policy:\n    owners: []\n', /unknown setting "owners"/],
      ['tls:\n  cert: a.crt\n', /tls.key must be a non-empty string/],
      ['tls: yes\n', /tls must be a mapping/],
    ];
    for (const [yaml, msg] of cases)
      await assert.rejects(
        fromYaml(yaml),
        (e: unknown) => e instanceof ConfigError && msg.test((e as Error).message),
        yaml,
      );
  });

  it('tls: flags > env > file, key by key', async () => {
    const file = 'tls:\n  cert: /file.crt\n  key: /file.key\n';
    assert.deepEqual((await fromYaml(file)).tls, { cert: '/file.crt', key: '/file.key' });
    assert.deepEqual((await fromYaml(file, { STOWAGE_TLS_CERT: '/env.crt' })).tls, {
      cert: '/env.crt',
      key: '/file.key',
    });
    assert.deepEqual((await fromYaml(file, { STOWAGE_TLS_CERT: '/env.crt' }, { tls: { cert: '/flag.crt' } })).tls, {
      cert: '/flag.crt',
      key: '/file.key',
    });
    assert.deepEqual((await fromYaml('', { STOWAGE_TLS_CERT: '/e.crt', STOWAGE_TLS_KEY: '/e.key' })).tls, {
      cert: '/e.crt',
      key: '/e.key',
    });
  });

  it('the token signing key from env: the PEM (STOWAGE_AUTH_SIGNING_KEY) or a file (…_FILE), over the file setting', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pemText = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyFile = join(dir, 'shared-key.pem');
    await writeFile(keyFile, pemText);
    const yaml = 'auth:\n  mode: token\n  signing_key: /elsewhere/key.pem\n';
    const inline = await fromYaml(yaml, { STOWAGE_AUTH_SIGNING_KEY: pemText });
    assert.equal(inline.auth?.signingKeyPem, pemText);
    assert.equal(inline.auth?.signingKey, join('data', 'auth', 'token-signing-key.pem'), 'the file is not used');
    assert.equal((await fromYaml(yaml, { STOWAGE_AUTH_SIGNING_KEY_FILE: keyFile })).auth?.signingKeyPem, pemText);
    assert.equal((await fromYaml(yaml)).auth?.signingKeyPem, undefined);
    assert.equal((await fromYaml(yaml)).auth?.signingKey, '/elsewhere/key.pem');
    // In YAML too, for a config rendered from a secret.
    const inYaml = await fromYaml(`auth:\n  mode: token\n  signing_key_pem: |\n${pemText.replace(/^/gm, '    ')}`);
    assert.equal(inYaml.auth?.signingKeyPem?.trim(), pemText.trim());
    // A key alone does not turn auth on.
    assert.equal((await fromYaml('data: x\n', { STOWAGE_AUTH_SIGNING_KEY: pemText })).auth, undefined);
  });

  it('refuses a bad signing key from env without printing it', async () => {
    const yaml = 'auth:\n  mode: token\n';
    await assert.rejects(
      fromYaml(yaml, { STOWAGE_AUTH_SIGNING_KEY: 'secret-not-a-pem' }),
      (e: Error) =>
        e instanceof ConfigError &&
        /STOWAGE_AUTH_SIGNING_KEY/.test(e.message) &&
        !e.message.includes('secret-not-a-pem'),
    );
    await assert.rejects(
      fromYaml(yaml, { STOWAGE_AUTH_SIGNING_KEY_FILE: join(dir, 'missing.pem') }),
      (e: Error) => e instanceof ConfigError && /STOWAGE_AUTH_SIGNING_KEY_FILE/.test(e.message),
    );
    await assert.rejects(
      fromYaml(yaml, { STOWAGE_AUTH_SIGNING_KEY: 'x', STOWAGE_AUTH_SIGNING_KEY_FILE: 'y' }),
      /not both/,
    );
  });
});
