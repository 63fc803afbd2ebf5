/**
 * Scheduled mirrors from a source over verified HTTPS (`mirrors:` ca_file and insecure,
 * as `proxy:` has them): Stowage with a self-signed certificate as the source, on this
 * machine's non-loopback address (the client verifies TLS everywhere but on loopback).
 * The entry with ca_file copies, the one with insecure: true copies, the one with
 * neither fails its runs on the certificate and copies nothing. Polled, never timed.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage } from '../../src/client/index.js';
import { makeTls } from '../auth/helpers.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startInProcess, startStowage, type InProcessStowage, type StowageProcess } from '../helpers/server.js';
import { externalAddress, makeTempDir, removeDir } from '../helpers/tools.js';

describe('scheduled mirrors: TLS to the source (ca_file, insecure)', { timeout: 180_000 }, () => {
  let source: InProcessStowage;
  let serve: StowageProcess;
  let work: string;
  let client: RegistryClient;
  let pushed: string;
  const tags = async (repo: string) =>
    (
      await client
        .repository(parseReference(`${serve.host}/${repo}`, { defaultTag: null }))
        .tags()
        .catch(() => [] as string[])
    ).sort();
  const eventually = async (what: string, check: () => boolean | Promise<boolean>) => {
    while (!(await check())) {
      if (serve.child.exitCode !== null) assert.fail(`serve exited while waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  before(async () => {
    work = await makeTempDir('mirror-tls');
    const ip = externalAddress();
    const tls = await makeTls(path.join(work, 'tls'), [`IP:${ip}`]);
    source = await startInProcess({ addr: `${ip}:0`, fsync: false, tls: { cert: tls.cert, key: tls.key } } as never);
    client = new RegistryClient({ credentials: new StaticCredentials({}), ca: tls.ca });
    await createSimpleLayout(path.join(work, 'app'), { tag: 'v1', layerCount: 1 });
    pushed = (await pushImage(client, path.join(work, 'app'), parseReference(`${source.host}/team/app:v1`))).digest;
    const entry = { source: `${source.host}/team/app`, interval: '1s' };
    await writeFile(
      path.join(work, 'stowage.yaml'),
      JSON.stringify({
        mirrors: [
          { ...entry, destination: 'with-ca/app', ca_file: tls.cert },
          { ...entry, destination: 'insecure/app', insecure: true },
          { ...entry, destination: 'unverified/app' },
        ],
      }),
    );
    serve = await startStowage({ args: ['--config', path.join(work, 'stowage.yaml')] });
  });
  after(async () => {
    client?.close();
    await serve?.stop();
    await source?.stop();
    if (work) await removeDir(work);
  });

  it('copies with ca_file and with insecure: true', async () => {
    await eventually('with-ca/app:v1', async () => (await tags('with-ca/app')).includes('v1'));
    await eventually('insecure/app:v1', async () => (await tags('insecure/app')).includes('v1'));
    for (const repo of ['with-ca/app', 'insecure/app'])
      assert.equal(
        (await client.repository(parseReference(`${serve.host}/${repo}`, { defaultTag: null })).resolve('v1')).digest,
        pushed,
      );
  });

  it('without either, the runs fail on the certificate and copy nothing', async () => {
    // The other two entries succeed: every failed run is this one's.
    const failed = () => serve.logs.filter((l) => l.includes('"mirror run failed"'));
    await eventually('two failed runs', () => failed().length >= 2);
    assert.match(failed()[0]!, /TLS|certificate/i);
    assert.deepEqual(await tags('unverified/app'), []);
  });
});
