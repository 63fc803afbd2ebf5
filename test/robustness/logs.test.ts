/**
 * Requirement 9: structured request logs. Every request produces exactly one
 * JSON log line carrying reqId (= the X-Request-Id response header), method,
 * path, status, bytes and ms; and no Authorization header value ever appears
 * anywhere in the output (stdout or stderr), whatever the request does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStowage } from '../helpers/server.js';
import { PASSWORDS, basic as basicAuth, startAuthProcess } from '../auth/helpers.js';
import {
  MiB,
  OCI_MANIFEST,
  describe,
  http,
  manualRequest,
  randomBytesSeeded,
  removeDir,
  sha256,
  sleep,
  tempDir,
  waitFor,
  type HttpResponse,
} from './helpers.js';

/** Upload session ids are logged as `<upload>`. */
const loggedPath = (path: string) => path.replace(/(\/blobs\/uploads\/)[^/]+$/, '$1<upload>');

interface RequestLine {
  level: number;
  msg: string;
  reqId: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  ms: number;
}

const SECRET = 'Sup3rS3cretT0ken-9f8e7d6c5b4a';

test(
  'one structured JSON line per request, and no Authorization value in any output',
  { timeout: 30_000 },
  async (t) => {
    const dataDir = await tempDir();
    const server = await startStowage({ dataDir });
    let stderr = '';
    server.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    t.after(async () => {
      await server.kill('SIGKILL');
      await removeDir(dataDir);
    });

    const basic = `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}`;
    const auths = [`Bearer ${SECRET}`, basic];
    const sent: { res: HttpResponse; method: string; path: string }[] = [];
    let n = 0;
    const call = async (method: string, path: string, opts: Parameters<typeof http>[2] = {}) => {
      const headers = { ...opts.headers, Authorization: auths[n++ % auths.length]!, 'User-Agent': 'robustness-test' };
      const res = await http(server.url, path, { ...opts, method, headers });
      sent.push({ res, method, path: loggedPath(path.split('?')[0]!) });
      return res;
    };

    const repo = 'logs/repo';
    const blob = randomBytesSeeded(90, 200_000);
    const digest = sha256(blob);
    await call('GET', '/v2/');
    const post = await call('POST', `/v2/${repo}/blobs/uploads/?digest=${digest}&token=${SECRET}`, { body: blob });
    assert.equal(post.status, 201, describe(post));
    await call('HEAD', `/v2/${repo}/blobs/${digest}`);
    const get = await call('GET', `/v2/${repo}/blobs/${digest}`);
    assert.equal(get.body.length, blob.length);
    await call('GET', `/v2/${repo}/blobs/${digest}`, { headers: { Range: 'bytes=10-19' } });
    await call('GET', `/v2/${repo}/blobs/${sha256('missing')}`);
    await call('PUT', `/v2/${repo}/manifests/latest`, { headers: { 'Content-Type': OCI_MANIFEST }, body: '{not json' });
    await call('GET', '/v2/_catalog');
    await call('GET', `/v2/${repo}/tags/list`);
    await call('DELETE', `/v2/${repo}/blobs/${digest}`);
    await call('GET', '/nope');
    await call('PATCH', '/v2/');
    await call('GET', `/v2/${repo}/blobs/uploads/not-a-session`);

    // A request whose client vanishes mid-body is logged too (once).
    const start = await call('POST', `/v2/${repo}/blobs/uploads/`);
    const aborted = manualRequest(server.url, String(start.headers.location), {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${SECRET}`, 'Content-Length': 4 * MiB },
    });
    await aborted.write(Buffer.alloc(MiB, 1));
    await sleep(200);
    aborted.req.destroy();

    // Give the last lines time to reach stdout.
    const requestLines = () =>
      server.logs
        .map((l) => {
          try {
            return JSON.parse(l) as RequestLine;
          } catch {
            return undefined;
          }
        })
        .filter((l): l is RequestLine => l !== undefined && l.msg === 'request');
    await waitFor('all request lines', () => requestLines().length >= sent.length + 1, 5000);
    await sleep(200);
    const lines = requestLines();

    // Every line is complete and well-typed.
    for (const l of lines) {
      assert.equal(typeof l.reqId, 'string', JSON.stringify(l));
      assert.match(l.reqId, /^[0-9a-f-]{36}$/);
      assert.equal(typeof l.method, 'string');
      assert.equal(typeof l.path, 'string');
      assert.ok(l.path.startsWith('/'), l.path);
      assert.ok(Number.isInteger(l.status) && l.status >= 100 && l.status < 600, JSON.stringify(l));
      assert.ok(Number.isInteger(l.bytes) && l.bytes >= 0, `bytes: ${JSON.stringify(l)}`);
      assert.ok(typeof l.ms === 'number' && l.ms >= 0, `ms: ${JSON.stringify(l)}`);
    }
    // Exactly one line per request, matching what the client saw.
    for (const { res, method, path } of sent) {
      const id = res.headers['x-request-id'];
      assert.equal(typeof id, 'string', `X-Request-Id on ${method} ${path}`);
      const mine = lines.filter((l) => l.reqId === id);
      assert.equal(mine.length, 1, `${method} ${path}: ${mine.length} log lines for request ${String(id)}`);
      const l = mine[0]!;
      assert.equal(l.method, method);
      assert.equal(l.path, path);
      assert.equal(l.status, res.status, `${method} ${path}`);
      assert.equal(l.bytes, Number(res.headers['content-length'] ?? 0), `${method} ${path}: bytes`);
    }
    const abortedLines = lines.filter(
      (l) => l.method === 'PATCH' && l.path === loggedPath(String(start.headers.location)),
    );
    assert.equal(abortedLines.length, 1, 'the aborted PATCH is logged exactly once');
    assert.equal(lines.length, sent.length + 1, 'no request is logged twice, none is missing');
    // The full blob GET reports the bytes of the body.
    assert.ok(lines.some((l) => l.method === 'GET' && l.status === 200 && l.bytes === blob.length));

    // The query's safe part is logged (digest=), the rest (token=) is not.
    const push = lines.find((l) => l.reqId === post.headers['x-request-id'])!;
    assert.deepEqual((push as unknown as { query: unknown }).query, { digest });

    // No secret anywhere: not the token, not the Basic credentials, not the query string, not a session id.
    const all = server.logs.join('\n') + '\n' + stderr;
    const sessionId = String(start.headers['docker-upload-uuid']);
    assert.match(sessionId, /^[0-9a-f-]{36}$/);
    assert.equal(all.includes(sessionId), false, 'an upload session id appears in the info-level output');
    assert.equal(
      all.includes(SECRET),
      false,
      'the secret (sent in Authorization headers and one query string) appears in the output',
    );
    assert.equal(all.includes(basic.slice(6)), false, 'the Basic credentials appear in the output');
    assert.equal(/authorization/i.test(all), false, 'no Authorization header is logged at all');
  },
);

test(
  'the request log names the user and the safe query parameters (mount, from, digest, n, last), never secrets or session ids',
  { timeout: 60_000 },
  async (t) => {
    const server = await startAuthProcess({ mode: 'basic' });
    t.after(() => server.stop());
    const alice = { Authorization: basicAuth('alice', PASSWORDS.alice) };
    const blob = randomBytesSeeded(91, 1000);
    const digest = sha256(blob);
    const calls: [string, string, Buffer?][] = [
      ['POST', `/v2/alice/a/blobs/uploads/?digest=${digest}&password=${SECRET}`, blob],
      ['POST', `/v2/alice/b/blobs/uploads/?mount=${digest}&from=alice/a&_state=${SECRET}`],
      ['POST', '/v2/alice/c/blobs/uploads/'],
      ['GET', '/v2/alice/a/tags/list?n=5&last=v1'],
    ];
    const ids: string[] = [];
    for (const [method, path, body] of calls) {
      const res = await http(server.url, path, { method, headers: alice, ...(body ? { body } : {}) });
      assert.ok(res.status < 300 || res.status === 404, describe(res));
      ids.push(String(res.headers['x-request-id']));
      if (res.headers['docker-upload-uuid']) ids.push(`session:${String(res.headers['docker-upload-uuid'])}`);
    }
    await http(server.url, '/v2/', { method: 'GET' }); // anonymous: no user
    const parsed = () =>
      server.proc.logs.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, any>];
        } catch {
          return [];
        }
      });
    await waitFor('request lines', () => parsed().filter((l) => l.msg === 'request').length >= calls.length + 1, 5000);
    const line = (id: string) => parsed().find((l) => l.msg === 'request' && l.reqId === id)!;
    assert.deepEqual(line(ids[0]!).query, { digest });
    assert.deepEqual(line(ids[1]!).query, { mount: digest, from: 'alice/a' });
    assert.equal(line(ids[2]!).query, undefined);
    assert.deepEqual(line(ids[ids.length - 1]!).query, { n: '5', last: 'v1' });
    for (const id of ids.filter((i) => !i.startsWith('session:'))) assert.equal(line(id).user, 'alice', id);
    const anonymous = parsed().filter((l) => l.msg === 'request' && l.path === '/v2/');
    assert.ok(anonymous.length >= 1 && anonymous.every((l) => l.user === undefined));
    const all = server.proc.logs.join('\n');
    assert.equal(all.includes(SECRET), false, 'a secret query parameter was logged');
    for (const s of ids.filter((i) => i.startsWith('session:')))
      assert.equal(all.includes(s.slice(8)), false, 'a session id was logged');
  },
);
