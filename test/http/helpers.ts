/**
 * Small raw-HTTP toolkit for the endpoint tests in test/http/. Everything goes
 * through node:http.request so paths are sent exactly as written (no `..` or
 * `%2F` normalisation), HEAD and chunked bodies work, and headers can be read
 * both parsed and raw.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

export const EMPTY_DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  /** [name, value, name, value…] exactly as received. */
  rawHeaders: string[];
  body: Buffer;
  text: string;
  /** Parsed JSON body (throws if not JSON). */
  json<T = any>(): T;
}

export interface ReqOptions {
  headers?: OutgoingHttpHeaders;
  /** Sent with Content-Length unless `chunked`. */
  body?: Buffer | string;
  /** Send `body` as several chunks with Transfer-Encoding: chunked and no Content-Length. */
  chunked?: boolean;
}

/** One request on a fresh connection; resolves once the whole response is read. */
export function req(base: string, method: string, path: string, opts: ReqOptions = {}): Promise<Res> {
  const url = new URL(base);
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const headers: OutgoingHttpHeaders = { ...opts.headers };
  if (
    body !== undefined &&
    !opts.chunked &&
    headers['content-length'] === undefined &&
    headers['Content-Length'] === undefined
  ) {
    headers['Content-Length'] = body.length;
  }
  return new Promise<Res>((resolve, reject) => {
    const r = request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: buf,
          text,
          json: () => JSON.parse(text),
        });
      });
    });
    r.on('error', reject);
    if (body !== undefined) {
      if (opts.chunked) {
        r.setHeader('Transfer-Encoding', 'chunked');
        const third = Math.max(1, Math.ceil(body.length / 3));
        for (let i = 0; i < body.length; i += third) r.write(body.subarray(i, i + third));
        r.end();
      } else {
        r.end(body);
      }
    } else {
      r.end();
    }
  });
}

/** Every raw value of a response header (case-insensitive name). */
export function rawHeader(res: Res, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    if (res.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(res.rawHeaders[i + 1]!);
  }
  return out;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha512(data: Buffer | string): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

/** Every response carries the API version header. */
export function assertApiVersion(res: Res): void {
  assert.equal(
    res.headers['docker-distribution-api-version'],
    'registry/2.0',
    'Docker-Distribution-API-Version header',
  );
}

/**
 * Asserts an OCI error response: status, JSON content type, the error code(s),
 * and the API version header. For HEAD (no body) only status and headers.
 */
export function assertError(res: Res, status: number, code: string | string[], method = 'GET'): any {
  const codes = Array.isArray(code) ? code : [code];
  assert.equal(res.status, status, `status (body: ${res.text.slice(0, 300)})`);
  assertApiVersion(res);
  assert.match(String(res.headers['content-type']), /^application\/json/, 'error content type');
  if (method === 'HEAD') {
    assert.equal(res.body.length, 0);
    return undefined;
  }
  const body = res.json();
  assert.ok(Array.isArray(body.errors), 'errors array');
  assert.ok(body.errors.length >= 1, 'at least one error');
  for (const e of body.errors) {
    assert.equal(typeof e.code, 'string');
    assert.match(e.code, /^[A-Z_]+$/);
  }
  assert.deepEqual(
    body.errors.map((e: { code: string }) => e.code).slice(0, codes.length),
    codes,
    `error codes (body: ${res.text.slice(0, 300)})`,
  );
  return body;
}

/** Monolithic POST ?digest= upload of a blob; returns its digest. */
export async function pushBlob(
  base: string,
  repo: string,
  data: Buffer | string,
): Promise<{ digest: string; size: number }> {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const digest = sha256(buf);
  const res = await req(base, 'POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, {
    headers: { 'Content-Type': 'application/octet-stream' },
    body: buf,
  });
  assert.equal(res.status, 201, `push blob to ${repo}: ${res.text}`);
  return { digest, size: buf.length };
}

/** Starts an upload session; returns its Location (absolute path). */
export async function startUpload(base: string, repo: string): Promise<string> {
  const res = await req(base, 'POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(res.status, 202, res.text);
  const loc = res.headers.location;
  assert.ok(loc, 'Location');
  return loc;
}

/** Appends `digest=` to an upload Location, keeping any query it had. */
export function withDigest(location: string, digest: string): string {
  return location + (location.includes('?') ? '&' : '?') + `digest=${encodeURIComponent(digest)}`;
}

export interface Pushed {
  digest: string;
  size: number;
  bytes: Buffer;
  mediaType: string;
}

export async function putManifest(
  base: string,
  repo: string,
  ref: string,
  bytes: Buffer | string,
  contentType?: string,
): Promise<Res> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return req(base, 'PUT', `/v2/${repo}/manifests/${ref}`, {
    headers: contentType === undefined ? {} : { 'Content-Type': contentType },
    body: buf,
  });
}

/** PUTs a manifest and asserts 201; returns its digest and bytes. */
export async function pushManifest(
  base: string,
  repo: string,
  ref: string,
  doc: unknown,
  contentType: string,
): Promise<Pushed> {
  const bytes = Buffer.isBuffer(doc) ? doc : Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
  const res = await putManifest(base, repo, ref, bytes, contentType);
  assert.equal(res.status, 201, `push manifest ${repo}:${ref}: ${res.text}`);
  const digest = sha256(bytes);
  assert.equal(res.headers['docker-content-digest'], digest);
  return { digest, size: bytes.length, bytes, mediaType: contentType };
}

let counter = 0;

/**
 * Pushes a config and a layer blob into `repo` and returns an OCI (or Docker)
 * image manifest document referencing them (not yet pushed).
 */
export async function imageManifest(
  base: string,
  repo: string,
  opts: { docker?: boolean; layers?: number; extra?: Record<string, unknown> } = {},
): Promise<Record<string, unknown>> {
  const n = ++counter;
  const config = await pushBlob(
    base,
    repo,
    JSON.stringify({ architecture: 'amd64', os: 'linux', n, salt: Math.random() }),
  );
  const layers = [];
  for (let i = 0; i < (opts.layers ?? 1); i++) {
    const layer = await pushBlob(base, repo, `layer ${n}.${i} ${Math.random()}`);
    layers.push({ mediaType: opts.docker ? MT.dockerLayer : MT.ociLayer, digest: layer.digest, size: layer.size });
  }
  return {
    schemaVersion: 2,
    mediaType: opts.docker ? MT.dockerManifest : MT.ociManifest,
    config: { mediaType: opts.docker ? MT.dockerConfig : MT.ociConfig, digest: config.digest, size: config.size },
    layers,
    ...opts.extra,
  };
}

/** Pushes a fresh image manifest under `ref` (tag or "digest" to push by digest). */
export async function pushImage(
  base: string,
  repo: string,
  ref: string,
  opts: { docker?: boolean; extra?: Record<string, unknown> } = {},
): Promise<Pushed> {
  const doc = await imageManifest(base, repo, opts);
  const bytes = Buffer.from(JSON.stringify(doc));
  const type = opts.docker ? MT.dockerManifest : MT.ociManifest;
  return pushManifest(base, repo, ref === 'digest' ? sha256(bytes) : ref, bytes, type);
}

/** What a repository looks like from outside, for "bad input changed nothing" checks. */
export interface Snapshot {
  tags: { status: number; body: string };
  catalog: string;
  blobs: Record<string, number>;
}

export async function snapshot(base: string, repo: string, blobs: string[] = []): Promise<Snapshot> {
  const tags = await req(base, 'GET', `/v2/${repo}/tags/list`);
  const catalog = await req(base, 'GET', '/v2/_catalog');
  const heads: Record<string, number> = {};
  for (const d of blobs) heads[d] = (await req(base, 'HEAD', `/v2/${repo}/blobs/${d}`)).status;
  return { tags: { status: tags.status, body: tags.text }, catalog: catalog.text, blobs: heads };
}

/** Unique, valid repository names per test. */
let repoCounter = 0;
export function repoName(prefix = 'r'): string {
  return `${prefix}${++repoCounter}-${process.pid}`;
}

/**
 * Sends `head` (request line + headers, CRLF-separated, without the blank line)
 * and `body` over a raw socket with `Connection: close`, and parses the reply.
 * For requests Node's client would rewrite (no Content-Length and no
 * Transfer-Encoding on a PUT, hand-made chunked framing, odd request targets).
 */
export function rawRequest(base: string, head: string, body: Buffer | string = ''): Promise<Res> {
  const url = new URL(base);
  return new Promise<Res>((resolve, reject) => {
    const sock = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', reject);
    sock.on('close', () => {
      let all = Buffer.concat(chunks);
      // Skip interim responses (100 Continue).
      while (/^HTTP\/1\.[01] 1\d\d /.test(all.subarray(0, 16).toString('latin1')))
        all = all.subarray(all.indexOf('\r\n\r\n') + 4);
      const sep = all.indexOf('\r\n\r\n');
      if (sep === -1) return reject(new Error(`no HTTP response: ${all.toString().slice(0, 200)}`));
      const lines = all.subarray(0, sep).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
      const rawHeaders: string[] = [];
      const headers: IncomingHttpHeaders = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        const k = line.slice(0, i);
        const v = line.slice(i + 1).trim();
        rawHeaders.push(k, v);
        (headers as Record<string, string>)[k.toLowerCase()] = v;
      }
      let payload = all.subarray(sep + 4);
      if (/chunked/i.test(String(headers['transfer-encoding']))) {
        const out: Buffer[] = [];
        let rest = payload;
        for (;;) {
          const eol = rest.indexOf('\r\n');
          const size = parseInt(rest.subarray(0, eol).toString(), 16);
          if (!size) break;
          out.push(rest.subarray(eol + 2, eol + 2 + size));
          rest = rest.subarray(eol + 2 + size + 2);
        }
        payload = Buffer.concat(out);
      }
      const text = payload.toString('utf8');
      resolve({ status, headers, rawHeaders, body: payload, text, json: () => JSON.parse(text) });
    });
    // No half-close: Node's server drops a connection whose client ended first.
    sock.write(`${head}\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
    sock.write(body);
  });
}
