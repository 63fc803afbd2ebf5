/**
 * Webhooks end to end: real HTTP receivers on loopback get each format byte for
 * byte (the Flux HMAC recomputed as notification-controller does), in order, through
 * failures, timeouts and a restart of Stowage with undelivered events pending.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { Receiver } from '../helpers/webhook-receiver.js';
import { pushImage, req } from './helpers.js';
import type { ServeConfig } from '../../src/config/config.js';

/** Flux's check (github.ValidateSignature): "sha256=" + hex HMAC-SHA256 of the exact body, keyed with the token. */
function fluxAccepts(signature: string | undefined, body: Buffer, token: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/.exec(signature ?? '');
  if (!m) return false;
  const want = createHmac('sha256', Buffer.from(token)).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1]!, 'hex'), want);
}

const events = (raw: unknown) => raw as ServeConfig['events'];

describe('webhooks: each format, byte for byte', () => {
  let s: InProcessStowage;
  let dir: string;
  const receivers = { ce: new Receiver(), dist: new Receiver(), hmac: new Receiver(), harbor: new Receiver() };
  const token = 'flux-token-0123456789abcdef';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-events-'));
    await writeFile(join(dir, 'token'), `${token}\n`);
    for (const r of Object.values(receivers)) await r.start();
    s = await startInProcess({
      fsync: false,
      events: events({
        endpoints: [
          { name: 'ce', url: receivers.ce.url, format: 'cloudevents', repositories: ['team/**'] },
          { name: 'dist', url: receivers.dist.url, format: 'distribution', kinds: ['manifest.pushed', 'tag.deleted'] },
          {
            name: 'flux',
            url: receivers.hmac.url,
            format: 'flux-generic-hmac',
            token_file: join(dir, 'token'),
            kinds: ['manifest.pushed'],
            tags: '^v\\d',
          },
          { name: 'harbor', url: receivers.harbor.url, format: 'flux-harbor', token_file: join(dir, 'token') },
        ],
      }),
    });
  });
  after(async () => {
    await s.stop();
    for (const r of Object.values(receivers)) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends CloudEvents, Distribution, Flux generic-hmac and harbor requests for a push', async () => {
    const pushed = await pushImage(s.url, 'team/app', 'v1');
    await pushImage(s.url, 'team/app', 'latest'); // filtered out of flux by the tag regex
    const [created, push] = await receivers.ce.until(2);
    const ce = JSON.parse(push!.body.toString()) as { id: string; time: string };
    assert.equal(JSON.parse(created!.body.toString()).type, 'dev.stowage.repository.created');
    assert.equal(push!.headers['content-type'], 'application/cloudevents+json');
    const expected = JSON.stringify({
      specversion: '1.0',
      id: ce.id,
      source: s.url,
      type: 'dev.stowage.manifest.pushed',
      subject: 'team/app:v1',
      time: ce.time,
      datacontenttype: 'application/json',
      data: {
        kind: 'manifest.pushed',
        repository: 'team/app',
        digest: pushed.digest,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: pushed.size,
        artifactType: 'application/vnd.oci.image.config.v1+json', // an image's artifact type is its config's
        tag: 'v1',
      },
    });
    assert.equal(push!.body.toString(), expected);

    const [d] = await receivers.dist.until(1);
    assert.equal(d!.headers['content-type'], 'application/vnd.docker.distribution.events.v2+json');
    const env = JSON.parse(d!.body.toString()) as {
      events: { id: string; timestamp: string; request: { id: string; addr: string; useragent: string } }[];
    };
    const e0 = env.events[0]!;
    const host = new URL(s.url).host;
    assert.equal(
      d!.body.toString(),
      JSON.stringify({
        events: [
          {
            id: e0.id,
            timestamp: e0.timestamp,
            action: 'push',
            target: {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              digest: pushed.digest,
              size: pushed.size,
              length: pushed.size,
              repository: 'team/app',
              url: `${s.url}/v2/team/app/manifests/${pushed.digest}`,
              tag: 'v1',
            },
            request: { id: e0.request.id, addr: e0.request.addr, host, method: 'PUT', useragent: e0.request.useragent },
            actor: {},
            source: { addr: host, instanceID: (JSON.parse(d!.body.toString()) as any).events[0].source.instanceID },
          },
        ],
      }),
    );
    assert.match(e0.request.addr, /^127\.0\.0\.1:\d+$/);

    const [h] = await receivers.hmac.until(1);
    assert.ok(fluxAccepts(h!.headers['x-signature'] as string, h!.body, token), 'Flux accepts the signature');
    assert.ok(
      !fluxAccepts(h!.headers['x-signature'] as string, h!.body, `${token}\n`),
      'the newline is not part of the key',
    );
    assert.equal(JSON.parse(h!.body.toString()).subject, 'team/app:v1');

    const [hb] = await receivers.harbor.until(1);
    assert.equal(hb!.headers.authorization, token, 'Flux harbor: Authorization is exactly the token');
    const harbor = JSON.parse(hb!.body.toString()) as { type: string; event_data: { resources: { tag: string }[] } };
    assert.equal(harbor.type, 'PUSH_ARTIFACT');
    assert.equal(harbor.event_data.resources[0]!.tag, 'v1');

    // Only v1 passed the flux endpoint's tag filter; a tag delete reaches Distribution's endpoint.
    assert.equal((await req(s.url, 'DELETE', '/v2/team/app/manifests/latest')).status, 202);
    const dists = await receivers.dist.until(3);
    const actions = dists.map((x) => JSON.parse(x.body.toString()).events[0]);
    assert.deepEqual(
      actions.map((a: { action: string; target: { tag?: string } }) => [a.action, a.target.tag]),
      [
        ['push', 'v1'],
        ['push', 'latest'],
        ['delete', 'latest'],
      ],
    );
    assert.equal(receivers.hmac.got.length, 1);
  });
});

describe('webhooks: failures, timeouts, order, restart', () => {
  let dir: string;
  const r = new Receiver();
  const config = () =>
    events({
      timeout: '300ms',
      retry_initial: '20ms',
      retry_max: '100ms',
      endpoints: [{ name: 'hook', url: r.url, format: 'cloudevents', kinds: ['manifest.pushed'] }],
    });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-events-data-'));
    await r.start();
  });
  after(async () => {
    await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries a failing and a hanging receiver, keeps order, and resumes after a restart', async () => {
    // 500, 503, no answer, then 200: the first event is retried; the next ones wait behind it.
    r.answer = (n) => (n === 0 ? 500 : n === 1 ? 503 : n === 2 ? 'hang' : 200);
    let s = await startInProcess({ fsync: false, data: dir, events: config() });
    for (const tag of ['t1', 't2', 't3']) await pushImage(s.url, 'order/app', tag);
    const got = await r.until(6);
    const tags = got.map((g) => JSON.parse(g.body.toString()).data.tag as string);
    assert.deepEqual(tags.slice(0, 6), ['t1', 't1', 't1', 't1', 't2', 't3']);

    // Receiver down: events pile up; Stowage stops with them undelivered.
    r.answer = () => 500;
    const before = r.got.length;
    await pushImage(s.url, 'order/app', 't4');
    await pushImage(s.url, 'order/app', 't5');
    await r.until(before + 1);
    await s.stop();
    r.answer = () => 200;
    const offline = r.got.length;
    s = await startInProcess({ fsync: false, data: dir, events: config() });
    try {
      const after = await r.until(offline + 2);
      const delivered = after.slice(offline).map((g) => JSON.parse(g.body.toString()).data.tag as string);
      assert.deepEqual(delivered.slice(0, 2), ['t4', 't5'], 'pending events delivered in order after the restart');
      await new Promise((res) => setTimeout(res, 600));
      const again = r.got
        .slice(offline)
        .filter((g) => ['t1', 't2', 't3'].includes(JSON.parse(g.body.toString()).data.tag));
      assert.equal(again.length, 0, 'events delivered before the restart are not sent again');
    } finally {
      await s.stop();
    }
  });
});
