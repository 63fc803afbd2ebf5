/**
 * The README's `proxy:` and `mirrors:` examples, read by the config loader `stowage serve`
 * uses: the proxy example caches two public registries under two prefixes next to local
 * repositories, and every documented setting is one the implementation takes.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { readConfigFile, resolveConfig } from '../../src/config/config.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The first ```yaml block after the heading `heading` that starts with `key:`. */
function yamlBlock(readme: string, heading: string, key: string): string {
  const start = readme.indexOf(heading);
  assert.ok(start >= 0, `README has the heading ${heading}`);
  const blocks = readme.slice(start).matchAll(/^```yaml\n([\s\S]*?)^```$/gm);
  for (const [, body] of blocks) if (body!.startsWith(`${key}:`)) return body!;
  assert.fail(`README: no yaml block starting with ${key}: after ${heading}`);
}

describe('README: the pull-through cache and mirrors examples', () => {
  let work: string;
  let readme: string;
  const load = async (yaml: string) => {
    const file = path.join(work, `config-${Math.random().toString(36).slice(2)}.yml`);
    await writeFile(file, yaml);
    return resolveConfig(readConfigFile(file), {}, {});
  };

  before(async () => {
    work = await makeTempDir('readme-config');
    readme = await readFile(README, 'utf8');
  });
  after(async () => {
    if (work) await removeDir(work);
  });

  it('caches two public registries under two prefixes, next to local repositories', async () => {
    const config = await load(yamlBlock(readme, '## Pull-through cache', 'proxy'));
    const rules = config.proxy ?? [];
    assert.deepEqual(
      rules.map((r) => [r.prefix, r.upstreams]),
      [
        ['hub', ['https://registry-1.docker.io', 'https://mirror.gcr.io']],
        ['ghcr', ['https://ghcr.io']],
      ],
    );
    // Credentials come from the environment and files, never inline.
    assert.deepEqual(
      rules.map((r) => r.credentials),
      [
        { usernameEnv: 'DOCKERHUB_USER', passwordFile: '/run/secrets/dockerhub-token' },
        { usernameEnv: 'GHCR_USER', passwordEnv: 'GHCR_TOKEN' },
      ],
    );
    assert.ok(rules.every((r) => r.readOnly && !r.insecure));
    // The local repositories the example names are outside every prefix.
    for (const local of ['team/app', 'charts/podinfo'])
      assert.ok(!rules.some((r) => local.startsWith(`${r.prefix}/`)), local);
  });

  it('the mirrors example parses, keyless and TLS settings included', async () => {
    const config = await load(yamlBlock(readme, '### Mirroring', 'mirrors'));
    const mirrors = config.mirrors ?? [];
    assert.equal(mirrors.length, 3);
    const keyless = mirrors.find((m) => m.keyless);
    assert.deepEqual(keyless?.keyless, {
      trustedRoot: './sigstore/trusted_root.json',
      identityRegexp: '^https://github.com/acme/',
      issuer: 'https://token.actions.githubusercontent.com',
    });
    assert.equal(mirrors.find((m) => m.glob)?.caFile, './certs/team-ca.pem');
  });
});
