/**
 * Scheduled mirrors in a running `stowage serve` (the `mirrors:` config): Debian's
 * docker-registry as the source; a tag pushed there after the start shows up in
 * Stowage on a later run, an unsigned tag stays out of an only_signed mirror, a glob
 * entry fills a prefix, a tag the local rules refuse (immutable) is reported as failed,
 * and the runs are counted in /metrics. Polled, never timed.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage, writeKeyPair } from '../../src/client/index.js';
import { generateKeyPair } from '../../src/sign/index.js';
import { stowage } from '../client/helpers.js';
import { startDistribution, type DistributionHandle } from '../helpers/distribution.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { makeTempDir, removeDir, requireTools } from '../helpers/tools.js';

describe('scheduled mirrors in stowage serve', { timeout: 180_000 }, () => {
  let src: DistributionHandle;
  let serve: StowageProcess;
  let work: string;
  let client: RegistryClient;
  let env: Record<string, string>;
  const file = (n: string) => path.join(work, n);
  const push = async (repo: string, tag: string) => {
    const dir = file(`${repo.replaceAll('/', '_')}-${tag}`);
    await createSimpleLayout(dir, { tag, layerCount: 1 });
    return pushImage(client, dir, parseReference(`${src.host}/${repo}:${tag}`));
  };
  const tags = async (repo: string) =>
    (
      await client
        .repository(parseReference(`${serve.host}/${repo}`, { defaultTag: null }))
        .tags()
        .catch(() => [] as string[])
    )
      .filter((t) => !t.startsWith('sha256-'))
      .sort();
  /** Waits until `check` holds (the mirror runs every second); the suite's timeout bounds it. */
  const eventually = async (what: string, check: () => Promise<boolean>) => {
    while (!(await check())) {
      if (serve.child.exitCode !== null) assert.fail(`serve exited while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const metric = async (line: RegExp) => {
    const body = await (await fetch(`${serve.url}/metrics`)).text();
    const m = body.split('\n').find((l) => line.test(l));
    return m === undefined ? undefined : Number(m.slice(m.lastIndexOf(' ') + 1));
  };

  before(async () => {
    requireTools('docker-registry');
    work = await makeTempDir('mirror-serve');
    env = { HOME: work, DOCKER_CONFIG: work, COSIGN_PASSWORD: 'pw' };
    await writeKeyPair(file('k'), await generateKeyPair(Buffer.from('pw')));
    src = await startDistribution();
    client = new RegistryClient({ credentials: new StaticCredentials({}) });
    await push('library/busybox', '1.36');
    await push('signed/app', 'v1');
    await push('signed/app', 'v2');
    const sign = await stowage(['sign', `${src.host}/signed/app:v1`, '--key', file('k.key')], { env });
    assert.equal(sign.code, 0, sign.stderr);
    await push('team/api', 'v1');
    await push('team/web', 'v1');
    await writeFile(
      file('stowage.yaml'),
      JSON.stringify({
        metrics: { enabled: true },
        // The mirror writes through the registry's rules like any push: this one makes a tag fail.
        immutable_tags: [{ repositories: 'hub/**', tags: ['1.36'] }],
        mirrors: [
          { source: `${src.host}/library/busybox`, destination: 'hub/busybox', interval: '1s' },
          {
            source: `${src.host}/signed/app`,
            destination: 'verified/app',
            interval: '1s',
            only_signed: true,
            keys: [file('k.pub')],
          },
          { source: `${src.host}/team/**`, destination: 'upstream', interval: '1s' },
        ],
      }),
    );
    serve = await startStowage({ args: ['--config', file('stowage.yaml')] });
  });
  after(async () => {
    client?.close();
    await serve?.stop();
    await src?.stop();
    if (work) await removeDir(work);
  });

  it('copies what is there at start, then a tag pushed to the source later', async () => {
    await eventually('busybox:1.36', async () => (await tags('hub/busybox')).includes('1.36'));
    const { digest } = await push('library/busybox', '1.37');
    await eventually('busybox:1.37', async () => (await tags('hub/busybox')).includes('1.37'));
    const local = await client
      .repository(parseReference(`${serve.host}/hub/busybox`, { defaultTag: null }))
      .resolve('1.37');
    assert.equal(local.digest, digest);
    await eventually('a copied line in the log', async () =>
      serve.logs.some((l) => l.includes('"mirror copied a tag"') && l.includes('"tag":"1.37"')),
    );
    // The run's figures are recorded when it ends, after its per-tag lines.
    await eventually('the copies counted', async () => {
      const copied = await metric(/^stowage_mirror_tags_copied_total\{mirror=".*library\/busybox"\}/);
      const runs = await metric(/^stowage_mirror_runs_total\{mirror=".*library\/busybox",result="completed"\}/);
      return (copied ?? 0) >= 2 && (runs ?? 0) >= 2;
    });
    assert.ok(((await metric(/^stowage_mirror_bytes_total\{mirror=".*library\/busybox"\}/)) ?? 0) > 0);
  });

  it('only_signed: the signed tag and its signature, not the unsigned one', async () => {
    await eventually('verified/app:v1', async () => (await tags('verified/app')).includes('v1'));
    // Runs after the one that copied v1 kept v2 out, and the signature verifies here.
    const runs = async () =>
      (await metric(/^stowage_mirror_runs_total\{mirror=".*signed\/app",result="completed"\}/)) ?? 0;
    const seen = await runs();
    await eventually('another run', async () => (await runs()) > seen);
    assert.deepEqual(await tags('verified/app'), ['v1']);
    const verified = await stowage(['verify', `${serve.host}/verified/app:v1`, '--key', file('k.pub')], { env });
    assert.equal(verified.code, 0, verified.stderr);
  });

  it('a glob entry mirrors every matching repository below its prefix', async () => {
    await eventually(
      'upstream/team/*',
      async () => (await tags('upstream/team/api')).includes('v1') && (await tags('upstream/team/web')).includes('v1'),
    );
    await push('team/new', 'v1');
    await eventually('upstream/team/new', async () => (await tags('upstream/team/new')).includes('v1'));
  });

  it('a tag the local registry refuses is logged and counted as failed; the others go on', async () => {
    await eventually('busybox:1.36', async () => (await tags('hub/busybox')).includes('1.36'));
    const repo = client.repository(parseReference(`${serve.host}/hub/busybox`, { defaultTag: null }));
    const before = (await repo.resolve('1.36')).digest;
    const moved = await push('library/busybox', '1.36'); // new content under the immutable tag
    assert.notEqual(moved.digest, before);
    await push('library/busybox', '1.38');
    await eventually('a failed line in the log', async () =>
      serve.logs.some((l) => l.includes('"mirror failed a tag"') && l.includes('"tag":"1.36"')),
    );
    await eventually('busybox:1.38', async () => (await tags('hub/busybox')).includes('1.38'));
    assert.equal((await repo.resolve('1.36')).digest, before);
    // The run's figures are recorded when it ends, after its per-tag lines.
    await eventually('the failure counted', async () => {
      const failures = await metric(/^stowage_mirror_failures_total\{mirror=".*library\/busybox"\}/);
      const failedRuns = await metric(/^stowage_mirror_runs_total\{mirror=".*library\/busybox",result="failed"\}/);
      return (failures ?? 0) >= 1 && (failedRuns ?? 0) >= 1;
    });
  });
});
