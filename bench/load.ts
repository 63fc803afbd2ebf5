/**
 * HTTP load primitives for the load generator: a keep-alive client over
 * node:http, closed-loop runners (fixed duration or fixed count), a latency
 * recorder, and the three ways of pushing a blob plus pulling one.
 */
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** An answer that was not the one expected (non-2xx, wrong status, short body, socket error). */
export class BenchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BenchError';
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Bytes of body received. */
  bytes: number;
  /** The body, when asked for with `keepBody`. */
  body?: Buffer;
}

export interface RequestSpec {
  method: string;
  /** Path and query, e.g. /v2/x/blobs/uploads/. */
  path: string;
  headers?: http.OutgoingHttpHeaders;
  /** Sent with Content-Length in one write. */
  body?: Buffer;
  /** Sent with Transfer-Encoding: chunked, written `writeSize` bytes at a time. */
  streamBody?: { data: Buffer; writeSize: number };
  keepBody?: boolean;
  /** Statuses that count as success (default: any 2xx). */
  expect?: readonly number[];
}

// Distribution's catalog pages on S3 take tens of seconds before the first byte.
const REQUEST_IDLE_TIMEOUT_MS = 180_000;

/** A keep-alive HTTP client bound to one registry, with at most `maxSockets` connections. */
export class Client {
  readonly agent: http.Agent;
  private readonly hostname: string;
  private readonly port: number;

  constructor(
    readonly baseUrl: string,
    maxSockets: number,
  ) {
    const u = new URL(baseUrl);
    this.hostname = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
  }

  /** Resolves with the answer; rejects with BenchError on an unexpected status or socket error. */
  request(spec: RequestSpec): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { ...spec.headers };
      if (spec.body) headers['Content-Length'] = spec.body.length;
      else if (spec.streamBody) headers['Transfer-Encoding'] = 'chunked';
      const req = http.request(
        { agent: this.agent, hostname: this.hostname, port: this.port, method: spec.method, path: spec.path, headers },
        (res) => {
          const status = res.statusCode ?? 0;
          const ok = spec.expect ? spec.expect.includes(status) : status >= 200 && status < 300;
          // keep the body when asked, and the error text of a failure
          const keep = spec.keepBody === true || !ok;
          let bytes = 0;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (keep) chunks.push(c);
          });
          res.on('error', (e) => reject(new BenchError(`${spec.method} ${spec.path}: response: ${e.message}`)));
          res.on('end', () => {
            if (!ok) {
              const text = Buffer.concat(chunks).toString('utf8').slice(0, 300);
              reject(new BenchError(`${spec.method} ${spec.path.slice(0, 120)} -> ${status} ${text}`, status));
              return;
            }
            const expected = res.headers['content-length'];
            if (spec.method !== 'HEAD' && expected !== undefined && Number(expected) !== bytes) {
              reject(
                new BenchError(
                  `${spec.method} ${spec.path}: body has ${bytes} bytes, Content-Length said ${expected}`,
                  status,
                ),
              );
              return;
            }
            resolve({ status, headers: res.headers, bytes, body: spec.keepBody ? Buffer.concat(chunks) : undefined });
          });
        },
      );
      req.on('error', (e) => reject(new BenchError(`${spec.method} ${spec.path.slice(0, 120)}: ${e.message}`)));
      // A server that stops answering fails the request instead of hanging the run.
      req.setTimeout(REQUEST_IDLE_TIMEOUT_MS, () =>
        req.destroy(new Error(`no progress for ${REQUEST_IDLE_TIMEOUT_MS} ms`)),
      );
      if (spec.body) {
        req.end(spec.body);
      } else if (spec.streamBody) {
        void writeStreamed(req, spec.streamBody.data, spec.streamBody.writeSize).catch((e: Error) => req.destroy(e));
      } else {
        req.end();
      }
    });
  }

  /** Path+query of a Location header (absolute or relative), plus extra query parameters. */
  static locationPath(location: string | undefined, extra: Record<string, string> = {}): string {
    if (!location) throw new BenchError('answer has no Location header');
    const u = new URL(location, 'http://placeholder');
    for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
    return u.pathname + u.search;
  }

  close(): void {
    this.agent.destroy();
  }
}

async function writeStreamed(req: http.ClientRequest, data: Buffer, writeSize: number): Promise<void> {
  for (let off = 0; off < data.length; off += writeSize) {
    const piece = data.subarray(off, Math.min(off + writeSize, data.length));
    if (!req.write(piece)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          req.off('error', onError);
          resolve();
        };
        const onError = (e: Error) => {
          req.off('drain', onDrain);
          reject(e);
        };
        req.once('drain', onDrain);
        req.once('error', onError);
      });
    }
  }
  req.end();
}

// ---- blob pushes and pulls -----------------------------------------------------

const OCTET = 'application/octet-stream';

async function startUpload(client: Client, repo: string): Promise<string> {
  const a = await client.request({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, expect: [202] });
  return Client.locationPath(a.headers.location);
}

/** POST, then PUT ?digest= with the whole body. */
export async function pushMonolithic(client: Client, repo: string, data: Buffer, digest: string): Promise<void> {
  const location = await startUpload(client, repo);
  await client.request({
    method: 'PUT',
    path: Client.locationPath(location, { digest }),
    headers: { 'Content-Type': OCTET },
    body: data,
    expect: [201],
  });
}

/** POST, PATCH chunks with Content-Range (following each Location), then PUT ?digest=. */
export async function pushChunked(
  client: Client,
  repo: string,
  data: Buffer,
  digest: string,
  chunkSize: number,
): Promise<void> {
  let location = await startUpload(client, repo);
  for (let off = 0; off < data.length; off += chunkSize) {
    const end = Math.min(off + chunkSize, data.length);
    const a = await client.request({
      method: 'PATCH',
      path: location,
      headers: { 'Content-Type': OCTET, 'Content-Range': `${off}-${end - 1}` },
      body: data.subarray(off, end),
      expect: [202],
    });
    location = Client.locationPath(a.headers.location);
  }
  await client.request({ method: 'PUT', path: Client.locationPath(location, { digest }), expect: [201] });
}

/** POST, one PATCH with Transfer-Encoding: chunked (no Content-Length), then PUT ?digest=. */
export async function pushStreamed(
  client: Client,
  repo: string,
  data: Buffer,
  digest: string,
  writeSize: number,
): Promise<void> {
  let location = await startUpload(client, repo);
  const a = await client.request({
    method: 'PATCH',
    path: location,
    headers: { 'Content-Type': OCTET },
    streamBody: { data, writeSize },
    expect: [202],
  });
  location = Client.locationPath(a.headers.location);
  await client.request({ method: 'PUT', path: Client.locationPath(location, { digest }), expect: [201] });
}

/**
 * A lean GET-only client for large bodies: one keep-alive connection reading into
 * one reused 4 MiB buffer (net's `onread`), bytes counted, not hashed or kept.
 * node:http reads 64 KiB at a time and allocates each; at ~2 GB/s that made the
 * load generator, not the server, the limit of a pull.
 */
export class BodyCounter {
  private socket?: net.Socket;
  private readonly buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
  private onBytes: (chunk: Buffer) => void = () => undefined;
  private onEnd: (e?: Error) => void = () => undefined;
  private readonly url: URL;

  constructor(baseUrl: string) {
    this.url = new URL(baseUrl);
  }

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: this.url.hostname,
        port: Number(this.url.port),
        onread: {
          buffer: this.buffer,
          callback: (n: number, buf: Uint8Array) => {
            this.onBytes(Buffer.from(buf.buffer, buf.byteOffset, n));
            return true;
          },
        },
      });
      socket.setNoDelay(true);
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
      socket.on('error', (e) => this.onEnd(e));
      socket.on('close', () => this.onEnd(new Error('connection closed')));
      socket.setTimeout(REQUEST_IDLE_TIMEOUT_MS, () =>
        socket.destroy(new Error(`no progress for ${REQUEST_IDLE_TIMEOUT_MS} ms`)),
      );
      this.socket = socket;
    });
  }

  /** GETs `path`; resolves with the body's length once Content-Length bytes arrived. */
  async get(path: string, expectStatus: number): Promise<number> {
    const socket = await this.connect();
    return new Promise<number>((resolve, reject) => {
      let head = '';
      let remaining = -1;
      let bytes = 0;
      const done = (e?: Error) => {
        this.onBytes = () => undefined;
        this.onEnd = () => undefined;
        if (e) {
          socket.destroy();
          reject(new BenchError(`GET ${path.slice(0, 120)}: ${e.message}`));
        } else resolve(bytes);
      };
      this.onEnd = done;
      this.onBytes = (chunk) => {
        if (remaining < 0) {
          // Response head: latin1 keeps byte offsets equal to string offsets.
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          const status = Number(head.slice(9, 12));
          const length = /\r\ncontent-length:\s*(\d+)/i.exec(head.slice(0, end));
          if (status !== expectStatus || !length)
            return done(new Error(`status ${status}${length ? '' : ', no Content-Length'}`));
          remaining = Number(length[1]);
          const body = chunk.length - (head.length - (end + 4));
          chunk = chunk.subarray(body);
        }
        bytes += chunk.length;
        remaining -= chunk.length;
        if (remaining < 0) done(new Error('more bytes than Content-Length'));
        else if (remaining === 0) done();
      };
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.url.host}\r\nUser-Agent: stowage-bench\r\n\r\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** GET a blob, counting bytes (no hashing: the client must not be the limit). */
export async function pullBlob(client: BodyCounter, repo: string, digest: string, size: number): Promise<void> {
  const bytes = await client.get(`/v2/${repo}/blobs/${digest}`, 200);
  if (bytes !== size) throw new BenchError(`pull ${digest}: got ${bytes} bytes, expected ${size}`);
}

// ---- latency and runners ---------------------------------------------------------

/** Exact latency percentiles from recorded samples (milliseconds). */
export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private n = 0;

  record(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    const sorted = this.samples.slice(0, this.n).sort();
    const at = (q: number) => sorted[Math.min(this.n - 1, Math.max(0, Math.ceil(q * this.n) - 1))]!;
    let sum = 0;
    for (const v of sorted) sum += v;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[this.n - 1]!, mean: sum / this.n };
  }
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface ErrorCounter {
  errors: number;
  samples: string[];
}

export function newErrorCounter(): ErrorCounter {
  return { errors: 0, samples: [] };
}

function countError(counter: ErrorCounter, e: unknown): void {
  counter.errors++;
  if (counter.samples.length < 5) counter.samples.push(e instanceof Error ? e.message : String(e));
}

export interface RunStats {
  /** Operations that succeeded. */
  ok: number;
  errors: number;
  errorSamples: string[];
  wallMs: number;
  latency: LatencySummary;
  /** Load generator CPU over the run, % of one core. */
  loadgenCpuPct: number;
}

/** One operation; `i` is its sequence number (unique within the run). */
export type Operation = (i: number) => Promise<void>;

/**
 * Closed loop: `concurrency` workers each run operations back to back, until
 * `durationMs` has passed (`count` undefined) or `count` operations were started.
 */
export async function closedLoop(
  opts: { concurrency: number; durationMs?: number; count?: number; firstIndex?: number },
  op: Operation,
): Promise<RunStats> {
  const latency = new LatencyRecorder();
  const errs = newErrorCounter();
  let next = opts.firstIndex ?? 0;
  const last = opts.count === undefined ? Infinity : next + opts.count;
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = opts.durationMs === undefined ? Infinity : t0 + opts.durationMs;
  const worker = async () => {
    for (;;) {
      if (next >= last) return;
      const start = performance.now();
      if (start >= deadline) return;
      const i = next++;
      try {
        await op(i);
        latency.record(performance.now() - start);
        ok++;
      } catch (e) {
        countError(errs, e);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    ok,
    errors: errs.errors,
    errorSamples: errs.samples,
    wallMs,
    latency: latency.summary(),
    loadgenCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
  };
}
