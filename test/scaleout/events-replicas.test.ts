/**
 * Webhooks from two replicas over one PostgreSQL + S3: each event reaches the
 * endpoint once, not once per replica (delivery runs under the advisory lock),
 * in outbox order; and when one replica is killed the other delivers what is
 * pushed next.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { scaleOutEnv } from '../helpers/services.js';
import { makeTempDir, removeDir } from '../helpers/tools.js';
import { Receiver } from '../helpers/webhook-receiver.js';
import { pushImage } from '../http/helpers.js';

interface Delivered {
  id: string;
  tag: string;
  instance: string;
}

function delivered(r: Receiver): Delivered[] {
  return r.got.map((g) => {
    const e = (
      JSON.parse(g.body.toString()) as {
        events: { id: string; target: { tag: string }; source: { instanceID: string } }[];
      }
    ).events[0]!;
    return { id: e.id, tag: e.target.tag, instance: e.source.instanceID };
  });
}

/** The deliveries of events that came more than once, with the replica that sent each copy. */
function twice(list: Delivered[]): string {
  const ids = list.map((d) => d.id);
  return JSON.stringify(list.filter((d) => ids.indexOf(d.id) !== ids.lastIndexOf(d.id)));
}

describe('webhooks from two replicas over PostgreSQL + S3', () => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let dir: string;
  let a: StowageProcess;
  let b: StowageProcess;
  const receiver = new Receiver();

  before(async () => {
    ({ env, drop } = await scaleOutEnv());
    dir = await makeTempDir('events-replicas');
    await receiver.start();
    const config = join(dir, 'stowage.yaml');
    await writeFile(
      config,
      [
        'events:',
        '  retry_initial: 50ms',
        // At-least-once: an attempt that times out is sent again. On a loaded machine the
        // 10 s default could fire and deliver twice; this test is about the lock and the order.
        '  timeout: 120s',
        '  endpoints:',
        `    - { name: hook, url: "${receiver.url}", format: distribution, kinds: [manifest.pushed] }`,
        '',
      ].join('\n'),
    );
    [a, b] = await Promise.all([
      startStowage({ env, args: ['--config', config] }),
      startStowage({ env, args: ['--config', config] }),
    ]);
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await receiver.stop();
    if (dir) await removeDir(dir);
    await drop?.();
  });

  it('delivers each event once per endpoint, in order, and goes on when a replica dies', async () => {
    // Pushes alternate between the replicas, one after another: the outbox order is the push order.
    const tags = Array.from({ length: 16 }, (_, i) => `v${i}`);
    for (const [i, tag] of tags.entries()) await pushImage(i % 2 === 0 ? a.url : b.url, 'team/app', tag);
    await receiver.until(tags.length);
    // One more push through each replica, so anything a second deliverer would resend has had its turn.
    await pushImage(a.url, 'team/app', 'fence-a');
    await pushImage(b.url, 'team/app', 'fence-b');
    await receiver.until(tags.length + 2);
    const first = delivered(receiver);
    assert.equal(new Set(first.map((d) => d.id)).size, first.length, `no event delivered twice: ${twice(first)}`);
    assert.deepEqual(
      first.map((d) => d.tag),
      [...tags, 'fence-a', 'fence-b'],
      'delivered in push order',
    );

    // Kill one replica outright; the other one's dispatcher takes the lock and delivers.
    await a.kill('SIGKILL');
    const later = ['w0', 'w1', 'w2', 'w3'];
    for (const tag of later) await pushImage(b.url, 'team/app', tag);
    await receiver.until(first.length + later.length);
    await pushImage(b.url, 'team/app', 'fence-c');
    await receiver.until(first.length + later.length + 1);
    const all = delivered(receiver);
    assert.equal(new Set(all.map((d) => d.id)).size, all.length, `no event delivered twice: ${twice(all)}`);
    assert.deepEqual(
      all.slice(first.length).map((d) => d.tag),
      [...later, 'fence-c'],
    );
    // What came after the kill was sent by the surviving replica's dispatcher.
    assert.equal(new Set(all.slice(first.length).map((d) => d.instance)).size, 1);
  });
});
