/**
 * What one client can make the server hold: a body that stops sending is cut
 * (the upload keeps what it had and resumes), headers must arrive in time, idle
 * keep-alive connections close, connections are capped in all and per address,
 * and a client that half-closes after a complete request still gets its answer.
 * A body that keeps sending is never cut, however slow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { ServeConfig } from '../../src/config/config.js';
import { startInProcess } from '../helpers/server.js';
import { http, sha256, sleep, startUpload, uploadedSize, waitFor, withDigest } from './helpers.js';

async function server(t: { after(fn: () => Promise<void>): void }, config: Partial<ServeConfig>) {
  const s = await startInProcess({ fsync: false, ...config });
  t.after(() => s.stop());
  return { ...s, port: Number(new URL(s.url).port) };
}

/** A raw connection that records what it received and when it was closed. */
function raw(
  port: number,
  localAddress = '127.0.0.1',
): { sock: Socket; received: () => string; closed: Promise<void>; connected: Promise<void> } {
  const sock = connect({ port, host: '127.0.0.1', localAddress });
  let data = '';
  sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  const connected = new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, received: () => data, closed, connected };
}

const responses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

test(
  'a body that keeps sending, slower than body_timeout_seconds overall, is never cut',
  { timeout: 30_000 },
  async (t) => {
    const s = await server(t, { bodyTimeoutSeconds: 1 });
    const loc = await startUpload(s.url, 'slow/repo');
    const bytes = Buffer.from('abcdefgh');
    const c = raw(s.port);
    await c.connected;
    c.sock.write(
      `PUT ${withDigest(loc, sha256(bytes))} HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`,
    );
    for (const b of bytes) {
      c.sock.write(Buffer.from([b]));
      await sleep(400); // 8 × 400 ms: three times the timeout in all, never a second of silence
    }
    await c.closed;
    assert.deepEqual(responses(c.received()), [201]);
  },
);

test(
  'a PATCH that sends 5 bytes then stalls is cut after body_timeout_seconds; the session keeps them and resumes',
  { timeout: 30_000 },
  async (t) => {
    const s = await server(t, { bodyTimeoutSeconds: 1 });
    for (const framing of ['content-length', 'chunked'] as const) {
      const loc = await startUpload(s.url, `stall/${framing}`);
      const c = raw(s.port);
      await c.connected;
      c.sock.write(
        framing === 'content-length'
          ? `PATCH ${loc} HTTP/1.1\r\nHost: x\r\nContent-Range: 0-9\r\nContent-Length: 10\r\n\r\nabcde`
          : `PATCH ${loc} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n`,
      );
      // Nothing more is sent: the server closes the connection without an answer.
      await c.closed;
      assert.deepEqual(responses(c.received()), [], `${framing}: no answer on a cut connection`);
      const status = await http(s.url, loc);
      assert.equal(status.status, 204);
      assert.equal(status.headers.range, '0-4', `${framing}: the 5 bytes that arrived are kept`);
      const rest = await http(s.url, loc, {
        method: 'PATCH',
        headers: { 'Content-Range': '5-9' },
        body: Buffer.from('fghij'),
      });
      assert.equal(rest.status, 202);
      assert.equal(rest.headers.range, '0-9');
      const digest = sha256(Buffer.from('abcdefghij'));
      assert.equal((await http(s.url, withDigest(loc, digest), { method: 'PUT' })).status, 201);
      const blob = await http(s.url, `/v2/stall/${framing}/blobs/${digest}`);
      assert.equal(blob.body.toString(), 'abcdefghij');
    }
  },
);

test(
  'a PUT whose last chunk stalls is cut and leaves the session as it was, still finishable',
  { timeout: 30_000 },
  async (t) => {
    const s = await server(t, { bodyTimeoutSeconds: 1 });
    const loc = await startUpload(s.url, 'stall/put');
    assert.equal((await http(s.url, loc, { method: 'PATCH', body: Buffer.from('abcde') })).status, 202);
    const digest = sha256(Buffer.from('abcdefghij'));
    const c = raw(s.port);
    await c.connected;
    c.sock.write(`PUT ${withDigest(loc, digest)} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfg`);
    await c.closed;
    assert.deepEqual(responses(c.received()), []);
    // The cut reaches the append just after the socket closes: wait for its rollback.
    await waitFor('the half-sent last chunk rolled back', async () => (await uploadedSize(s.url, loc)).size === 5);
    const put = await http(s.url, withDigest(loc, digest), { method: 'PUT', body: Buffer.from('fghij') });
    assert.equal(put.status, 201);
  },
);

test('headers must arrive within headers_timeout_seconds', { timeout: 30_000 }, async (t) => {
  const s = await server(t, { headersTimeoutSeconds: 1 });
  const c = raw(s.port);
  await c.connected;
  c.sock.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n');
  await c.closed;
  assert.ok(!responses(c.received()).includes(200));
});

test('an idle keep-alive connection is closed after keep_alive_timeout_seconds', { timeout: 30_000 }, async (t) => {
  const s = await server(t, { keepAliveTimeoutSeconds: 1 });
  const c = raw(s.port);
  await c.connected;
  c.sock.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.closed;
  assert.deepEqual(responses(c.received()), [200]);
});

test(
  'connections per address over max_connections_per_address get 503; existing ones and other addresses are unaffected',
  { timeout: 30_000 },
  async (t) => {
    const s = await server(t, { maxConnectionsPerAddress: 2 });
    const held = [raw(s.port), raw(s.port)];
    for (const h of held) {
      await h.connected;
      h.sock.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    }
    await waitFor('two answers', () => held.every((h) => responses(h.received()).length === 1));
    const third = raw(s.port);
    await third.closed;
    assert.deepEqual(responses(third.received()), [503]);
    assert.match(third.received(), /too many connections/);
    held[0]!.sock.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the held connection still serves', () => responses(held[0]!.received()).length === 2);
    const other = raw(s.port, '127.0.0.2');
    await other.connected;
    other.sock.end('GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await other.closed;
    assert.deepEqual(responses(other.received()), [200], 'another address');
    for (const h of held) h.sock.destroy();
    await Promise.all(held.map((h) => h.closed));
    await waitFor('room again', async () => (await http(s.url, '/v2/')).status === 200);
  },
);

test('connections over max_connections are refused; existing ones are unaffected', { timeout: 30_000 }, async (t) => {
  const s = await server(t, { maxConnections: 2 });
  const held = [raw(s.port), raw(s.port)];
  for (const h of held) {
    await h.connected;
    h.sock.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
  }
  await waitFor('two answers', () => held.every((h) => responses(h.received()).length === 1));
  const third = raw(s.port, '127.0.0.3');
  third.sock.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
  await third.closed;
  assert.deepEqual(responses(third.received()), [], 'refused');
  held[1]!.sock.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor('the held connection still serves', () => responses(held[1]!.received()).length === 2);
  for (const h of held) h.sock.destroy();
});

test('a client that half-closes after a complete request still gets its answer', { timeout: 30_000 }, async (t) => {
  const s = await server(t, {});
  for (let i = 0; i < 20; i++) {
    const bytes = Buffer.from(`half-closed blob ${i}`);
    const c = raw(s.port);
    await c.connected;
    c.sock.end(
      `POST /v2/half/closed/blobs/uploads/?digest=${sha256(bytes)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${bytes.length}\r\n\r\n${bytes.toString('latin1')}`,
    );
    await c.closed;
    assert.deepEqual(responses(c.received()), [201], `request ${i}: ${c.received().slice(0, 200)}`);
    assert.equal((await http(s.url, `/v2/half/closed/blobs/${sha256(bytes)}`, { method: 'HEAD' })).status, 200);
  }
});
