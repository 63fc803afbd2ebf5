/**
 * The pull-through cache over verified HTTPS (`proxy:` ca_file and insecure): Stowage
 * with a self-signed certificate as the upstream, on this machine's non-loopback address
 * (the client verifies TLS everywhere but on loopback). With ca_file or insecure: true
 * the manifest comes through; with neither the pull is refused (503) and nothing cached.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pushImage } from '../../src/client/index.js';
import { makeTls } from '../auth/helpers.js';
import { createSimpleLayout } from '../helpers/oci-fixtures.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { externalAddress, makeTempDir, removeDir } from '../helpers/tools.js';

const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

describe('pull-through cache: TLS to the upstream (ca_file, insecure)', { timeout: 120_000 }, () => {
  let upstream: InProcessStowage;
  let cache: InProcessStowage;
  let work: string;
  let client: RegistryClient;
  let pushed: string;
  const manifest = (repo: string) =>
    fetch(`${cache.url}/v2/${repo}/manifests/v1`, { headers: { Accept: MANIFEST_ACCEPT } });

  before(async () => {
    work = await makeTempDir('proxy-tls');
    const ip = externalAddress();
    const tls = await makeTls(path.join(work, 'tls'), [`IP:${ip}`]);
    upstream = await startInProcess({ addr: `${ip}:0`, fsync: false, tls: { cert: tls.cert, key: tls.key } } as never);
    client = new RegistryClient({ credentials: new StaticCredentials({}), ca: tls.ca });
    await createSimpleLayout(path.join(work, 'app'), { tag: 'v1', layerCount: 1 });
    pushed = (await pushImage(client, path.join(work, 'app'), parseReference(`${upstream.host}/team/app:v1`))).digest;
    const url = `https://${upstream.host}`;
    cache = await startInProcess({
      fsync: false,
      proxy: [
        { prefix: 'with-ca', upstreams: [url], ca_file: tls.cert },
        { prefix: 'insecure', upstreams: [url], insecure: true },
        { prefix: 'unverified', upstreams: [url] },
      ],
    } as never);
  });
  after(async () => {
    client?.close();
    await Promise.allSettled([cache?.stop(), upstream?.stop()]);
    if (work) await removeDir(work);
  });

  it('fetches through an upstream whose certificate ca_file trusts, or with insecure: true', async () => {
    for (const prefix of ['with-ca', 'insecure']) {
      const res = await manifest(`${prefix}/team/app`);
      assert.equal(res.status, 200, `${prefix}: ${await res.text()}`);
      assert.equal(res.headers.get('docker-content-digest'), pushed);
    }
  });

  it('refuses an upstream whose certificate it cannot verify, and caches nothing', async () => {
    const res = await manifest('unverified/team/app');
    assert.equal(res.status, 503);
    assert.match(await res.text(), /TLS|certificate/i);
    const listed = await fetch(`${cache.url}/v2/unverified/team/app/tags/list`);
    assert.equal(listed.status, 404);
    await listed.arrayBuffer();
  });
});
