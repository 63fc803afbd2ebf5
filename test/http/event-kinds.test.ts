/**
 * The event kinds beyond pushes and deletes: a cross-repository blob mount, what
 * GC and retention remove, and manifest pulls (only with `events.pulls`, and only
 * for GET: a HEAD is not a pull), each as its endpoint receives it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { Receiver } from '../helpers/webhook-receiver.js';
import { MT, pushBlob, pushImage, req } from './helpers.js';
import type { ServeConfig } from '../../src/config/config.js';

const raw = <K extends keyof ServeConfig>(v: unknown) => v as ServeConfig[K];

interface CloudEventData {
  kind: string;
  repository: string;
  digest?: string;
  tag?: string;
  size?: number;
  mediaType?: string;
  fromRepository?: string;
  removed?: string;
  reason?: string;
}
const data = (r: { body: Buffer }) => (JSON.parse(r.body.toString()) as { data: CloudEventData }).data;

describe('event kinds: blob mounted, GC removals, pulls', () => {
  let s: InProcessStowage;
  const all = new Receiver();
  const dist = new Receiver();
  before(async () => {
    await all.start();
    await dist.start();
    s = await startInProcess({
      fsync: false,
      events: raw<'events'>({
        pulls: true,
        endpoints: [
          {
            name: 'all',
            url: all.url,
            format: 'cloudevents',
            kinds: ['blob.mounted', 'gc.removed', 'manifest.pulled'],
          },
          { name: 'dist', url: dist.url, format: 'distribution', kinds: ['blob.mounted', 'manifest.pulled'] },
        ],
      }),
      // Retention drops every tag but v*; the schedule runs GC often, with a short grace period (pushes here finish well within it).
      gc: raw<'gc'>({ interval: '100ms', grace_period: '3s' }),
      retention: raw<'retention'>([{ repositories: 'gc/**', keep: [{ matching: '^v' }] }]),
    });
  });
  after(async () => {
    await s.stop();
    await all.stop();
    await dist.stop();
  });

  it('records a cross-repository mount with the blob, its size and where it came from', async () => {
    const blob = await pushBlob(s.url, 'mount/source', 'a layer to mount');
    const res = await req(
      s.url,
      'POST',
      `/v2/mount/target/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=mount/source`,
    );
    assert.equal(res.status, 201, res.text);
    const [got] = await all.until(1);
    assert.deepEqual(
      { ...data(got!) },
      {
        kind: 'blob.mounted',
        repository: 'mount/target',
        digest: blob.digest,
        size: blob.size,
        fromRepository: 'mount/source',
      },
    );
    const [d] = await dist.until(1);
    const target = (JSON.parse(d!.body.toString()) as { events: { action: string; target: Record<string, unknown> }[] })
      .events[0]!;
    assert.equal(target.action, 'mount');
    assert.equal(target.target.fromRepository, 'mount/source');
    assert.equal(target.target.url, `${s.url}/v2/mount/target/blobs/${blob.digest}`);
  });

  it('records a pull for a manifest GET by tag and by digest, never for a HEAD', async () => {
    const pushed = await pushImage(s.url, 'pull/app', 'v1');
    const before = all.got.length;
    const accept = { Accept: MT.ociManifest };
    assert.equal((await req(s.url, 'HEAD', '/v2/pull/app/manifests/v1', { headers: accept })).status, 200);
    assert.equal((await req(s.url, 'GET', '/v2/pull/app/manifests/v1', { headers: accept })).status, 200);
    assert.equal((await req(s.url, 'GET', `/v2/pull/app/manifests/${pushed.digest}`, { headers: accept })).status, 200);
    const got = (await all.until(before + 2)).slice(before).map(data);
    assert.deepEqual(
      got.map((e) => [e.kind, e.tag, e.digest, e.size]),
      [
        ['manifest.pulled', 'v1', pushed.digest, pushed.size],
        ['manifest.pulled', undefined, pushed.digest, pushed.size],
      ],
    );
    // Give a HEAD's (absent) event the time a pull's takes to arrive, then check none did.
    await req(s.url, 'HEAD', '/v2/pull/app/manifests/v1', { headers: accept });
    await req(s.url, 'GET', '/v2/pull/app/manifests/v1', { headers: accept });
    const more = (await all.until(before + 3)).slice(before + 2).map(data);
    assert.deepEqual(
      more.map((e) => e.kind),
      ['manifest.pulled'],
    );
  });

  it('records what retention and GC remove, with the rule or reason', async () => {
    const dropped = await pushImage(s.url, 'gc/app', 'pr-1');
    await pushImage(s.url, 'gc/app', 'v1');
    const removals = await waitForRemovals(all, 2);
    assert.deepEqual(
      removals.map((e) => [e.kind, e.repository, e.removed, e.tag, e.digest]),
      [
        ['gc.removed', 'gc/app', 'tag', 'pr-1', dropped.digest],
        ['gc.removed', 'gc/app', 'manifest', undefined, dropped.digest],
      ],
    );
    assert.equal(removals[0]!.reason, 'no keep rule matched');
    assert.ok(removals[1]!.reason, 'a manifest removal says why');
    const tags = await req(s.url, 'GET', '/v2/gc/app/tags/list');
    assert.deepEqual((JSON.parse(tags.text) as { tags: string[] }).tags, ['v1']);
  });
});

async function waitForRemovals(r: Receiver, n: number): Promise<CloudEventData[]> {
  for (let i = 0; i < 2400; i++) {
    const removals = r.got.map(data).filter((e) => e.kind === 'gc.removed');
    if (removals.length >= n) return removals;
    await new Promise((res) => setTimeout(res, 25));
  }
  assert.fail(
    `expected ${n} gc.removed events, got ${r.got
      .map(data)
      .map((e) => e.kind)
      .join(', ')}`,
  );
}
