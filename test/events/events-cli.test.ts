/**
 * `stowage events list|retry|tail` as their own processes beside a running
 * `stowage serve` on the same data: a receiver that refuses until delivery is given
 * up, an operator's retry delivered by the server, the outbox followed live.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, runCli, startStowage } from '../helpers/server.js';
import { pushImage, removeDir, tempDir, waitFor } from '../robustness/helpers.js';

const events = (args: string[]) => runCli(['events', ...args]);

describe('stowage events beside stowage serve', () => {
  it('lists failed deliveries, requeues them for the server, and tails the outbox', async () => {
    const dir = await tempDir('stowage-events-cli-');
    const received: string[] = [];
    let accept = false;
    const receiver = createServer((rq, rs) => {
      const chunks: Buffer[] = [];
      rq.on('data', (c: Buffer) => chunks.push(c));
      rq.on('end', () => {
        if (accept) received.push(Buffer.concat(chunks).toString());
        rs.writeHead(accept ? 204 : 503).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const config = join(dir, 'stowage.yaml');
    // Given up after the first failure, so the delivery is `failed` and waits for an operator.
    await writeFile(
      config,
      [
        'events:',
        '  retry_initial: 10ms',
        '  give_up_after: 1ms',
        '  endpoints:',
        `    - { name: hook, url: "${url}", format: cloudevents, kinds: [manifest.pushed] }`,
        '',
      ].join('\n'),
    );
    const server = await startStowage({ dataDir: join(dir, 'data'), args: ['--config', config] });
    const common = ['--config', config, '--data', server.dataDir];
    try {
      const digest = await pushImage(server.url, 'team/app', 'v1', [Buffer.from('layer one')]);

      const failed =
        (await waitFor('a failed delivery', async () => {
          const r = await events(['list', ...common, '--state', 'failed', '--output', 'json']);
          assert.equal(r.code, 0, r.stderr);
          const rows = JSON.parse(r.stdout) as {
            endpoint: string;
            seq: number;
            attempts: number;
            lastError?: string;
            event: { kind: string; digest: string };
          }[];
          return rows.length > 0 ? rows : undefined;
        })) ?? [];
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.endpoint, 'hook');
      assert.equal(failed[0]!.event.kind, 'manifest.pushed');
      assert.equal(failed[0]!.event.digest, digest);
      assert.equal(failed[0]!.lastError, 'HTTP 503');
      const text = await events(['list', ...common]);
      assert.match(
        text.stdout,
        new RegExp(
          `^hook #${failed[0]!.seq} failed after 1 attempt .*: manifest.pushed team/app:v1 sha256:.* — HTTP 503$`,
          'm',
        ),
      );
      assert.equal(received.length, 0);

      // Bad input is refused with exit 2 and changes nothing.
      assert.equal((await events(['retry', ...common, '--endpoint', 'nope'])).code, 2);
      assert.equal((await events(['retry', ...common, '--seq', '1'])).code, 2);
      assert.equal((await events(['list', ...common, '--state', 'lost'])).code, 2);

      accept = true;
      const retry = await events(['retry', ...common, '--output', 'json']);
      assert.equal(retry.code, 0, retry.stderr);
      assert.deepEqual(JSON.parse(retry.stdout), { requeued: { hook: 1 }, total: 1 });
      await waitFor('the requeued delivery', () => received.length === 1);
      assert.equal(JSON.parse(received[0]!).data.digest, digest);
      await waitFor('the delivered state', async () => {
        const r = await events(['list', ...common, '--endpoint', 'hook', '--output', 'json']);
        const rows = JSON.parse(r.stdout) as { seq: number; state: string; attempts: number }[];
        const row = rows.find((x) => x.seq === failed[0]!.seq);
        return row?.state === 'delivered' && row.attempts === 2;
      });
      const again = await events(['retry', ...common]);
      assert.match(again.stdout, /nothing to retry/);

      // tail: what is in the outbox, filtered; --follow sees a new push as it happens.
      const all = await events(['tail', ...common]);
      assert.match(all.stdout, /^\d+ \S+ repository\.created team\/app$/m);
      assert.match(all.stdout, /^\d+ \S+ manifest\.pushed team\/app:v1 sha256:/m);
      const pushes = await events(['tail', ...common, '--kind', 'manifest.pushed', '--output', 'json']);
      const lines = pushes.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { kind: string; seq: number });
      assert.deepEqual(
        lines.map((l) => l.kind),
        ['manifest.pushed'],
      );

      const follower = spawn(
        process.execPath,
        [CLI, 'events', 'tail', ...common, '--follow', '--repository', 'other/**', '--after', String(lines[0]!.seq)],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const seen: string[] = [];
      createInterface({ input: follower.stdout }).on('line', (l) => seen.push(l));
      await pushImage(server.url, 'team/app', 'v2', [Buffer.from('layer two')]); // filtered out
      await pushImage(server.url, 'other/app', 'v1', [Buffer.from('layer three')]);
      await waitFor('the followed push', () => seen.some((l) => / manifest\.pushed other\/app:v1 /.test(l)));
      const exited = new Promise<number | null>((r) => follower.once('exit', (code) => r(code)));
      follower.kill('SIGINT');
      assert.equal(await exited, 0, 'an interrupted tail exits cleanly');
      assert.ok(
        seen.every((l) => !l.includes('team/app')),
        seen.join('\n'),
      );
    } finally {
      await server.stop();
      receiver.closeAllConnections();
      await new Promise<void>((r) => receiver.close(() => r()));
      await removeDir(dir);
    }
  });
});
