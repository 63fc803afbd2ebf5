/**
 * Transfers that break halfway, through a proxy that cuts connections and injects
 * 5xx answers, in front of Stowage and of docker-registry: chunked uploads resume from
 * the offset the registry reports, downloads resume with Range, 5xx are retried.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient, StaticCredentials, parseReference, pullImage, pushImage } from '../../src/client/index.js';
import { OciLayout, randomLayer, readTar, sha256 } from '../helpers/oci-fixtures.js';
import { makeTempDir, removeDir, requireTools } from '../helpers/tools.js';
import { startFaultProxy, startTarget, type FaultProxy, type TargetRegistry } from './helpers.js';

for (const targetName of ['stowage', 'distribution'] as const) {
  describe(`interrupted transfers (${targetName})`, { timeout: 60_000 }, () => {
    let target: TargetRegistry;
    let proxy: FaultProxy;
    let work: string;
    const clients: RegistryClient[] = [];
    const client = () => {
      const c = new RegistryClient({ credentials: new StaticCredentials({}), chunkSize: 64 * 1024, retryDelayMs: 5 });
      clients.push(c);
      return c;
    };

    before(async () => {
      if (targetName === 'distribution') requireTools('docker-registry');
      target = await startTarget(targetName);
      proxy = await startFaultProxy(target.url);
      work = await makeTempDir(`client-resume-${targetName}`);
    });
    after(async () => {
      for (const c of clients) c.close();
      await Promise.allSettled([proxy?.stop(), target?.stop()]);
      if (work) await removeDir(work);
    });

    /** A layout with one ~300 kB incompressible layer (5 chunks of 64 KiB). */
    const bigImage = async (name: string) => {
      const layout = await OciLayout.create(path.join(work, name));
      const image = await layout.addImage({ layers: [randomLayer(name, 300 * 1024)], tag: 'v1' });
      return { layout, image };
    };

    it('resumes a chunked upload after the connection dies mid-PATCH', async () => {
      const { layout, image } = await bigImage('cut-patch');
      let patches = 0;
      proxy.log.length = 0;
      proxy.rule = (req) =>
        req.method === 'PATCH' && ++patches === 3 ? { kind: 'cut-request', after: 10_000 } : { kind: 'pass' };
      const r = await pushImage(client(), layout.dir, parseReference(`${proxy.host}/resume/patch:v1`));
      assert.equal(r.digest, image.digest);
      const statusChecks = proxy.log.filter((l) => /^GET \/v2\/resume\/patch\/blobs\/uploads\//.test(l));
      assert.ok(statusChecks.length >= 1, `asked the session where it stands: ${proxy.log.join(' | ')}`);
      // The blob is complete and correct in the registry.
      proxy.rule = () => ({ kind: 'pass' });
      const layer = image.layers[0]!;
      const res = await fetch(`${target.url}/v2/resume/patch/blobs/${layer.digest}`);
      assert.equal(sha256(Buffer.from(await res.arrayBuffer())), layer.digest);
    });

    it('retries 5xx on starting uploads and on manifests', async () => {
      const { layout, image } = await bigImage('five-hundred');
      let failed = 0;
      proxy.rule = (req) =>
        (req.method === 'POST' || req.method === 'PUT') && failed++ < 2
          ? { kind: 'status', status: 503 }
          : { kind: 'pass' };
      const r = await pushImage(client(), layout.dir, parseReference(`${proxy.host}/resume/five:v1`));
      assert.equal(r.digest, image.digest);
      assert.equal(failed >= 2, true);
    });

    it('starts over when a monolithic upload is cut (small blobs)', async () => {
      const layout = await OciLayout.create(path.join(work, 'small'));
      const image = await layout.addImage({ layers: [randomLayer('small', 2000)], tag: 'v1' });
      let cut = 0;
      proxy.rule = (req) =>
        req.method === 'PUT' && req.url!.includes('/blobs/uploads/') && cut++ === 0
          ? { kind: 'cut-request', after: 500 }
          : { kind: 'pass' };
      const r = await pushImage(client(), layout.dir, parseReference(`${proxy.host}/resume/small:v1`));
      assert.equal(r.digest, image.digest);
    });

    it('resumes a download with Range after the connection dies mid-body', async () => {
      const { layout, image } = await bigImage('cut-get');
      proxy.rule = () => ({ kind: 'pass' });
      await pushImage(client(), layout.dir, parseReference(`${target.host}/resume/get:v1`));
      const layer = image.layers[0]!;
      let cuts = 0;
      proxy.log.length = 0;
      proxy.rule = (req) =>
        req.method === 'GET' && req.url!.endsWith(layer.digest) && cuts++ === 0
          ? { kind: 'cut-response', after: 100_000 }
          : { kind: 'pass' };
      const out = path.join(work, 'pulled.tar');
      await pullImage(client(), parseReference(`${proxy.host}/resume/get:v1`), { file: out }, { format: 'oci' });
      assert.equal(proxy.log.filter((l) => l.endsWith(layer.digest)).length, 2, 'one cut, one resumed request');
      const member = readTar(await readFile(out)).find((m) => m.path === `blobs/sha256/${layer.digest.slice(7)}`);
      assert.equal(sha256(member!.data), layer.digest);
    });
  });
}
