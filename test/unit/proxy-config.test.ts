import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, resolveConfig } from '../../src/config/config.js';
import { ProxyConfigError, parseProxy } from '../../src/config/proxy-config.js';
import { loadUpstreamCredentials } from '../../src/config/proxy-credentials.js';

describe('proxy config', () => {
  it('parses entries with their defaults', () => {
    const rules = parseProxy([
      { prefix: 'hub', upstreams: ['https://registry-1.docker.io', 'https://mirror.gcr.io/'] },
      {
        prefix: 'ghcr',
        upstreams: 'https://ghcr.io',
        tag_ttl_seconds: 60,
        username_env: 'GHCR_USER',
        password_file: './secret',
        allow: ['acme/**'],
        deny: ['acme/private'],
        read_only: false,
        insecure: false,
        ca_file: './ca.pem',
      },
    ]);
    assert.deepEqual(rules, [
      {
        prefix: 'hub',
        upstreams: ['https://registry-1.docker.io', 'https://mirror.gcr.io'],
        tagTtlSeconds: 300,
        insecure: false,
        allow: [],
        deny: [],
        readOnly: true,
      },
      {
        prefix: 'ghcr',
        upstreams: ['https://ghcr.io'],
        tagTtlSeconds: 60,
        credentials: { usernameEnv: 'GHCR_USER', passwordFile: './secret' },
        caFile: './ca.pem',
        insecure: false,
        allow: ['acme/**'],
        deny: ['acme/private'],
        readOnly: false,
      },
    ]);
    assert.equal(parseProxy(undefined), undefined);
  });

  it('refuses what it cannot use, naming the entry and the setting', () => {
    const bad: [unknown, RegExp][] = [
      [{ prefix: 'hub' }, /proxy\[0\] \(prefix hub\): upstreams must list at least one URL/],
      [{ prefix: 'Hub!', upstreams: ['https://x.io'] }, /proxy\[0\]\.prefix must be a repository name/],
      [{ prefix: 'hub', upstreams: ['ftp://x.io'] }, /must be http:\/\/ or https:\/\//],
      [{ prefix: 'hub', upstreams: ['https://u:p@x.io'] }, /upstream URLs carry no credentials/],
      [{ prefix: 'hub', upstreams: ['https://x.io/v2/'] }, /base URL/],
      [{ prefix: 'hub', upstreams: ['https://x.io'], tag_ttl_seconds: -1 }, /tag_ttl_seconds must be an integer ≥ 0/],
      [{ prefix: 'hub', upstreams: ['https://x.io'], username: 'u' }, /exactly one of password, password_env/],
      [{ prefix: 'hub', upstreams: ['https://x.io'], password_env: 'P' }, /exactly one of username, username_env/],
      [{ prefix: 'hub', upstreams: ['https://x.io'], allow: ['UPPER'] }, /allow: invalid repository glob/],
      [{ prefix: 'hub', upstreams: ['https://x.io'], read_only: 'no' }, /read_only must be true or false/],
      [{ prefix: 'hub', upstreams: ['https://x.io'], ttl: 5 }, /unknown setting "ttl"/],
    ];
    for (const [entry, message] of bad) assert.throws(() => parseProxy([entry]), message);
    assert.throws(() => parseProxy({ prefix: 'hub' }), ProxyConfigError);
    assert.throws(
      () =>
        parseProxy([
          { prefix: 'hub', upstreams: ['https://a.io'] },
          { prefix: 'hub/library', upstreams: ['https://b.io'] },
        ]),
      /prefixes "hub" and "hub\/library" overlap/,
    );
    // Through the config loader, as `stowage serve` sees it.
    assert.throws(() => resolveConfig({ proxy: [{ prefix: 'hub' }] }, {}, {}), ConfigError);
  });

  it('loads credentials from env and files, never echoing a secret', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'proxy-creds-'));
    try {
      const file = path.join(dir, 'token');
      await writeFile(file, 's3cret\n');
      const [rule] = parseProxy([
        { prefix: 'ghcr', upstreams: ['https://ghcr.io'], username_env: 'GHCR_USER', password_file: file },
      ])!;
      assert.deepEqual(await loadUpstreamCredentials(rule!, { GHCR_USER: 'bot' }), {
        username: 'bot',
        password: 's3cret',
      });
      await assert.rejects(loadUpstreamCredentials(rule!, {}), /the environment variable GHCR_USER is not set/);
      const [missing] = parseProxy([
        { prefix: 'ghcr', upstreams: ['https://ghcr.io'], username: 'bot', password_file: path.join(dir, 'nope') },
      ])!;
      await assert.rejects(loadUpstreamCredentials(missing!, {}), (e: Error) => {
        assert.match(e.message, /cannot read password_file .*ENOENT/);
        return true;
      });
      const [inline] = parseProxy([
        { prefix: 'ghcr', upstreams: ['https://ghcr.io'], username: 'bot', password_env: 'TOKEN' },
      ])!;
      assert.deepEqual(await loadUpstreamCredentials(inline!, { TOKEN: 'abc' }), { username: 'bot', password: 'abc' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
