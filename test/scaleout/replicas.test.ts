/**
 * Two `stowage serve` replicas over one PostgreSQL and one S3 bucket (radosgw),
 * behind nginx (round robin, no stickiness): the OCI conformance suite, skopeo
 * and podman, a chunked upload whose requests alternate replicas, a replica
 * killed with SIGKILL in the middle of an upload, and the acknowledged-writes
 * check — nothing a client heard 201 for is lost when a replica dies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestBytes } from '../../src/core/digest.js';
import { runConformance } from '../conformance/index.js';
import { reportSpecs } from '../conformance/subtests.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { scaleOutEnv, startLoadBalancer } from '../helpers/services.js';
import { dockerRef, skopeoCopy, skopeoCopyDigest, inspectRaw } from '../helpers/interop.js';
import { randomLayer, sha256, writeDockerArchive } from '../helpers/oci-fixtures.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTool,
  type ContainersSandbox,
} from '../helpers/tools.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('two replicas over PostgreSQL + S3 behind nginx', () => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let a: StowageProcess;
  let b: StowageProcess;
  let lb: { url: string; host: string; stop(): Promise<void> };
  let sb: ContainersSandbox;
  let work: string;

  before(async () => {
    requireTool('skopeo');
    requireTool('podman');
    ({ env, drop } = await scaleOutEnv());
    [a, b] = await Promise.all([startStowage({ env }), startStowage({ env })]);
    lb = await startLoadBalancer([a.host, b.host]);
    sb = await createContainersSandbox('replicas');
    work = await makeTempDir('replicas-work');
  });

  after(async () => {
    await Promise.allSettled([lb?.stop(), a?.stop(), b?.stop()]);
    await Promise.allSettled([sb?.cleanup(), work ? removeDir(work) : undefined]);
    await drop?.();
  });

  it('passes the OCI conformance suite through the load balancer', async (t) => {
    const report = await runConformance(lb.url, {
      namespace: 'conformance/repo',
      crossmountNamespace: 'conformance/cross',
    });
    await reportSpecs(t, report);
    assert.deepEqual(report.counts, { passed: 69, failed: 0, skipped: 5 });
  });

  it('skopeo and podman push and pull through it', async () => {
    const layers = [randomLayer('base', 200_000), randomLayer('top', 3000)];
    await writeDockerArchive(join(work, 'in.tar'), { layers, repoTags: ['example.test/replicas/app:v1'] });
    const pushed = await skopeoCopyDigest(
      sb,
      `docker-archive:${join(work, 'in.tar')}`,
      dockerRef(lb.host, 'team/app', 'v1'),
    );
    // Each replica serves the same bytes.
    for (const host of [a.host, b.host, lb.host])
      assert.equal(sha256(await inspectRaw(sb, dockerRef(host, 'team/app', 'v1'))), pushed);
    await skopeoCopy(sb, dockerRef(lb.host, 'team/app', 'v1'), `oci:${join(work, 'out')}:v1`);

    await sb.podman(['pull', '--tls-verify=false', `${lb.host}/team/app:v1`]);
    await sb.podman(['tag', `${lb.host}/team/app:v1`, `${lb.host}/team/copy:v2`]);
    await sb.podman(['push', '--tls-verify=false', `${lb.host}/team/copy:v2`]);
    const tags = await (await fetch(`${b.url}/v2/team/copy/tags/list`)).json();
    assert.deepEqual(tags, { name: 'team/copy', tags: ['v2'] });
  });

  it('a chunked upload whose requests alternate between the replicas', async () => {
    const bytes = randomBytes(13 * 1024 * 1024 + 5);
    const digest = digestBytes(bytes).value;
    const replicas = [a, b];
    const post = await fetch(`${a.url}/v2/chunked/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(post.status, 202);
    let location = post.headers.get('location')!;
    const cuts = [0, 1, 1000, 6 * 1024 * 1024, 9 * 1024 * 1024, bytes.length];
    for (let i = 1; i < cuts.length; i++) {
      const replica = replicas[i % 2]!;
      const chunk = bytes.subarray(cuts[i - 1], cuts[i]);
      const url = new URL(location, replica.url);
      url.host = replica.host;
      const patch = await fetch(url, {
        method: 'PATCH',
        body: new Uint8Array(chunk),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${cuts[i - 1]}-${cuts[i]! - 1}` },
      });
      assert.equal(patch.status, 202, `chunk ${i} on replica ${i % 2}: ${await patch.text()}`);
      assert.equal(patch.headers.get('range'), `0-${cuts[i]! - 1}`);
      location = patch.headers.get('location')!;
    }
    const put = new URL(location, a.url);
    put.host = a.host;
    put.searchParams.set('digest', digest);
    const done = await fetch(put, { method: 'PUT' });
    assert.equal(done.status, 201, await done.text());
    const got = await fetch(`${b.url}/v2/chunked/app/blobs/${digest}`);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes));
  });

  it('a replica killed with SIGKILL in the middle of an upload: the other finishes it', async () => {
    // A third replica to kill, so the others stay up for the remaining tests.
    const victim = await startStowage({ env });
    try {
      const first = randomBytes(6 * 1024 * 1024);
      const post = await fetch(`${victim.url}/v2/killed/app/blobs/uploads/`, { method: 'POST' });
      const path = new URL(post.headers.get('location')!, victim.url).pathname;
      const ok = await fetch(`${victim.url}${path}`, {
        method: 'PATCH',
        body: new Uint8Array(first),
        headers: { 'Content-Range': `0-${first.length - 1}` },
      });
      assert.equal(ok.status, 202);
      // The next chunk is streaming when the process dies.
      let sent = 0;
      const slow = new Readable({
        read() {
          if (sent >= 4 * 1024 * 1024) return; // then stall: the request never ends by itself
          sent += 256 * 1024;
          this.push(randomBytes(256 * 1024));
        },
      });
      const inflight = fetch(`${victim.url}${path}`, {
        method: 'PATCH',
        body: Readable.toWeb(slow) as ReadableStream,
        duplex: 'half',
      } as RequestInit).catch((e: unknown) => e);
      while (sent < 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 20));
      await victim.kill('SIGKILL');
      assert.ok((await inflight) instanceof Error, 'the request in flight fails with the replica');

      // The survivor sees the session as of the last acknowledged chunk, and finishes it.
      const status = await fetch(`${a.url}${path}`);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), `0-${first.length - 1}`);
      const rest = randomBytes(1234);
      const all = Buffer.concat([first, rest]);
      const digest = digestBytes(all).value;
      const put = await fetch(`${a.url}${path}?digest=${digest}`, {
        method: 'PUT',
        body: new Uint8Array(rest),
        headers: { 'Content-Range': `${first.length}-${all.length - 1}` },
      });
      assert.equal(put.status, 201, await put.text());
      const got = await fetch(`${b.url}/v2/killed/app/blobs/${digest}`);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(all));
    } finally {
      await victim.kill('SIGKILL');
    }
  });

  it('kill -9 under concurrent pushes loses nothing that was acknowledged', async () => {
    const victim = await startStowage({ env });
    const acknowledged: Array<{ repo: string; tag: string; manifest: string; layer: string }> = [];
    let stop = false;
    const pusher = async (worker: number) => {
      for (let i = 0; !stop; i++) {
        const repo = `acked/w${worker}`;
        const layer = randomBytes(50_000 + i);
        const layerDigest = digestBytes(layer).value;
        const config = Buffer.from(JSON.stringify({ worker, i }));
        const configDigest = digestBytes(config).value;
        try {
          for (const [bytes, d] of [
            [layer, layerDigest],
            [config, configDigest],
          ] as const) {
            const r = await fetch(`${victim.url}/v2/${repo}/blobs/uploads/?digest=${d}`, {
              method: 'POST',
              body: new Uint8Array(bytes),
            });
            if (r.status !== 201) return;
          }
          const manifest = Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: OCI_MANIFEST,
              config: {
                mediaType: 'application/vnd.oci.image.config.v1+json',
                digest: configDigest,
                size: config.length,
              },
              layers: [
                { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length },
              ],
            }),
          );
          const tag = `t${i}`;
          const r = await fetch(`${victim.url}/v2/${repo}/manifests/${tag}`, {
            method: 'PUT',
            body: new Uint8Array(manifest),
            headers: { 'Content-Type': OCI_MANIFEST },
          });
          if (r.status === 201)
            acknowledged.push({ repo, tag, manifest: digestBytes(manifest).value, layer: layerDigest });
        } catch {
          return; // the replica died under this request
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => pusher(w));
    while (acknowledged.length < 20) await new Promise((r) => setTimeout(r, 20));
    await victim.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    for (const ack of acknowledged) {
      const m = await fetch(`${lb.url}/v2/${ack.repo}/manifests/${ack.tag}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(m.status, 200, `${ack.repo}:${ack.tag} was acknowledged and is gone`);
      assert.equal(m.headers.get('docker-content-digest'), ack.manifest);
      const l = await fetch(`${lb.url}/v2/${ack.repo}/blobs/${ack.layer}`, { method: 'HEAD' });
      assert.equal(l.status, 200);
    }
  });
});
