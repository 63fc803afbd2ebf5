/**
 * `stowage mirror`: Debian's docker-registry as the source, Stowage as the destination,
 * through the real CLI — tag filters, semver, dry run, incremental second run, errors.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage } from '../../src/client/index.js';
import { startTarget, stowage, type TargetRegistry } from '../client/helpers.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { makeTempDir, removeDir, requireTools } from '../helpers/tools.js';

describe('stowage mirror', { timeout: 120_000 }, () => {
  let src: TargetRegistry;
  let dst: TargetRegistry;
  let work: string;
  let client: RegistryClient;
  const tagsAt = async (host: string, repo: string) =>
    (
      await client
        .repository(parseReference(`${host}/${repo}`, { defaultTag: null }))
        .tags()
        .catch(() => [])
    ).sort();
  const run = async (args: string[]) => {
    const r = await stowage(['mirror', ...args, '--output', 'json']);
    return { code: r.code, json: r.code === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
  };

  before(async () => {
    requireTools('docker-registry');
    [src, dst] = await Promise.all([startTarget('distribution'), startTarget('stowage')]);
    work = await makeTempDir('mirror');
    client = new RegistryClient({ credentials: new StaticCredentials({}) });
    for (const t of ['3.17.1', '3.18.0', '3.19.2', 'latest', 'edge']) {
      const dir = path.join(work, t);
      await createSimpleLayout(dir, { tag: t, layerCount: 1 });
      await pushImage(client, dir, parseReference(`${src.host}/library/alpine:${t}`));
    }
  });
  after(async () => {
    client?.close();
    await Promise.allSettled([src?.stop(), dst?.stop()]);
    if (work) await removeDir(work);
  });

  it('dry run lists what would be copied and writes nothing', async () => {
    const r = await run([`${src.host}/library/alpine`, `${dst.host}/dry/alpine`, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.tags.map((t: { tag: string; action: string }) => `${t.tag}:${t.action}`),
      ['3.17.1:would-copy', '3.18.0:would-copy', '3.19.2:would-copy', 'edge:would-copy', 'latest:would-copy'],
    );
    assert.deepEqual(await tagsAt(dst.host, 'dry/alpine'), []);
  });

  it('mirrors by tag regex, then a second run copies nothing', async () => {
    const args = [
      `${src.host}/library/alpine`,
      `${dst.host}/mirror/alpine`,
      '--include-tags',
      '^3\\.',
      '--exclude-tags',
      '^3\\.17',
    ];
    const first = await run(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.copied, 2);
    assert.deepEqual(await tagsAt(dst.host, 'mirror/alpine'), ['3.18.0', '3.19.2']);
    const second = await run(args);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json.copied, 0);
    assert.equal(second.json.unchanged, 2);
  });

  it('mirrors by semver range', async () => {
    const r = await run([`${src.host}/library/alpine`, `${dst.host}/semver/alpine`, '--semver', '>=3.18, <3.19']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await tagsAt(dst.host, 'semver/alpine'), ['3.18.0']);
  });

  it('reports an unreachable source with a non-zero exit', async () => {
    const r = await stowage(['mirror', '127.0.0.1:1/library/alpine', `${dst.host}/x/alpine`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /127\.0\.0\.1:1/);
  });
});
