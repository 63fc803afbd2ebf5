/**
 * Shared helpers for the robustness suite: a small HTTP client that streams
 * bodies (never buffers blobs), deterministic content generators, blob and
 * manifest push flows, and inspectors for the data directory (files + SQLite).
 */
import { createHash, type Hash } from 'node:crypto';
import { readdir, readFile, stat, mkdtemp, rm } from 'node:fs/promises';
import { createReadStream, existsSync } from 'node:fs';
import { request as httpRequest, type Agent, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const ACCEPT_ALL_MANIFESTS = [
  OCI_MANIFEST,
  OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

// ---- misc -------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `p`, or undefined if it has not settled after `ms` (the timer does not keep the process alive). */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function tempDir(prefix = 'stowage-robust-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with the last value). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out waiting for ${what} (last: ${JSON.stringify(last)}${lastErr ? `, error: ${String(lastErr)}` : ''})`,
  );
}

/** Seeded PRNG (mulberry32), so random workloads can be replayed from the seed in the failure message. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` deterministic pseudo-random bytes. */
export function randomBytesSeeded(seed: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let off = 0;
  let counter = 0;
  while (off < n) {
    const block = createHash('sha512').update(`${seed}:${counter++}`).digest();
    off += block.copy(out, off);
  }
  return out;
}

// ---- process memory ---------------------------------------------------------

/** A field of /proc/<pid>/status in bytes (VmHWM = peak RSS, VmRSS = current RSS). */
export async function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

// ---- deterministic large content ----------------------------------------------

/**
 * Deterministic content of any size, generated on the fly in 1 MiB blocks: a
 * random 1 MiB base block, with every 4 KiB page of each block stamped with the
 * block number (so no two blocks are equal and nothing compresses trivially).
 * Never holds more than one block per pending chunk.
 */
export class PatternContent {
  private readonly base: Buffer;
  constructor(
    readonly seed: number,
    readonly size: number,
  ) {
    this.base = randomBytesSeeded(seed, MiB);
  }

  block(index: number): Buffer {
    const start = index * MiB;
    const len = Math.min(MiB, this.size - start);
    const b = Buffer.allocUnsafe(len);
    this.base.copy(b, 0, 0, len);
    for (let p = 0; p + 8 <= len; p += 4096) {
      b.writeUInt32LE((b.readUInt32LE(p) ^ index) >>> 0, p);
      b.writeUInt32LE((b.readUInt32LE(p + 4) ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0, p + 4);
    }
    return b;
  }

  /** The bytes in [start, end) as a stream, optionally feeding `hash` as they go. */
  stream(start = 0, end = this.size, hash?: Hash): Readable {
    return Readable.from(this.blocks(start, end, hash), { objectMode: false, highWaterMark: 2 * MiB });
  }

  private async *blocks(start: number, end: number, hash: Hash | undefined): AsyncGenerator<Buffer> {
    let pos = start;
    while (pos < end) {
      const index = Math.floor(pos / MiB);
      const blockStart = index * MiB;
      let b = this.block(index);
      b = b.subarray(pos - blockStart, Math.min(b.length, end - blockStart));
      hash?.update(b);
      pos += b.length;
      yield b;
    }
  }

  /** The bytes in [start, end) in memory (small ranges only). */
  bytes(start = 0, end = this.size): Buffer {
    const parts: Buffer[] = [];
    let pos = start;
    while (pos < end) {
      const index = Math.floor(pos / MiB);
      const b = this.block(index).subarray(pos - index * MiB, Math.min(MiB, end - index * MiB));
      parts.push(b);
      pos += b.length;
    }
    return Buffer.concat(parts);
  }

  /** sha256 of the whole content, computed by streaming it. */
  async digest(): Promise<string> {
    const h = createHash('sha256');
    for (let i = 0; i * MiB < this.size; i++) h.update(this.block(i));
    return `sha256:${h.digest('hex')}`;
  }
}

// ---- HTTP ---------------------------------------------------------------------

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The request's socket was reused from a keep-alive pool. */
  reusedSocket: boolean;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** A Buffer/string is sent with Content-Length; a stream with chunked encoding unless Content-Length is given. */
  body?: Buffer | string | Readable;
  agent?: Agent | false;
  /** Hash the response body instead of buffering it (for big blobs). */
  hashBody?: boolean;
  timeoutMs?: number;
}

export interface HashedResponse extends HttpResponse {
  digest?: string;
  bodyLength: number;
}

/** One HTTP request to `base + path`. Bodies are streamed; responses buffered unless hashBody. */
export function http(base: string, path: string, opts: RequestOptions = {}): Promise<HashedResponse> {
  const url = new URL(path, base);
  const headers: Record<string, string | number> = { ...opts.headers };
  const body = opts.body;
  if ((typeof body === 'string' || Buffer.isBuffer(body)) && headers['Content-Length'] === undefined) {
    headers['Content-Length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers, agent: opts.agent ?? false }, (res) => {
      const hash = opts.hashBody ? createHash('sha256') : undefined;
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (c: Buffer) => {
        length += c.length;
        if (hash) hash.update(c);
        else chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          reusedSocket: req.reusedSocket,
          bodyLength: length,
          digest: hash ? `sha256:${hash.digest('hex')}` : undefined,
        }),
      );
    });
    req.on('error', reject);
    if (opts.timeoutMs)
      req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`request timed out after ${opts.timeoutMs} ms`)));
    if (body === undefined) req.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch(reject);
  });
}

export function json<T = any>(res: HttpResponse): T {
  return JSON.parse(res.body.toString('utf8')) as T;
}

/** The OCI error codes in an error response body. */
export function errorCodes(res: HttpResponse): string[] {
  try {
    return (json<{ errors?: { code: string }[] }>(res).errors ?? []).map((e) => e.code);
  } catch {
    return [];
  }
}

export function describe(res: HttpResponse): string {
  return `${res.status} ${res.body.toString('utf8').slice(0, 500)}`;
}

/**
 * Starts a request whose body the caller writes by hand (to pause, stall or
 * abort halfway). `response` settles when the server answers or the request dies.
 */
export function manualRequest(
  base: string,
  path: string,
  opts: { method: string; headers?: Record<string, string | number>; agent?: Agent | false },
): {
  req: ClientRequest;
  response: Promise<HttpResponse>;
  write(chunk: Buffer): Promise<void>;
} {
  const url = new URL(path, base);
  let req!: ClientRequest;
  const response = new Promise<HttpResponse>((resolve, reject) => {
    req = httpRequest(url, { method: opts.method, headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          reusedSocket: req.reusedSocket,
        }),
      );
    });
    req.on('error', reject);
  });
  response.catch(() => undefined); // callers that abort on purpose may never look
  req.flushHeaders();
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) => {
      req.write(chunk, (err) => (err ? reject(err) : resolve()));
    });
  return { req, response, write };
}

// ---- registry flows -----------------------------------------------------------

export function uploadPath(location: string | string[] | undefined): string {
  if (typeof location !== 'string') throw new Error(`no Location header: ${String(location)}`);
  return new URL(location, 'http://x').pathname + new URL(location, 'http://x').search;
}

/** The session id at the end of an upload location's path. */
export function sessionIdOf(location: string): string {
  return location.split('?')[0]!.split('/').pop()!;
}

/** Where the disk blob store keeps an upload session's bytes (src/storage/disk/layout.ts). */
export function sessionFileOf(dataDir: string, location: string): string {
  return join(dataDir, 'uploads', sessionIdOf(location));
}

/** Appends `digest=` to an upload location, keeping any query it has. */
export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

export async function startUpload(base: string, repo: string): Promise<string> {
  const res = await http(base, `/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': 0 } });
  if (res.status !== 202) throw new Error(`POST upload: ${describe(res)}`);
  return uploadPath(res.headers.location);
}

/** The size an upload session reports (from GET's Range), or undefined on 404. */
export async function uploadedSize(
  base: string,
  location: string,
): Promise<{ status: number; size?: number; range?: string; codes: string[] }> {
  const res = await http(base, location);
  if (res.status !== 204) return { status: res.status, codes: errorCodes(res) };
  const range = String(res.headers.range);
  const m = /^0-(\d+)$/.exec(range);
  if (!m) throw new Error(`bad Range header ${range}`);
  const end = Number(m[1]);
  // "0-0" is ambiguous between 0 and 1 byte; callers that care check the file.
  return { status: 204, size: end === 0 ? 0 : end + 1, range, codes: [] };
}

export type UploadMethod = 'post-digest' | 'post-put' | 'chunked-range' | 'streamed-patch';
export const UPLOAD_METHODS: readonly UploadMethod[] = ['post-digest', 'post-put', 'chunked-range', 'streamed-patch'];

/** Pushes a blob held in memory with one of the upload flows; returns the final response. */
export async function pushBlob(
  base: string,
  repo: string,
  data: Buffer,
  method: UploadMethod = 'post-put',
  chunkSize = MiB,
): Promise<HttpResponse> {
  const digest = sha256(data);
  const octet = { 'Content-Type': 'application/octet-stream' };
  switch (method) {
    case 'post-digest':
      return http(base, `/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: octet, body: data });
    case 'post-put': {
      const loc = await startUpload(base, repo);
      return http(base, withDigest(loc, digest), { method: 'PUT', headers: octet, body: data });
    }
    case 'chunked-range': {
      let loc = await startUpload(base, repo);
      for (let off = 0; off < data.length; off += chunkSize) {
        const chunk = data.subarray(off, off + chunkSize);
        const res = await http(base, loc, {
          method: 'PATCH',
          headers: { ...octet, 'Content-Range': `${off}-${off + chunk.length - 1}` },
          body: chunk,
        });
        if (res.status !== 202) return res;
        loc = uploadPath(res.headers.location);
      }
      return http(base, withDigest(loc, digest), { method: 'PUT', headers: { 'Content-Length': 0 } });
    }
    case 'streamed-patch': {
      let loc = await startUpload(base, repo);
      // No Content-Length: the body goes out with Transfer-Encoding: chunked.
      const res = await http(base, loc, {
        method: 'PATCH',
        headers: octet,
        body: Readable.from(chunks(data, chunkSize)),
      });
      if (res.status !== 202) return res;
      loc = uploadPath(res.headers.location);
      return http(base, withDigest(loc, digest), { method: 'PUT', headers: { 'Content-Length': 0 } });
    }
  }
}

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export function descriptor(mediaType: string, data: Buffer): Descriptor {
  return { mediaType, digest: sha256(data), size: data.length };
}

export function imageManifest(config: Descriptor, layers: Descriptor[], annotations?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config,
      layers,
      ...(annotations ? { annotations } : {}),
    }),
  );
}

export function indexManifest(manifests: Descriptor[], annotations?: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests, ...(annotations ? { annotations } : {}) }),
  );
}

export async function putManifest(
  base: string,
  repo: string,
  ref: string,
  body: Buffer,
  mediaType = OCI_MANIFEST,
): Promise<HttpResponse> {
  return http(base, `/v2/${repo}/manifests/${ref}`, { method: 'PUT', headers: { 'Content-Type': mediaType }, body });
}

/** Pushes a config + layers + manifest under `ref`; returns the manifest digest. */
export async function pushImage(
  base: string,
  repo: string,
  ref: string,
  layers: Buffer[],
  annotations?: Record<string, string>,
): Promise<string> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: annotations }),
  );
  for (const blob of [config, ...layers]) {
    const res = await pushBlob(base, repo, blob);
    if (res.status !== 201) throw new Error(`push blob: ${describe(res)}`);
  }
  const body = imageManifest(
    descriptor(OCI_CONFIG, config),
    layers.map((l) => descriptor(OCI_LAYER, l)),
    annotations,
  );
  const res = await putManifest(base, repo, ref, body);
  if (res.status !== 201) throw new Error(`push manifest: ${describe(res)}`);
  return sha256(body);
}

// ---- data directory -------------------------------------------------------------

/** Every regular file under `dir`, as paths relative to it (sorted); [] when absent. */
export async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  }
  await walk(dir);
  return out.sort();
}

export async function hashFile(path: string, algorithm = 'sha256'): Promise<string> {
  const h = createHash(algorithm);
  await pipeline(createReadStream(path, { highWaterMark: MiB }), h);
  return h.digest('hex');
}

export function blobFile(dataDir: string, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return join(dataDir, 'blobs', alg, hex.slice(0, 2), hex);
}

/**
 * Checks that every file under blobs/ is a complete blob: at
 * blobs/<alg>/<first two hex>/<hex>, hashing to its name. Returns problems found.
 */
export async function checkBlobFiles(dataDir: string): Promise<{ files: string[]; problems: string[] }> {
  const files = await listFiles(join(dataDir, 'blobs'));
  const problems: string[] = [];
  for (const f of files) {
    const parts = f.split('/');
    const [alg, prefix, hex] = parts;
    if (
      parts.length !== 3 ||
      !alg ||
      !prefix ||
      !hex ||
      !/^(sha256|sha512)$/.test(alg) ||
      !/^[0-9a-f]+$/.test(hex) ||
      hex.slice(0, 2) !== prefix
    ) {
      problems.push(`unexpected file under blobs/: ${f}`);
      continue;
    }
    const actual = await hashFile(join(dataDir, 'blobs', f), alg);
    if (actual !== hex) problems.push(`blobs/${f} hashes to ${actual} (partial or corrupt)`);
  }
  return { files, problems };
}

export interface DbSnapshot {
  repositories: { id: number; name: string }[];
  blobLinks: { repo: string; digest: string; size: number }[];
  manifests: { repo: string; digest: string; size: number; media_type: string; content: Buffer }[];
  refs: { repo: string; manifest_digest: string; ref_digest: string }[];
  tags: { repo: string; name: string; digest: string }[];
  uploads: { id: string; repository: string; created_at: number; updated_at: number }[];
}

/** Reads the metadata DB directly (read-only; fine while the server runs, WAL mode). */
export function readDb(dataDir: string): DbSnapshot {
  const db = new Database(join(dataDir, 'stowage.db'), { readonly: true, fileMustExist: true });
  try {
    return {
      repositories: db.prepare('SELECT id, name FROM repositories ORDER BY name').all() as DbSnapshot['repositories'],
      blobLinks: db
        .prepare(
          'SELECT r.name AS repo, b.digest, b.size FROM blob_links b JOIN repositories r ON r.id = b.repo_id ORDER BY r.name, b.digest',
        )
        .all() as DbSnapshot['blobLinks'],
      manifests: db
        .prepare(
          'SELECT r.name AS repo, m.digest, m.size, m.media_type, m.content FROM manifests m JOIN repositories r ON r.id = m.repo_id ORDER BY r.name, m.digest',
        )
        .all() as DbSnapshot['manifests'],
      refs: db
        .prepare(
          'SELECT r.name AS repo, x.manifest_digest, x.ref_digest FROM manifest_refs x JOIN repositories r ON r.id = x.repo_id ORDER BY 1, 2, 3',
        )
        .all() as DbSnapshot['refs'],
      tags: db
        .prepare(
          'SELECT r.name AS repo, t.name, t.digest FROM tags t JOIN repositories r ON r.id = t.repo_id ORDER BY r.name, t.name',
        )
        .all() as DbSnapshot['tags'],
      uploads: db.prepare('SELECT * FROM uploads ORDER BY id').all() as DbSnapshot['uploads'],
    };
  } finally {
    db.close();
  }
}

/**
 * The storage-level invariants: every link has its bytes (right size and hash),
 * every manifest's references and every tag's manifest exist in the same
 * repository, every file under blobs/ is complete. Returns the problems found.
 */
export async function checkStorageInvariants(dataDir: string): Promise<string[]> {
  const db = readDb(dataDir);
  const problems: string[] = [];
  const hashed = new Map<string, { size: number; hex: string } | null>();
  for (const link of db.blobLinks) {
    const [alg] = link.digest.split(':') as [string];
    let actual = hashed.get(link.digest);
    if (actual === undefined) {
      const path = blobFile(dataDir, link.digest);
      try {
        const s = await stat(path);
        actual = { size: s.size, hex: await hashFile(path, alg) };
      } catch {
        actual = null;
      }
      hashed.set(link.digest, actual);
    }
    if (actual === null) problems.push(`blob_links ${link.repo} ${link.digest}: no file`);
    else {
      if (actual.size !== link.size)
        problems.push(`blob_links ${link.repo} ${link.digest}: size ${link.size} in DB, ${actual.size} on disk`);
      if (`${alg}:${actual.hex}` !== link.digest)
        problems.push(`blob_links ${link.repo} ${link.digest}: file hashes to ${actual.hex}`);
    }
  }
  const links = new Set(db.blobLinks.map((l) => `${l.repo} ${l.digest}`));
  const manifests = new Set(db.manifests.map((m) => `${m.repo} ${m.digest}`));
  for (const m of db.manifests) {
    if (sha256(m.content) !== m.digest)
      problems.push(`manifest ${m.repo} ${m.digest}: content hashes to ${sha256(m.content)}`);
    if (m.content.length !== m.size)
      problems.push(`manifest ${m.repo} ${m.digest}: size ${m.size} vs ${m.content.length} bytes`);
  }
  for (const r of db.refs) {
    const key = `${r.repo} ${r.ref_digest}`;
    if (!manifests.has(`${r.repo} ${r.manifest_digest}`))
      problems.push(`manifest_refs row for missing manifest ${r.repo} ${r.manifest_digest}`);
    else if (!links.has(key) && !manifests.has(key))
      problems.push(`manifest ${r.repo} ${r.manifest_digest} references missing ${r.ref_digest}`);
  }
  for (const t of db.tags) {
    if (!manifests.has(`${t.repo} ${t.digest}`))
      problems.push(`tag ${t.repo}:${t.name} points at missing manifest ${t.digest}`);
  }
  problems.push(...(await checkBlobFiles(dataDir)).problems);
  return problems;
}

/**
 * The same invariants seen by a client: for every repository in the catalog and
 * every tag, the manifest resolves and everything it references is HEAD-able
 * with the declared size (recursively through indexes).
 */
export async function checkApiInvariants(base: string): Promise<{ problems: string[]; repos: number; tags: number }> {
  const problems: string[] = [];
  const cat = await http(base, '/v2/_catalog?n=10000');
  if (cat.status !== 200) return { problems: [`catalog: ${describe(cat)}`], repos: 0, tags: 0 };
  const repos = json<{ repositories: string[] }>(cat).repositories;
  let tagCount = 0;
  for (const repo of repos) {
    const tl = await http(base, `/v2/${repo}/tags/list?n=10000`);
    if (tl.status !== 200) {
      problems.push(`tags/list ${repo}: ${describe(tl)}`);
      continue;
    }
    const tags = json<{ tags: string[] | null }>(tl).tags ?? [];
    for (const tag of tags) {
      tagCount++;
      await checkManifest(base, repo, tag, undefined, problems, 0);
    }
  }
  return { problems, repos: repos.length, tags: tagCount };
}

async function checkManifest(
  base: string,
  repo: string,
  ref: string,
  expected: Descriptor | undefined,
  problems: string[],
  depth: number,
): Promise<void> {
  const res = await http(base, `/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT_ALL_MANIFESTS } });
  if (res.status !== 200) {
    problems.push(`GET ${repo}/manifests/${ref}: ${describe(res)}`);
    return;
  }
  const digest = sha256(res.body);
  if (res.headers['docker-content-digest'] !== digest)
    problems.push(
      `${repo}/manifests/${ref}: Docker-Content-Digest ${String(res.headers['docker-content-digest'])} but body is ${digest}`,
    );
  if (expected && (expected.digest !== digest || expected.size !== res.body.length))
    problems.push(`${repo}/manifests/${ref}: expected ${expected.digest}/${expected.size}`);
  const doc = JSON.parse(res.body.toString('utf8')) as {
    config?: Descriptor;
    layers?: Descriptor[];
    manifests?: Descriptor[];
  };
  for (const d of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
    const head = await http(base, `/v2/${repo}/blobs/${d.digest}`, { method: 'HEAD' });
    if (head.status !== 200) problems.push(`${repo}@${ref}: blob ${d.digest} HEAD ${head.status}`);
    else if (Number(head.headers['content-length']) !== d.size)
      problems.push(
        `${repo}@${ref}: blob ${d.digest} is ${String(head.headers['content-length'])} bytes, manifest says ${d.size}`,
      );
  }
  for (const child of doc.manifests ?? []) {
    if (depth > 3) break;
    await checkManifest(base, repo, child.digest, child, problems, depth + 1);
  }
}

export { existsSync };
