/**
 * Two replicas over one PostgreSQL + S3, the same upload session, PATCHes at the
 * same offset on both: exactly one writes (202), the other gets 416 with the Range
 * acknowledged so far, and the blob that results is the winner's bytes, intact.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { digestBytes } from '../../src/core/digest.js';
import { startStowage, type StowageProcess } from '../helpers/server.js';
import { scaleOutEnv } from '../helpers/services.js';

describe('same-offset PATCHes on two replicas', () => {
  let replicas: StowageProcess[] = [];
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    const scaled = await scaleOutEnv({ redirect: false });
    drop = scaled.drop;
    replicas = await Promise.all([startStowage({ env: scaled.env }), startStowage({ env: scaled.env })]);
  });

  after(async () => {
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await drop?.();
  });

  async function open(): Promise<string> {
    const post = await fetch(`${replicas[0]!.url}/v2/fence/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(post.status, 202);
    return new URL(post.headers.get('location')!, replicas[0]!.url).pathname;
  }

  const patch = (replica: StowageProcess, path: string, body: Buffer | ReadableStream, start: number, end: number) =>
    fetch(`${replica.url}${path}`, {
      method: 'PATCH',
      body,
      headers: { 'Content-Range': `${start}-${end}`, 'Content-Type': 'application/octet-stream' },
      duplex: 'half',
    } as RequestInit);

  async function finish(path: string, expected: Buffer): Promise<void> {
    const digest = digestBytes(expected).value;
    const put = await fetch(`${replicas[1]!.url}${path}?digest=${digest}`, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    for (const r of replicas) {
      const got = Buffer.from(await (await fetch(`${r.url}/v2/fence/app/blobs/${digest}`)).arrayBuffer());
      assert.ok(got.equals(expected), 'the blob is exactly the winning bytes');
    }
  }

  it('while one replica streams a chunk, the same chunk on the other gets 416; the first then completes', async () => {
    const path = await open();
    const first = randomBytes(6 * 1024 * 1024);
    assert.equal((await patch(replicas[0]!, path, first, 0, first.length - 1)).status, 202);
    const winner = randomBytes(7 * 1024 * 1024);
    // A slow body: the first half now, the rest once the rival was answered.
    let resume!: () => void;
    const gate = new Promise<void>((r) => (resume = r));
    let sent = 0;
    const slow = new ReadableStream({
      async pull(c) {
        if (sent === winner.length / 2) await gate;
        if (sent >= winner.length) return c.close();
        c.enqueue(winner.subarray(sent, sent + 256 * 1024));
        sent += 256 * 1024;
      },
    });
    const end = first.length + winner.length - 1;
    const streaming = patch(replicas[0]!, path, slow, first.length, end);
    while (sent < winner.length / 2) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const rival = await patch(replicas[1]!, path, randomBytes(winner.length), first.length, end);
    assert.equal(rival.status, 416, await rival.text());
    assert.equal(rival.headers.get('range'), `0-${first.length - 1}`);
    resume();
    const won = await streaming;
    assert.equal(won.status, 202, await won.text());
    assert.equal(won.headers.get('range'), `0-${end}`);
    await finish(path, Buffer.concat([first, winner]));
  });

  it('sent at the same moment, exactly one of the two wins each round and nothing is corrupted', async () => {
    const path = await open();
    const parts: Buffer[] = [];
    let offset = 0;
    for (let round = 0; round < 6; round++) {
      // Sizes around S3's 5 MiB part minimum, so rounds exercise tails and parts.
      const size = [1, 3 * 1024 * 1024, 5 * 1024 * 1024 + 7][round % 3]!;
      const bodies = [randomBytes(size), randomBytes(size)];
      const answers = await Promise.all(replicas.map((r, i) => patch(r, path, bodies[i]!, offset, offset + size - 1)));
      const statuses = answers.map((a) => a.status).sort();
      await Promise.all(answers.map((a) => a.arrayBuffer()));
      assert.deepEqual(statuses, [202, 416], `round ${round}: ${statuses.join(', ')}`);
      parts.push(bodies[answers.findIndex((a) => a.status === 202)]!);
      offset += size;
      const status = await fetch(`${replicas[round % 2]!.url}${path}`);
      assert.equal(status.headers.get('range'), `0-${offset - 1}`);
    }
    await finish(path, Buffer.concat(parts));
  });
});
