/**
 * Blob bodies sent by the kernel (sendfile, native/): the bytes, ranges, keep-alive
 * and pipelined requests, slow readers, clients that leave mid-body, and the
 * descriptors all of that must give back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sendFile, sendFileAvailable, sendFileProblem, sendFileStats } from '../../src/http/send-file.js';
import { startInProcess, startStowage, type InProcessStowage } from '../helpers/server.js';
import { pushBlob, repoName, req, sha256 } from './helpers.js';

const MiB = 1024 * 1024;

describe('blobs: sendfile', () => {
  let s: InProcessStowage;
  const repo = repoName('sendfile');
  const big = randomBytes(24 * MiB);
  let digest: string;

  before(async () => {
    s = await startInProcess({ fsync: false });
    digest = (await pushBlob(s.url, repo, big)).digest;
  });
  after(async () => {
    await s.stop();
  });

  it(
    'the addon is built and loaded on Linux',
    { skip: process.platform !== 'linux' && 'sendfile(2) is used on Linux only' },
    () => {
      assert.ok(
        sendFileAvailable(),
        `native/build/Release/stowage_sendfile.node did not load (${sendFileProblem()}): run \`npm run build:native\``,
      );
    },
  );

  it('a whole blob and a range come from sendfile, byte for byte', async () => {
    const before = { ...sendFileStats };
    const whole = await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers['content-length'], String(big.length));
    assert.equal(sha256(whole.body), digest);
    const part = await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=1000-5000999' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 1000-5000999/${big.length}`);
    assert.ok(part.body.equals(big.subarray(1000, 5001000)));
    await settled();
    assert.equal(sendFileStats.transfers - before.transfers, 2);
    assert.equal(sendFileStats.bytes - before.bytes, big.length + 5_000_000);
  });

  it('pipelined requests on one connection each get their whole body, in order', async () => {
    const path = `/v2/${repo}/blobs/${digest}`;
    const head = (range?: string) =>
      `GET ${path} HTTP/1.1\r\nHost: x\r\n${range ? `Range: bytes=${range}\r\n` : ''}\r\n`;
    const responses = await exchange(s.host, head() + head('0-999999') + head() + head('23000000-'), 4);
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 206, 200, 206],
    );
    assert.equal(sha256(responses[0]!.body), digest);
    assert.ok(responses[1]!.body.equals(big.subarray(0, 1_000_000)));
    assert.equal(sha256(responses[2]!.body), digest);
    assert.ok(responses[3]!.body.equals(big.subarray(23_000_000)));
  });

  it('a reader that stops for a while (full socket buffers) still gets every byte', async () => {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connectTo(s.host);
      socket.write(`GET /v2/${repo}/blobs/${digest} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      let paused = false;
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        if (!paused) {
          paused = true;
          socket.pause();
          setTimeout(() => socket.resume(), 400);
        }
      });
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    const split = body.indexOf('\r\n\r\n');
    assert.equal(sha256(body.subarray(split + 4)), digest);
  });

  it('clients that leave mid-body end their transfers and leak no descriptors', async () => {
    // Warm up: the first requests open descriptors that stay (SQLite, the data dir).
    await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`);
    const fds = await descriptors();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = connectTo(s.host);
        socket.write(`GET /v2/${repo}/blobs/${digest} HTTP/1.1\r\nHost: x\r\n\r\n`);
        let got = 0;
        socket.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 2 * MiB) {
            socket.pause();
            // Half the clients reset, half close politely while the server is mid-body.
            if (i % 2) socket.resetAndDestroy();
            else socket.destroy();
            resolve();
          }
        });
        socket.on('error', reject);
      });
    }
    await settled();
    const after = await req(s.url, 'GET', `/v2/${repo}/blobs/${digest}`);
    assert.equal(sha256(after.body), digest);
    await settled();
    // A leaked transfer would keep its dups of the blob file and of the socket.
    const left = await descriptors();
    assert.deepEqual(left.blobFiles, [], 'blob files still open');
    // The keep-alive connection of the last request may still be open (2 sockets).
    assert.ok(left.sockets <= fds.sockets + 2, `${left.sockets} sockets open, ${fds.sockets} before`);
  });
});

describe('blobs: without sendfile (STOWAGE_SENDFILE=off)', () => {
  it('streams the same bytes, whole and ranged, and says so when it starts', async () => {
    const server = await startStowage({ env: { STOWAGE_SENDFILE: 'off' } });
    try {
      const listening = server.logs
        .map((l) => JSON.parse(l) as { msg?: string; sendfile?: boolean })
        .find((e) => e.msg === 'listening');
      assert.equal(listening?.sendfile, false);
      const data = randomBytes(3 * MiB);
      const { digest } = await pushBlob(server.url, 'plain/stream', data);
      const whole = await req(server.url, 'GET', `/v2/plain/stream/blobs/${digest}`);
      assert.equal(sha256(whole.body), digest);
      const part = await req(server.url, 'GET', `/v2/plain/stream/blobs/${digest}`, {
        headers: { Range: 'bytes=5-2000004' },
      });
      assert.ok(part.body.equals(data.subarray(5, 2_000_005)));
    } finally {
      await server.stop();
    }
  });
});

/** This process's open sockets, and the blob files it has open. */
async function descriptors(): Promise<{ sockets: number; blobFiles: string[] }> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return {
    sockets: targets.filter((t) => t.startsWith('socket:')).length,
    blobFiles: targets.filter((t) => t.includes('/blobs/sha256/')),
  };
}

/** Waits until no transfer runs (a client can have every byte before the server's callback). */
async function settled(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (sendFileStats.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(sendFileStats.active, 0, 'transfers still running');
}

describe('sendFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-sendfile-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'rejects with EIO, after what the file had, when the file is shorter than asked',
    { skip: process.platform !== 'linux' && 'sendfile is Linux-only' },
    async () => {
      const path = join(dir, 'short');
      await writeFile(path, Buffer.alloc(300_000, 7));
      const file = await open(path, 'r');
      const server = net.createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const received = new Promise<number>((resolve) => {
        const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
        let n = 0;
        client.on('data', (c: Buffer) => (n += c.length));
        client.on('close', () => resolve(n));
      });
      const [socket] = (await new Promise((r) => server.once('connection', (c) => r([c])))) as [net.Socket];
      await assert.rejects(
        sendFile(socket, file.fd, 100_000, 500_000),
        (e: NodeJS.ErrnoException) => e.code === 'EIO' && /200000 of 500000/.test(e.message),
      );
      socket.destroy();
      assert.equal(await received, 200_000);
      await file.close();
      server.close();
    },
  );
});

/** A raw connection to "127.0.0.1:PORT". */
function connectTo(host: string): net.Socket {
  return net.connect(Number(host.split(':')[1]), '127.0.0.1');
}

interface Parsed {
  status: number;
  body: Buffer;
}

/** Writes `requests` at once and reads `count` responses (Content-Length bodies) off the socket. */
function exchange(host: string, requests: string, count: number): Promise<Parsed[]> {
  return new Promise((resolve, reject) => {
    const socket = connectTo(host);
    let head = Buffer.alloc(0);
    let current: { status: number; remaining: number; chunks: Buffer[] } | undefined;
    const out: Parsed[] = [];
    socket.on('data', (c: Buffer) => {
      while (c.length > 0) {
        if (!current) {
          head = Buffer.concat([head, c]);
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const text = head.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? NaN);
          current = { status: Number(text.slice(9, 12)), remaining: length, chunks: [] };
          c = head.subarray(end + 4);
          head = Buffer.alloc(0);
        }
        const take = c.subarray(0, current.remaining);
        current.chunks.push(take);
        current.remaining -= take.length;
        c = c.subarray(take.length);
        if (current.remaining === 0) {
          out.push({ status: current.status, body: Buffer.concat(current.chunks) });
          current = undefined;
          if (out.length === count) {
            socket.destroy();
            resolve(out);
            return;
          }
        }
      }
    });
    socket.on('error', reject);
    socket.write(requests);
  });
}
