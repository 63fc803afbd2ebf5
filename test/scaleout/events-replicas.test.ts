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
import { runCli, startStowage, type StowageProcess } from '../helpers/server.js';
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

/**
 * Waits until the store has `n` deliveries recorded as delivered. The receiver sees a
 * POST before the sender records it: a replica killed in between has its event sent
 * again by the other one (at-least-once across a crash, by design), so the kill below
 * waits for this.
 */
async function recorded(config: string, dir: string, env: Record<string, string>, n: number): Promise<void> {
  let rows = 0;
  for (let i = 0; i < 120 && rows < n; i++) {
    const r = await runCli(
      ['events', 'list', '--config', config, '--data', dir, '--state', 'delivered', '--output', 'json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    rows = (JSON.parse(r.stdout) as unknown[]).length;
    if (rows < n) await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(rows, n, 'deliveries recorded before the kill');
}

/** Each replica's log lines other than the access log: why a copy was sent again, if one was. */
function notes(replicas: Record<string, StowageProcess>): string {
  return Object.entries(replicas)
    .map(([name, p]) => `\n${name}:\n${p.logs.filter((l) => !l.includes('"msg":"request"')).join('\n')}`)
    .join('');
}

describe('webhooks from two replicas over PostgreSQL + S3', () => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  let dir: string;
  let a: StowageProcess;
  let b: StowageProcess;
  let config: string;
  const receiver = new Receiver();

  before(async () => {
    ({ env, drop } = await scaleOutEnv());
    dir = await makeTempDir('events-replicas');
    await receiver.start();
    config = join(dir, 'stowage.yaml');
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
    assert.equal(
      new Set(first.map((d) => d.id)).size,
      first.length,
      `no event delivered twice: ${twice(first)}${notes({ a, b })}`,
    );
    assert.deepEqual(
      first.map((d) => d.tag),
      [...tags, 'fence-a', 'fence-b'],
      'delivered in push order',
    );

    // Kill one replica outright, once what it sent is recorded; the other one's dispatcher
    // takes the lock and delivers.
    await recorded(config, dir, env, first.length);
    await a.kill('SIGKILL');
    const later = ['w0', 'w1', 'w2', 'w3'];
    for (const tag of later) await pushImage(b.url, 'team/app', tag);
    await receiver.until(first.length + later.length);
    await pushImage(b.url, 'team/app', 'fence-c');
    await receiver.until(first.length + later.length + 1);
    const all = delivered(receiver);
    assert.equal(
      new Set(all.map((d) => d.id)).size,
      all.length,
      `no event delivered twice: ${twice(all)}${notes({ a, b })}\n${all.map((d) => `${d.tag}@${d.instance.slice(0, 8)}`).join(' ')}`,
    );
    assert.deepEqual(
      all.slice(first.length).map((d) => d.tag),
      [...later, 'fence-c'],
    );
    // What came after the kill was sent by the surviving replica's dispatcher.
    assert.equal(new Set(all.slice(first.length).map((d) => d.instance)).size, 1);
  });
});
