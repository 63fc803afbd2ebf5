/**
 * The garbage-collection scenario (#13): a registry with many repositories,
 * manifests and small blobs, half the images deleted through the API, then the
 * time each registry's collector takes to remove what they left behind:
 *
 * - Stowage: `stowage gc --grace-period 0` (the code `serve` runs on its
 *   schedule) beside the running server, online, while a push load runs; push
 *   latency is recorded during the collection and, just before it, without one.
 * - Distribution: `docker-registry garbage-collect <config>` with the registry
 *   stopped (it is offline only), then the registry is started again.
 *
 * Content, per repository: `imagesPerRepo` image manifests, each with its own
 * config and `layersPerImage` 1 KiB layers (every blob distinct). The first half
 * of the images are kept: an OCI index tagged `v<n>` references each group of
 * `imagesPerIndex` of them. The second half are untagged and are DELETEd by digest
 * before the collection, which makes their blobs garbage on both sides. No
 * `--delete-untagged` for Distribution: the deletes are explicit, and 2.8's
 * `--delete-untagged` also deletes the untagged children of an index
 * (distribution/distribution#3004), which would be the wrong result here.
 *
 * Seeding (not measured): Stowage through its API in parallel (one-request
 * `POST ?digest=` uploads, then the manifests); Distribution by writing its
 * storage layout directly (dist-layout.ts), since 100,000 blobs through its API
 * take minutes on disk and far longer on S3. Both are checked through their API
 * afterwards. After each collection the blob storage itself is listed: every
 * blob of a deleted image must be gone and every kept one present, or the
 * scenario fails.
 *
 * Runs in the orchestrator (it stops and starts servers and runs the collectors);
 * the push load is small (a few image pushes at a time).
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { deterministicBytes, KiB, sha256 } from './data.js';
import { writeLayout, type DistributionStorage } from './dist-layout.js';
import { BenchError, Client, closedLoop, LatencyRecorder, pushMonolithic, type LatencySummary } from './load.js';
import { s3Client, type S3Settings } from './s3-client.js';
import type { ScenarioResult } from './scenarios.js';
import { STOWAGE_CLI, which, type ServerHandle, type TargetName } from './servers.js';

/** What the scenario stores; `gcShape(1)` is the full size. */
export interface GcShape {
  repos: number;
  imagesPerRepo: number;
  layersPerImage: number;
  imagesPerIndex: number;
  /** Concurrent image pushes of the push load. */
  pushConcurrency: number;
  /** How long the push load runs without a collection (baseline). */
  baselineMs: number;
}

/** Scale 1: 100 repositories, 20,000 image manifests, 100,000 blobs (half of each made garbage). */
export function gcShape(scale: number): GcShape {
  const repos = Math.max(2, Math.round(100 * scale));
  // An even number of images per repository, at least 4: half kept, half deleted.
  const imagesPerRepo = Math.max(4, 2 * Math.round((20_000 * scale) / repos / 2));
  return {
    repos,
    imagesPerRepo,
    layersPerImage: 4,
    imagesPerIndex: Math.min(10, imagesPerRepo / 2),
    pushConcurrency: 4,
    baselineMs: scale >= 0.1 ? 10_000 : 1500,
  };
}

export function gcTotals(s: GcShape): { images: number; blobs: number; indexes: number } {
  const images = s.repos * s.imagesPerRepo;
  return {
    images,
    blobs: images * (1 + s.layersPerImage),
    indexes: s.repos * Math.ceil(s.imagesPerRepo / 2 / s.imagesPerIndex),
  };
}

/** What one collection did and cost, beside the headline figure. */
export interface GcFigures {
  /** Wall time of the collector process, start to exit. */
  seconds: number;
  /** Stowage's own figure for the collection (its report's durationMs). */
  reportedSeconds?: number;
  /** Blobs verified gone from the blob storage (every blob of a deleted image; for Distribution, their manifests too). */
  removed: number;
  /** Blobs verified still stored. */
  kept: number;
  /** What the collector said it removed. */
  reportedRemoved: number;
  /** The collector process's CPU time (sampled every 100 ms) and peak RSS. */
  cpuSeconds: number;
  peakRssBytes: number;
  seedSeconds: number;
  seedMethod: string;
  deleteSeconds: number;
  deletedManifests: number;
  /** Image pushes (2 blobs + a tagged manifest) without a collection, and during it (Stowage). */
  pushBaseline?: LatencySummary & { count: number; errors: number };
  pushDuring?: LatencySummary & { count: number; errors: number };
}

// ---- content -----------------------------------------------------------------------

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const LAYER_SIZE = 1 * KiB;

interface Blob {
  digest: string;
  bytes: Buffer;
}

interface Image {
  blobs: Blob[];
  body: Buffer;
  digest: string;
}

export function gcRepo(r: number): string {
  return `gc/r${String(r).padStart(3, '0')}`;
}

function configBlob(r: number, m: number): Blob {
  const bytes = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Labels: { 'org.example.bench.gc': `${r}/${m}` } },
    }),
  );
  return { digest: sha256(bytes), bytes };
}

/** Blob `k` of image `m` in repository `r` (0: the config). */
function blobOf(r: number, m: number, k: number): Blob {
  if (k === 0) return configBlob(r, m);
  const bytes = deterministicBytes(LAYER_SIZE, `stowage-bench-gc-${r}-${m}-${k}`);
  return { digest: sha256(bytes), bytes };
}

function imageOf(s: GcShape, r: number, m: number): Image {
  const blobs = Array.from({ length: 1 + s.layersPerImage }, (_, k) => blobOf(r, m, k));
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: blobs[0]!.digest, size: blobs[0]!.bytes.length },
      layers: blobs.slice(1).map((b) => ({ mediaType: OCI_LAYER, digest: b.digest, size: b.bytes.length })),
    }),
  );
  return { blobs, body, digest: sha256(body) };
}

const kept = (s: GcShape, m: number) => m < s.imagesPerRepo / 2;

/** The indexes of repository `r`: each tagged `v<n>`, over a group of kept images. */
function indexesOf(s: GcShape, r: number): { tag: string; body: Buffer; digest: string }[] {
  const keep = s.imagesPerRepo / 2;
  const out: { tag: string; body: Buffer; digest: string }[] = [];
  for (let first = 0, n = 0; first < keep; first += s.imagesPerIndex, n++) {
    const children = Array.from({ length: Math.min(s.imagesPerIndex, keep - first) }, (_, i) =>
      imageOf(s, r, first + i),
    );
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children.map((c, i) => ({
          mediaType: OCI_MANIFEST,
          digest: c.digest,
          size: c.body.length,
          platform: { architecture: 'amd64', os: 'linux', variant: `v${i}` },
        })),
      }),
    );
    out.push({ tag: `v${n}`, body, digest: sha256(body) });
  }
  return out;
}

/** Every digest the checks need: blobs of kept and deleted images, and the manifests. */
interface Expected {
  keptBlobs: string[];
  goneBlobs: string[];
  keptManifests: string[];
  goneManifests: string[];
  /** (repository, digest) of each image to DELETE. */
  deletions: [string, string][];
}

let expectedCache: { key: string; value: Expected } | undefined;
function expected(s: GcShape): Expected {
  const key = JSON.stringify(s);
  if (expectedCache?.key === key) return expectedCache.value;
  const e: Expected = { keptBlobs: [], goneBlobs: [], keptManifests: [], goneManifests: [], deletions: [] };
  for (let r = 0; r < s.repos; r++) {
    for (let m = 0; m < s.imagesPerRepo; m++) {
      const img = imageOf(s, r, m);
      const keep = kept(s, m);
      (keep ? e.keptBlobs : e.goneBlobs).push(...img.blobs.map((b) => b.digest));
      (keep ? e.keptManifests : e.goneManifests).push(img.digest);
      if (!keep) e.deletions.push([gcRepo(r), img.digest]);
    }
    e.keptManifests.push(...indexesOf(s, r).map((i) => i.digest));
  }
  expectedCache = { key, value: e };
  return e;
}

// ---- seeding ---------------------------------------------------------------------

async function checked(what: string, run: Promise<{ errors: number; errorSamples: string[] }>): Promise<void> {
  const stats = await run;
  if (stats.errors > 0) throw new BenchError(`${what}: ${stats.errors} errors: ${stats.errorSamples.join('; ')}`);
}

/** Stowage: every blob (one-request uploads), then the image manifests by digest, then the tagged indexes. */
async function seedThroughApi(client: Client, s: GcShape): Promise<void> {
  const per = 1 + s.layersPerImage;
  const blobs = s.repos * s.imagesPerRepo * per;
  await checked(
    'seeding blobs',
    closedLoop({ concurrency: 64, count: blobs }, async (i) => {
      const r = Math.floor(i / (s.imagesPerRepo * per));
      const m = Math.floor(i / per) % s.imagesPerRepo;
      const b = blobOf(r, m, i % per);
      await client.request({
        method: 'POST',
        path: `/v2/${gcRepo(r)}/blobs/uploads/?digest=${b.digest}`,
        headers: { 'Content-Type': 'application/octet-stream' },
        body: b.bytes,
        expect: [201],
      });
    }),
  );
  await checked(
    'seeding manifests',
    closedLoop({ concurrency: 64, count: s.repos * s.imagesPerRepo }, async (i) => {
      const r = Math.floor(i / s.imagesPerRepo);
      const img = imageOf(s, r, i % s.imagesPerRepo);
      await client.request({
        method: 'PUT',
        path: `/v2/${gcRepo(r)}/manifests/${img.digest}`,
        headers: { 'Content-Type': OCI_MANIFEST },
        body: img.body,
        expect: [201],
      });
    }),
  );
  await checked(
    'seeding indexes',
    closedLoop({ concurrency: 16, count: s.repos }, async (r) => {
      for (const idx of indexesOf(s, r))
        await client.request({
          method: 'PUT',
          path: `/v2/${gcRepo(r)}/manifests/${idx.tag}`,
          headers: { 'Content-Type': OCI_INDEX },
          body: idx.body,
          expect: [201],
        });
    }),
  );
}

const hex = (d: string) => d.replace(/^sha256:/, '');
const blobFile = (d: string) => `blobs/sha256/${hex(d).slice(0, 2)}/${hex(d)}/data`;

/**
 * Distribution 2.8's layout for the same content: each blob's data and its
 * `_layers` link; each manifest stored as a blob with its revision link; each
 * index also with its tag's `current/link` and `index/sha256/<hex>/link`.
 */
async function seedDistributionLayout(layout: DistributionStorage, s: GcShape): Promise<void> {
  for (let r = 0; r < s.repos; r++) {
    const repo = `repositories/${gcRepo(r)}`;
    const files: [string, string | Buffer][] = [];
    const manifest = (digest: string, body: Buffer) => {
      files.push([blobFile(digest), body]);
      files.push([`${repo}/_manifests/revisions/sha256/${hex(digest)}/link`, digest]);
    };
    for (let m = 0; m < s.imagesPerRepo; m++) {
      const img = imageOf(s, r, m);
      for (const b of img.blobs) {
        files.push([blobFile(b.digest), b.bytes]);
        files.push([`${repo}/_layers/sha256/${hex(b.digest)}/link`, b.digest]);
      }
      manifest(img.digest, img.body);
    }
    for (const idx of indexesOf(s, r)) {
      manifest(idx.digest, idx.body);
      files.push([`${repo}/_manifests/tags/${idx.tag}/current/link`, idx.digest]);
      files.push([`${repo}/_manifests/tags/${idx.tag}/index/sha256/${hex(idx.digest)}/link`, idx.digest]);
    }
    await writeLayout(layout, files);
  }
}

/** Both registries serve the seeded content: first and last repository, an index by tag, an image, a blob. */
async function checkSeeded(client: Client, s: GcShape): Promise<void> {
  for (const r of [0, s.repos - 1]) {
    const repo = gcRepo(r);
    const idx = indexesOf(s, r)[0]!;
    const got = await client.request({
      method: 'GET',
      path: `/v2/${repo}/manifests/${idx.tag}`,
      headers: { Accept: OCI_INDEX },
      keepBody: true,
      expect: [200],
    });
    if (sha256(got.body!) !== idx.digest) throw new BenchError(`${repo}:${idx.tag} is not the seeded index`);
    const img = imageOf(s, r, s.imagesPerRepo - 1);
    await client.request({
      method: 'HEAD',
      path: `/v2/${repo}/manifests/${img.digest}`,
      headers: { Accept: OCI_MANIFEST },
      expect: [200],
    });
    await client.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${img.blobs[1]!.digest}`, expect: [200] });
  }
}

// ---- blob storage listing ------------------------------------------------------------

/** Where a registry's blob bytes are, to list them after a collection. */
export type BlobStorage = { kind: 'filesystem'; dir: string } | { kind: 's3'; s3: S3Settings; prefix: string };

/**
 * Digests with bytes in the store. Stowage: `<root>/blobs/sha256/xx/<hex>`;
 * Distribution: `<root>/docker/registry/v2/blobs/sha256/xx/<hex>/data`.
 */
async function storedBlobs(storage: BlobStorage, target: TargetName): Promise<Set<string>> {
  const found = new Set<string>();
  const v2 = target === 'distribution' ? 'docker/registry/v2/' : '';
  if (storage.kind === 'filesystem') {
    const top = path.join(storage.dir, v2, 'blobs/sha256');
    for (const xx of await readdir(top).catch(() => [])) {
      for (const name of await readdir(path.join(top, xx))) {
        if (target === 'distribution') {
          const inner: string[] = await readdir(path.join(top, xx, name)).catch(() => []);
          if (!inner.includes('data')) continue;
        }
        found.add(`sha256:${name}`);
      }
    }
    return found;
  }
  const client = s3Client(storage.s3, 4);
  const prefix = `${storage.prefix}${v2}blobs/sha256/`;
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: storage.s3.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        const parts = o.Key!.slice(prefix.length).split('/');
        if (target === 'distribution' ? parts[2] === 'data' : parts.length === 2) found.add(`sha256:${parts[1]}`);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return found;
}

/** Fails unless every `gone` digest is absent from the store and every `kept` one present. */
async function verify(storage: BlobStorage, target: TargetName, gone: string[], keep: string[]): Promise<void> {
  const stored = await storedBlobs(storage, target);
  const left = gone.filter((d) => stored.has(d));
  const lost = keep.filter((d) => !stored.has(d));
  if (left.length > 0 || lost.length > 0)
    throw new BenchError(
      `after the collection: ${left.length} of ${gone.length} unreferenced blobs still stored` +
        `${left[0] ? ` (e.g. ${left[0]})` : ''}, ${lost.length} of ${keep.length} referenced blobs missing${lost[0] ? ` (e.g. ${lost[0]})` : ''}`,
    );
}

// ---- push load -------------------------------------------------------------------------

/** A closed loop of image pushes (config + 1 KiB layer + tagged manifest), until stopped. */
class PushLoad {
  private stopped = false;
  private readonly samples: { start: number; ms: number }[] = [];
  private errors = 0;
  private readonly errorSamples: string[] = [];
  private readonly done: Promise<void>;

  constructor(client: Client, concurrency: number, firstIndex: number) {
    let next = firstIndex;
    const worker = async () => {
      while (!this.stopped) {
        const i = next++;
        const start = performance.now();
        try {
          await pushImage(client, i);
          this.samples.push({ start, ms: performance.now() - start });
        } catch (e) {
          this.errors++;
          if (this.errorSamples.length < 5) this.errorSamples.push(e instanceof Error ? e.message : String(e));
        }
      }
    };
    this.done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => undefined);
  }

  /** Stops, and summarises the pushes (each started before the stop). */
  async stop(): Promise<LatencySummary & { count: number; errors: number; errorSamples: string[] }> {
    this.stopped = true;
    await this.done;
    const rec = new LatencyRecorder();
    for (const x of this.samples) rec.record(x.ms);
    return { ...rec.summary(), count: rec.count, errors: this.errors, errorSamples: this.errorSamples };
  }
}

const PUSH_REPO = 'gc/push-load';

async function pushImage(client: Client, i: number): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', push: i }));
  const layer = deterministicBytes(LAYER_SIZE, `stowage-bench-gc-push-${i}`);
  const cd = sha256(config);
  const ld = sha256(layer);
  await pushMonolithic(client, PUSH_REPO, config, cd);
  await pushMonolithic(client, PUSH_REPO, layer, ld);
  await client.request({
    method: 'PUT',
    path: `/v2/${PUSH_REPO}/manifests/p${i}`,
    headers: { 'Content-Type': OCI_MANIFEST },
    body: Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: cd, size: config.length },
        layers: [{ mediaType: OCI_LAYER, digest: ld, size: layer.length }],
      }),
    ),
    expect: [201],
  });
}

function strip<T extends { errorSamples: string[] }>(x: T | undefined): Omit<T, 'errorSamples'> | undefined {
  if (!x) return undefined;
  const { errorSamples: _, ...rest } = x;
  return rest;
}

// ---- the collectors ------------------------------------------------------------------------

interface ProcessRun {
  code: number | null;
  seconds: number;
  stdout: string;
  stderrTail: string;
  cpuSeconds: number;
  peakRssBytes: number;
  /** performance.now() when the first stderr line matching `startedWhen` arrived. */
  startedAt?: number;
  /** The last stdout line matching `stdoutLine`. */
  matched?: RegExpExecArray;
}

const CLK_TCK = 100;

/** Runs a collector; samples its CPU and peak RSS from /proc while it runs. */
function runCollector(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { keepStdout: boolean; startedWhen?: RegExp; onStarted?: () => void; stdoutLine?: RegExp },
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let tail = '';
    let startedAt: number | undefined;
    let matched: RegExpExecArray | undefined;
    let partial = '';
    let cpuSeconds = 0;
    let peakRssBytes = 0;
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      if (opts.keepStdout) stdout += text;
      else tail = (tail + text).slice(-4000);
      if (opts.stdoutLine) {
        // Distribution prints a line per marked blob: scan lines, keep none.
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) matched = opts.stdoutLine.exec(line) ?? matched;
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      if (startedAt === undefined && opts.startedWhen?.test(text)) {
        startedAt = performance.now();
        opts.onStarted?.();
      }
      tail = (tail + text).slice(-4000);
    });
    const sample = async () => {
      try {
        const [stat, status] = await Promise.all([
          readFile(`/proc/${child.pid}/stat`, 'utf8'),
          readFile(`/proc/${child.pid}/status`, 'utf8'),
        ]);
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuSeconds = (Number(f[11]) + Number(f[12])) / CLK_TCK;
        const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
        if (hwm) peakRssBytes = Math.max(peakRssBytes, Number(hwm[1]) * 1024);
      } catch {
        // exited meanwhile
      }
    };
    const timer = setInterval(() => void sample(), 100);
    child.once('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.once('exit', (code) => {
      clearInterval(timer);
      resolve({
        code,
        seconds: (performance.now() - t0) / 1000,
        stdout: opts.keepStdout ? stdout : tail,
        stderrTail: tail,
        cpuSeconds,
        peakRssBytes,
        startedAt,
        matched,
      });
    });
  });
}

interface StowageGcReport {
  blobsRemoved: number;
  linksRemoved: number;
  durationMs: number;
  skipped?: string;
}

// ---- the scenario ------------------------------------------------------------------------

export interface GcPrepared {
  shape: GcShape;
  seedSeconds: number;
  seedMethod: string;
  deleteSeconds: number;
}

/** Seeds the content and deletes half the images through the API; not measured. */
export async function prepareGc(
  s: GcShape,
  target: TargetName,
  server: ServerHandle,
  layout: DistributionStorage | undefined,
  log: (line: string) => void,
): Promise<GcPrepared> {
  const client = new Client(server.url, 64);
  try {
    const t = gcTotals(s);
    const e = expected(s);
    const t0 = performance.now();
    let seedMethod: string;
    if (target === 'distribution') {
      if (!layout) throw new Error('Distribution seeding needs its storage layout');
      await seedDistributionLayout(layout, s);
      seedMethod = `storage layout written directly (${layout.kind})`;
    } else {
      await seedThroughApi(client, s);
      seedMethod = 'its HTTP API, c=64';
    }
    await checkSeeded(client, s);
    const seedSeconds = (performance.now() - t0) / 1000;
    log(
      `gc: seeded ${t.blobs} blobs, ${t.images} image manifests and ${t.indexes} indexes in ${s.repos} repositories on ${target} in ${seedSeconds.toFixed(0)} s (${seedMethod})`,
    );
    const t1 = performance.now();
    await checked(
      'deleting manifests',
      closedLoop({ concurrency: 16, count: e.deletions.length }, async (i) => {
        const [repo, digest] = e.deletions[i]!;
        await client.request({ method: 'DELETE', path: `/v2/${repo}/manifests/${digest}`, expect: [202] });
      }),
    );
    const deleteSeconds = (performance.now() - t1) / 1000;
    log(`gc: deleted ${e.deletions.length} image manifests through the API in ${deleteSeconds.toFixed(0)} s`);
    return { shape: s, seedSeconds, seedMethod, deleteSeconds };
  } finally {
    client.close();
  }
}

/**
 * The measured part: Stowage's online collection under a push load (after a
 * baseline of the same load), or Distribution's offline one with the registry
 * stopped (the caller starts it again). Then the blob storage is checked.
 */
export async function runGc(
  p: GcPrepared,
  target: TargetName,
  server: ServerHandle,
  storage: BlobStorage,
  log: (line: string) => void,
): Promise<ScenarioResult & { gc: GcFigures }> {
  const s = p.shape;
  const e = expected(s);
  const goneBlobs = target === 'distribution' ? [...e.goneBlobs, ...e.goneManifests] : e.goneBlobs;
  const keptBlobs = target === 'distribution' ? [...e.keptBlobs, ...e.keptManifests] : e.keptBlobs;
  let run: ProcessRun;
  let reportedRemoved: number;
  let reportedSeconds: number | undefined;
  let pushBaseline: GcFigures['pushBaseline'];
  let pushDuring: (NonNullable<GcFigures['pushDuring']> & { errorSamples: string[] }) | undefined;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  if (target === 'stowage') {
    const client = new Client(server.url, s.pushConcurrency);
    try {
      const baseline = new PushLoad(client, s.pushConcurrency, 0);
      await new Promise((r) => setTimeout(r, s.baselineMs));
      const b = await baseline.stop();
      if (b.errors > 0) throw new BenchError(`push load without GC: ${b.errors} errors: ${b.errorSamples[0]}`);
      pushBaseline = strip(b);
      let load: PushLoad | undefined;
      run = await runCollector(
        process.execPath,
        [STOWAGE_CLI, 'gc', ...server.gcArgs, '--grace-period', '0', '--output', 'json'],
        server.env,
        // The push load starts at its first progress line: the run holds the GC lease
        // and has its cutoff, so nothing pushed from now on is older than the grace
        // period of 0 (a blob pushed earlier whose manifest is not PUT yet would be
        // garbage, correctly, and its push fail).
        {
          keepStdout: true,
          startedWhen: /garbage collection progress/,
          onStarted: () => (load = new PushLoad(client, s.pushConcurrency, 1_000_000)),
        },
      );
      pushDuring = await (load as PushLoad | undefined)?.stop();
    } finally {
      client.close();
    }
    if (run.code !== 0) throw new BenchError(`stowage gc exited ${run.code}: ${run.stderrTail}`);
    const report = JSON.parse(run.stdout) as StowageGcReport;
    if (report.skipped) throw new BenchError(`stowage gc skipped: ${report.skipped}`);
    reportedRemoved = report.blobsRemoved;
    reportedSeconds = report.durationMs / 1000;
    if (reportedRemoved !== goneBlobs.length)
      throw new BenchError(`stowage gc removed ${reportedRemoved} blobs, expected ${goneBlobs.length}`);
  } else {
    await server.stop();
    const bin = which('docker-registry');
    if (!bin) throw new Error('docker-registry is not installed');
    run = await runCollector(bin, ['garbage-collect', ...server.gcArgs], server.env, {
      keepStdout: false,
      stdoutLine: /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/,
    });
    if (run.code !== 0) throw new BenchError(`docker-registry garbage-collect exited ${run.code}: ${run.stderrTail}`);
    reportedRemoved = run.matched ? Number(run.matched[2]) : NaN;
  }
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  await verify(storage, target, goneBlobs, keptBlobs);
  log(
    `gc: ${target} collected in ${run.seconds.toFixed(1)} s (${reportedRemoved} blobs reported removed); storage checked: ${goneBlobs.length} gone, ${keptBlobs.length} kept`,
  );
  const zero: LatencySummary = { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  return {
    // The same count for both (Distribution also removes the manifests, stored as blobs): S/D is the time ratio.
    value: e.goneBlobs.length / run.seconds,
    ok: pushDuring?.count ?? 0,
    errors: pushDuring?.errors ?? 0,
    errorSamples: pushDuring?.errorSamples ?? [],
    wallMs,
    latency: pushDuring
      ? { p50: pushDuring.p50, p90: pushDuring.p90, p99: pushDuring.p99, max: pushDuring.max, mean: pushDuring.mean }
      : zero,
    loadgenCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    gc: {
      seconds: run.seconds,
      reportedSeconds,
      removed: goneBlobs.length,
      kept: keptBlobs.length,
      reportedRemoved,
      cpuSeconds: run.cpuSeconds,
      peakRssBytes: run.peakRssBytes,
      seedSeconds: p.seedSeconds,
      seedMethod: p.seedMethod,
      deleteSeconds: p.deleteSeconds,
      deletedManifests: e.deletions.length,
      pushBaseline,
      pushDuring: strip(pushDuring),
    },
  };
}
