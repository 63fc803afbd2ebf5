/**
 * `stowage mirror`: Debian's docker-registry as the source, Stowage as the destination,
 * through the real CLI — tag filters, semver, dry run, incremental second run, only
 * signed tags, a signature pushed after the first run, several repositories by glob,
 * errors.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage, writeKeyPair } from '../../src/client/index.js';
import { generateKeyPair } from '../../src/sign/index.js';
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
  let env: Record<string, string>;
  const key = (n: string) => path.join(work, n);
  const run = async (args: string[]) => {
    const r = await stowage(['mirror', ...args, '--output', 'json'], { env });
    return { code: r.code, json: r.code === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
  };

  before(async () => {
    requireTools('docker-registry');
    [src, dst] = await Promise.all([startTarget('distribution'), startTarget('stowage')]);
    work = await makeTempDir('mirror');
    env = { HOME: work, DOCKER_CONFIG: work, COSIGN_PASSWORD: 'pw' };
    await writeKeyPair(key('k'), await generateKeyPair(Buffer.from('pw')));
    await writeKeyPair(key('other'), await generateKeyPair(Buffer.from('pw')));
    client = new RegistryClient({ credentials: new StaticCredentials({}) });
    const push = async (repo: string, t: string) => {
      const dir = path.join(work, `${repo.replaceAll('/', '_')}-${t}`);
      await createSimpleLayout(dir, { tag: t, layerCount: 1 });
      await pushImage(client, dir, parseReference(`${src.host}/${repo}:${t}`));
    };
    for (const t of ['3.17.1', '3.18.0', '3.19.2', 'latest', 'edge']) await push('library/alpine', t);
    for (const t of ['v1', 'v2']) await push('signed/app', t);
    for (const [repo, t] of [
      ['team/api', 'v1'],
      ['team/web', 'v1'],
      ['team/web', 'v2'],
      ['other/db', 'v1'],
    ] as const)
      await push(repo, t);
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

  it('--only-signed copies the tag whose signature verifies and reports the unsigned one', async () => {
    const sign = await stowage(['sign', `${src.host}/signed/app:v1`, '--key', key('k.key')], { env });
    assert.equal(sign.code, 0, sign.stderr);
    const args = [`${src.host}/signed/app`, `${dst.host}/signed/app`, '--only-signed', '--key', key('k.pub')];
    const r = await run(args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.tags.map((t: { tag: string; action: string }) => `${t.tag}:${t.action}`),
      ['v1:copied'],
    );
    assert.equal(r.json.tags[0].referrers > 0, true);
    assert.deepEqual(
      r.json.skipped.filter((s: { tag: string }) => !s.tag.startsWith('sha256-')),
      [{ tag: 'v2', reason: 'unsigned: no signature found' }],
    );
    const copied = await tagsAt(dst.host, 'signed/app');
    assert.deepEqual(
      copied.filter((t) => !t.startsWith('sha256-')),
      ['v1'],
    );
    // The signature came along: the copy verifies at the destination.
    const verified = await stowage(['verify', `${dst.host}/signed/app:v1`, '--key', key('k.pub')], { env });
    assert.equal(verified.code, 0, verified.stderr);

    // Signed with another key: reported with the reason, not copied.
    const wrong = await run([...args.slice(0, 3), '--key', key('other.pub'), '--include-tags', '^v1$']);
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.equal(wrong.json.unchanged, 1); // already mirrored: not verified again
    const fresh = await run([
      `${src.host}/signed/app`,
      `${dst.host}/signed-other/app`,
      '--only-signed',
      '--key',
      key('other.pub'),
    ]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(fresh.json.copied, 0);
    assert.match(fresh.json.skipped.find((s: { tag: string }) => s.tag === 'v1').reason, /^signature does not verify/);
    assert.deepEqual(await tagsAt(dst.host, 'signed-other/app'), []);
  });

  it('copies a signature pushed upstream after the first mirror on the next run', async () => {
    const args = [`${src.host}/library/alpine`, `${dst.host}/late/alpine`, '--include-tags', '^latest$'];
    const first = await run(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.copied, 1);
    const unsigned = await stowage(['verify', `${dst.host}/late/alpine:latest`, '--key', key('k.pub')], { env });
    assert.equal(unsigned.code, 1);

    const sign = await stowage(['sign', `${src.host}/library/alpine:latest`, '--key', key('k.key')], { env });
    assert.equal(sign.code, 0, sign.stderr);
    const dry = await run([...args, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.json.tags[0].action, 'would-copy');
    assert.equal(dry.json.tags[0].reason, 'new-referrers');
    const second = await run(args);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json.tags[0].action, 'copied');
    assert.equal(second.json.tags[0].reason, 'new-referrers');
    const verified = await stowage(['verify', `${dst.host}/late/alpine:latest`, '--key', key('k.pub')], { env });
    assert.equal(verified.code, 0, verified.stderr);
    const third = await run(args);
    assert.equal(third.json.unchanged, 1);
    assert.equal(third.json.copied, 0);
  });

  it('mirrors every repository a glob matches, under the same names below a prefix', async () => {
    const r = await run([`${src.host}/team/**`, `${dst.host}/copies`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.repositories.map((x: { source: string; destination: string; copied: number }) => [
        x.source,
        x.destination,
        x.copied,
      ]),
      [
        [`${src.host}/team/api`, `${dst.host}/copies/team/api`, 1],
        [`${src.host}/team/web`, `${dst.host}/copies/team/web`, 2],
      ],
    );
    assert.equal(r.json.copied, 3);
    assert.equal(r.json.bytes > 0, true);
    assert.deepEqual(await tagsAt(dst.host, 'copies/team/api'), ['v1']);
    assert.deepEqual(await tagsAt(dst.host, 'copies/team/web'), ['v1', 'v2']);
    assert.deepEqual(await tagsAt(dst.host, 'copies/other/db'), []);
    // The namespace spelling, with --prefix: the same two, already there.
    const again = await run([`${src.host}/team/`, dst.host, '--prefix', 'copies']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.copied, 0);
    assert.equal(again.json.unchanged, 3);
  });

  it('reports an unreachable source with a non-zero exit', async () => {
    const r = await stowage(['mirror', '127.0.0.1:1/library/alpine', `${dst.host}/x/alpine`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /127\.0\.0\.1:1/);
  });
});
