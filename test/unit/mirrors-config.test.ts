/** The `mirrors:` section: what it accepts, and a clear error naming the entry for what it refuses. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { loadCredentialSource } from '../../src/config/credential-source.js';
import { parseMirrors } from '../../src/config/mirrors-config.js';

const one = (entry: Record<string, unknown>) => parseMirrors([entry])![0]!;

describe('mirrors config', () => {
  it('parses a single repository with filters, keys and credentials', () => {
    assert.deepEqual(
      one({
        source: 'registry.example.com:5000/library/alpine',
        destination: 'mirror/alpine',
        interval: '1h30m',
        include: '^3\\.',
        exclude: 'rc',
        semver: '>=3.18',
        only_signed: true,
        keys: ['./k.pub'],
        username_env: 'U',
        password_file: './p',
      }),
      {
        name: 'registry.example.com:5000/library/alpine',
        registry: 'registry.example.com:5000',
        repository: 'library/alpine',
        destination: 'mirror/alpine',
        intervalMs: 5_400_000,
        include: '^3\\.',
        exclude: 'rc',
        semver: '>=3.18',
        onlySigned: true,
        keys: ['./k.pub'],
        ignoreTlog: false,
        ignoreSct: false,
        insecure: false,
        credentials: { usernameEnv: 'U', passwordFile: './p' },
      },
    );
  });

  it('takes keyless verification and TLS settings with the names require_signatures and proxy: use', () => {
    const m = one({
      source: 'ghcr.io/acme/app',
      destination: 'mirror/app',
      interval: '1h',
      only_signed: true,
      trusted_root: './trusted_root.json',
      certificate_identity_regexp: '^https://github.com/acme/',
      certificate_oidc_issuer: 'https://token.actions.githubusercontent.com',
      insecure_ignore_sct: true,
      ca_file: './ca.pem',
    });
    assert.deepEqual(
      {
        keys: m.keys,
        keyless: m.keyless,
        ignoreTlog: m.ignoreTlog,
        ignoreSct: m.ignoreSct,
        caFile: m.caFile,
        insecure: m.insecure,
      },
      {
        keys: [],
        keyless: {
          trustedRoot: './trusted_root.json',
          identityRegexp: '^https://github.com/acme/',
          issuer: 'https://token.actions.githubusercontent.com',
        },
        ignoreTlog: false,
        ignoreSct: true,
        caFile: './ca.pem',
        insecure: false,
      },
    );
    assert.equal(one({ source: 'r.example/a', interval: '1h', insecure: true }).insecure, true);
  });

  it('takes globs and namespaces as sets of repositories below a prefix', () => {
    assert.equal(one({ source: 'r.example/team/**', destination: 'up', interval: '5m' }).glob, 'team/**');
    assert.equal(one({ source: 'r.example/team/', interval: '5m' }).glob, 'team/**');
    const all = one({ source: 'localhost:5001', interval: '5m' });
    assert.equal(all.glob, '**');
    assert.equal(all.destination, '');
    // A single repository keeps its name when no destination is given.
    assert.equal(one({ source: 'r.example/team/app', interval: '5m' }).destination, 'team/app');
  });

  for (const [entry, message] of [
    [{ interval: '1h' }, /mirrors\[0\] needs source/],
    [{ source: 'library/alpine', interval: '1h' }, /must start with the registry's host/],
    [{ source: 'r.example/a' }, /mirrors\[0\] needs interval/],
    [{ source: 'r.example/a', interval: 'hourly' }, /mirrors\[0\]\.interval must be a duration/],
    [{ source: 'r.example/a', interval: '0' }, /at least 1s/],
    [{ source: 'r.example/a', interval: '1h', include: '(' }, /include: not a regular expression/],
    [{ source: 'r.example/a', interval: '1h', semver: 'not a range!' }, /mirrors\[0\]\.semver/],
    [{ source: 'r.example/a', interval: '1h', only_signed: true }, /only_signed needs keys/],
    [{ source: 'r.example/a', interval: '1h', keys: ['k.pub'] }, /verification settings need only_signed: true/],
    [
      { source: 'r.example/a', interval: '1h', only_signed: true, trusted_root: 't.json', certificate_identity: 'x' },
      /mirrors\[0\] keyless needs trusted_root, certificate_identity\[_regexp\] and certificate_oidc_issuer/,
    ],
    [
      {
        source: 'r.example/a',
        interval: '1h',
        only_signed: true,
        trusted_root: 't.json',
        certificate_identity_regexp: '(',
        certificate_oidc_issuer: 'i',
      },
      /mirrors\[0\]\.certificate_identity_regexp is not a valid regular expression/,
    ],
    [{ source: 'r.example/a', interval: '1h', insecure_ignore_tlog: true }, /need only_signed: true/],
    [{ source: 'r.example/a', interval: '1h', insecure: 'yes' }, /mirrors\[0\]\.insecure must be true or false/],
    [{ source: 'r.example/a', interval: '1h', ca_file: '' }, /mirrors\[0\]\.ca_file must be a non-empty string/],
    [
      { source: 'r.example/a', interval: '1h', username_env: 'U' },
      /mirrors\[0\]: give exactly one of password, password_env/,
    ],
    [
      { source: 'r.example/a', interval: '1h', password_env: 'P' },
      /mirrors\[0\]: give exactly one of username, username_env/,
    ],
    [{ source: 'r.example/a', interval: '1h', destination: 'x/*' }, /a name or prefix, not a glob/],
    [{ source: 'r.example/A', interval: '1h' }, /invalid repository glob/],
    [{ source: 'r.example/a', interval: '1h', schedule: 'x' }, /unknown setting "schedule"/],
  ] as const) {
    it(`refuses ${JSON.stringify(entry)}`, () => {
      assert.throws(() => parseMirrors([entry]), message);
    });
  }

  it('refuses two entries writing into one repository, and reaches serve as a ConfigError', () => {
    assert.throws(
      () =>
        parseMirrors([
          { source: 'a.example/x', destination: 'same', interval: '1h' },
          { source: 'b.example/y', destination: 'same', interval: '1h' },
        ]),
      /two entries write into the repository same/,
    );
    assert.throws(
      () => resolveConfig({ mirrors: 'x' }, {}, {}),
      (e: unknown) => e instanceof ConfigError,
    );
    assert.equal(resolveConfig({}, {}, {}).mirrors, undefined);
  });

  it('reads the credentials an entry names, and says which is missing (never the secret)', async () => {
    const c = one({ source: 'r.example/a', interval: '1h', username: 'bot', password_env: 'TOKEN' }).credentials!;
    assert.deepEqual(await loadCredentialSource(c, 'mirrors (r.example/a)', { TOKEN: 's3cret' }), {
      username: 'bot',
      password: 's3cret',
    });
    await assert.rejects(
      loadCredentialSource(c, 'mirrors (r.example/a)', {}),
      /^Error: mirrors \(r\.example\/a\): the environment variable TOKEN is not set$/,
    );
    const f = one({ source: 'r.example/a', interval: '1h', username: 'bot', password_file: '/nonexistent/p' });
    await assert.rejects(
      loadCredentialSource(f.credentials!, 'here', {}),
      /here: cannot read password_file \/nonexistent\/p: ENOENT/,
    );
  });
});
