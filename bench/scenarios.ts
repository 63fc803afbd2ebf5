/**
 * The scenarios: what each one sends, how much, and what figure it reports.
 * Definitions are plain data (they cross the process boundary to the load
 * generator); `prepareScenario` and `runScenario` execute them there.
 *
 * Every scenario works in its own repository and sets up what it needs, so any
 * subset (--only) runs on its own. Setup and warm-up happen in `prepare`, which
 * is not measured; `run` is the measured part.
 */
import { performance } from 'node:perf_hooks';
import { deterministicBytes, formatSize, KiB, MiB, sha256, StampedBody } from './data.js';
import { seedRepositories, seedTags, type DistributionStorage } from './dist-layout.js';
import { gcShape, gcTotals, type GcFigures, type GcShape } from './gc.js';
import { pullImage, pushImage, storedByDistribution, type ProxySetup, type PushedImage } from './proxy.js';
import {
  BenchError,
  BodyCounter,
  Client,
  closedLoop,
  LatencyRecorder,
  pullBlob,
  pushChunked,
  pushMonolithic,
  pushStreamed,
  type RunStats,
} from './load.js';

export type ScenarioKind =
  | 'push-monolithic'
  | 'push-chunked'
  | 'push-streamed'
  | 'pull'
  | 'manifest-put'
  | 'manifest-get-tag'
  | 'blob-head'
  | 'tag-list'
  | 'tag-list-paged'
  | 'catalog-paged'
  | 'small-blobs'
  | 'proxy-local'
  | 'proxy-hit'
  | 'proxy-direct'
  | 'proxy-miss'
  | 'gc';

/** The pull-through-cache group: one registry in front of an upstream (proxy.ts). */
export const PROXY_KINDS: readonly ScenarioKind[] = ['proxy-local', 'proxy-hit', 'proxy-direct', 'proxy-miss'];

/** Where the blobs and names live: the embedded default (disk + SQLite), or S3 + PostgreSQL. */
export type StorageName = 'embedded' | 's3+postgres';
export const STORAGE_NAMES: readonly StorageName[] = ['embedded', 's3+postgres'];

export interface ScenarioDef {
  /** Stable id, e.g. push-chunked-512MiB; --only matches substrings of it. */
  id: string;
  kind: ScenarioKind;
  /** Unit of the headline figure (higher is better for all). */
  unit: 'MiB/s' | 'req/s' | 'blobs/s' | 'lists/s';
  concurrency: number;
  /** Blob size for blob scenarios. */
  size?: number;
  /** Chunk size (chunked push) or write size (streamed push). */
  chunkSize?: number;
  /** Measured operations (fixed-count scenarios). */
  count?: number;
  /** Operations before measuring (fixed-count scenarios). */
  warmupCount?: number;
  /** Measured time (fixed-duration scenarios). */
  durationMs?: number;
  warmupMs?: number;
  /** Tags in the repository (tag list). */
  tags?: number;
  /** Repositories (catalog), besides the other scenarios' own. */
  repos?: number;
  /** Page size `n` a paged listing asks for (undefined: the server's default page). */
  pageSize?: number;
  /** Paged listings: a listing still unfinished after this long is stopped and reported as such. */
  listBudgetMs?: number;
  /** Run against the Stowage server with `metrics: { enabled: true }`. */
  metrics?: boolean;
  /** The garbage-collection scenario's content (gc.ts; run by the orchestrator, not the load generator). */
  gc?: GcShape;
}

export interface ScenarioResult {
  /** Headline figure, in def.unit. */
  value: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  wallMs: number;
  /** Per operation (a whole push or pull for blob scenarios). */
  latency: RunStats['latency'];
  loadgenCpuPct: number;
  /** Pull-through scenarios: the upstream's CPU over the measured part (% of one core), set by the orchestrator. */
  upstreamCpuPct?: number;
  /** Paged listings: per page request, and how many pages one listing took. */
  pageLatency?: RunStats['latency'];
  pagesPerList?: number;
  /**
   * Paged listings that did not finish within `listBudgetMs`: how far the one
   * listing got (then `ok` is 0 and `value` is 0; the rate is below 1 / seconds).
   */
  unfinished?: { pages: number; entries: number; seconds: number };
  /** The garbage-collection scenario: the collection's own figures. */
  gc?: GcFigures;
}

export interface PlanOptions {
  smoke: boolean;
  storage?: StorageName;
  /** Size of the garbage-collection scenario: 1 = 100 repositories, 20,000 manifests, 100,000 blobs. */
  gcScale?: number;
}

/** All scenarios, in the order they run. */
export function planScenarios({ smoke, storage = 'embedded', gcScale }: PlanOptions): ScenarioDef[] {
  const s3 = storage === 's3+postgres';
  const sizes = smoke ? [64 * KiB, 1 * MiB, 4 * MiB] : [1 * MiB, 64 * MiB, 512 * MiB];
  const chunk = smoke ? 256 * KiB : 8 * MiB;
  const streamWrite = smoke ? 64 * KiB : 1 * MiB;
  // Enough pushes for a few seconds each, bounded in bytes. S3 on this loopback
  // radosgw moves tens of MiB/s, not hundreds: a quarter of the bytes.
  const budget = s3 ? 512 * MiB : 2048 * MiB;
  const pushCount = (size: number) =>
    smoke ? 3 : Math.max(s3 ? 2 : 3, Math.min(s3 ? 20 : 100, Math.round(budget / size)));
  const pullCount = (size: number) =>
    smoke ? 5 : Math.max(s3 ? 2 : 4, Math.min(s3 ? 100 : 200, Math.round((2 * budget) / size)));
  const warm = (size: number) => (smoke ? 1 : size <= MiB ? 10 : s3 && size > 64 * MiB ? 0 : 1);
  const durationMs = smoke ? 300 : 5000;
  const warmupMs = smoke ? 100 : 1000;
  const defs: ScenarioDef[] = [];
  for (const kind of ['push-monolithic', 'push-chunked', 'push-streamed'] as const) {
    for (const size of sizes) {
      defs.push({
        id: `${kind}-${formatSize(size)}`,
        kind,
        unit: 'MiB/s',
        concurrency: 1,
        size,
        chunkSize: kind === 'push-chunked' ? chunk : kind === 'push-streamed' ? streamWrite : undefined,
        count: pushCount(size),
        warmupCount: warm(size),
      });
    }
  }
  for (const size of sizes) {
    defs.push({
      id: `pull-${formatSize(size)}`,
      kind: 'pull',
      unit: 'MiB/s',
      concurrency: 1,
      size,
      count: pullCount(size),
      warmupCount: warm(size),
    });
  }
  for (const kind of ['manifest-put', 'manifest-get-tag', 'blob-head'] as const) {
    for (const c of [1, 16, 64]) {
      defs.push({ id: `${kind}-c${c}`, kind, unit: 'req/s', concurrency: c, durationMs, warmupMs });
    }
  }
  const tags = smoke ? 50 : 1000;
  defs.push({
    id: `tag-list-${tags}-c16`,
    kind: 'tag-list',
    unit: 'req/s',
    concurrency: 16,
    durationMs,
    warmupMs,
    tags,
  });
  // Large listings, paged as clients page them: n=1000, and the server's default page.
  const bigTags = smoke ? 120 : 100_000;
  const repos = smoke ? 30 : 10_000;
  const n = smoke ? 50 : 1000;
  // Distribution's catalog walks its storage from the first repository on every page
  // (one S3 list request per repository), so a whole listing on S3 takes minutes.
  const listBudgetMs = smoke ? 30_000 : 120_000;
  for (const pageSize of [n, undefined]) {
    const page = pageSize === undefined ? 'default' : `n${pageSize}`;
    defs.push({
      id: `tag-list-${bigTags}-${page}`,
      kind: 'tag-list-paged',
      unit: 'lists/s',
      concurrency: 1,
      durationMs,
      tags: bigTags,
      pageSize,
      listBudgetMs,
    });
    defs.push({
      id: `catalog-${repos}-${page}`,
      kind: 'catalog-paged',
      unit: 'lists/s',
      concurrency: 1,
      durationMs,
      repos,
      pageSize,
      listBudgetMs,
    });
  }
  // The hot path with Prometheus metrics on (#15): the embedded default only.
  if (!s3) {
    for (const kind of ['manifest-get-tag', 'blob-head'] as const)
      defs.push({
        id: `${kind}-c64-metrics`,
        kind,
        unit: 'req/s',
        concurrency: 64,
        durationMs,
        warmupMs,
        metrics: true,
      });
  }
  // The pull-through cache (#17): the embedded default only (a cache miss writes the local disk).
  if (!s3) {
    const size = smoke ? 4 * MiB : 512 * MiB;
    for (const kind of PROXY_KINDS)
      defs.push({
        id: `${kind}-${formatSize(size)}`,
        kind,
        unit: 'MiB/s',
        concurrency: 1,
        size,
        // Every miss is a new image upstream: as many as measured, plus one for the warm-up.
        count: kind === 'proxy-miss' ? (smoke ? 2 : 4) : smoke ? 3 : 8,
        warmupCount: 1,
      });
  }
  const blobs = smoke ? 100 : 2000;
  defs.push({
    id: `blobs-4KiB-x${blobs}-c32`,
    kind: 'small-blobs',
    unit: 'blobs/s',
    concurrency: 32,
    size: 4 * KiB,
    count: blobs,
    warmupCount: smoke ? 32 : 128,
  });
  // Last: Distribution's collector runs with the registry stopped (it is started again after).
  const shape = gcShape(gcScale ?? (smoke ? SMOKE_GC_SCALE : 1));
  const totals = gcTotals(shape);
  defs.push({
    id: `gc-${totals.images}-manifests-${totals.blobs}-blobs`,
    kind: 'gc',
    unit: 'blobs/s',
    concurrency: shape.pushConcurrency,
    gc: shape,
  });
  return defs;
}

/** --smoke's garbage-collection scenario: 2 repositories, 100 manifests, 500 blobs. */
export const SMOKE_GC_SCALE = 0.005;

// ---- execution (load generator side) -------------------------------------------

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ACCEPT_MANIFESTS = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** Bodies are generated once per process and reused across targets and scenarios. */
const bodies = new Map<number, StampedBody>();
function bodyOf(size: number): StampedBody {
  let b = bodies.get(size);
  if (!b) {
    b = new StampedBody(size, `stowage-bench-blob-${size}`);
    bodies.set(size, b);
  }
  return b;
}

interface ImageBase {
  config: { digest: string; size: number };
  layer: { digest: string; size: number };
}

/** A config and a 4 KiB layer pushed into `repo`, for manifests to reference. */
async function pushImageBase(client: Client, repo: string): Promise<ImageBase> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = deterministicBytes(4 * KiB, 'stowage-bench-layer');
  const cd = sha256(config);
  const ld = sha256(layer);
  await pushMonolithic(client, repo, config, cd);
  await pushMonolithic(client, repo, layer, ld);
  return { config: { digest: cd, size: config.length }, layer: { digest: ld, size: layer.length } };
}

function manifestBody(base: ImageBase, seq: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: base.config.digest,
        size: base.config.size,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: base.layer.digest, size: base.layer.size },
      ],
      annotations: { 'org.example.bench.seq': String(seq) },
    }),
  );
}

async function putManifest(client: Client, repo: string, ref: string, body: Buffer): Promise<void> {
  await client.request({
    method: 'PUT',
    path: `/v2/${repo}/manifests/${ref}`,
    headers: { 'Content-Type': OCI_MANIFEST },
    body,
    expect: [201],
  });
}

/** What prepare leaves for run, per scenario and target. */
interface Prepared {
  client: Client;
  /** Lean pull connections, closed with the client. */
  counters: BodyCounter[];
  op: (i: number) => Promise<void>;
  /** Bytes moved per operation (blob scenarios). */
  bytesPerOp?: number;
  firstIndex: number;
  /** Paged listings: latency of each page request, and pages per listing. */
  pages?: { latency: LatencyRecorder; perList: number };
}

const prepared = new Map<string, Prepared>();
/** Paged listings stopped at their budget, by scenario and target: how far they got. */
const unfinished = new Map<string, { pages: number; entries: number }>();

/** Repository names are lower case. */
function repoFor(def: ScenarioDef): string {
  return `bench/${def.id.toLowerCase()}`;
}

/** Seeding shared by the scenarios that list the same content (n=1000 and default page), per target. */
const seeded = new Map<string, Promise<void>>();
function once(key: string, seed: () => Promise<void>): Promise<void> {
  let p = seeded.get(key);
  if (!p) seeded.set(key, (p = seed()));
  return p;
}

/**
 * Seeds `count` tags (or, with `catalog`, repositories) with one manifest: through
 * the API at c=64 (Stowage), or by writing Distribution's layout directly when
 * `layout` is given (dist-layout.ts says why and what).
 */
async function seedListing(
  baseUrl: string,
  kind: 'tags' | 'catalog',
  names: string[],
  layout: DistributionStorage | undefined,
): Promise<void> {
  const client = new Client(baseUrl, 64);
  try {
    const first = kind === 'tags' ? BIG_TAGS_REPO : names[0]!;
    const base = await pushImageBase(client, first);
    const body = manifestBody(base, 0);
    await putManifest(client, first, kind === 'tags' ? names[0]! : 'latest', body);
    const rest = names.slice(1);
    if (layout) {
      if (kind === 'tags') await seedTags(layout, BIG_TAGS_REPO, sha256(body), rest);
      else await seedRepositories(layout, rest, sha256(body), [base.config.digest, base.layer.digest]);
      return;
    }
    const stats = await closedLoop({ concurrency: 64, count: rest.length }, async (i) => {
      if (kind === 'tags') return putManifest(client, BIG_TAGS_REPO, rest[i]!, body);
      const repo = rest[i]!;
      for (const b of [base.config, base.layer])
        await client.request({
          method: 'POST',
          path: `/v2/${repo}/blobs/uploads/?mount=${b.digest}&from=${first}`,
          expect: [201],
        });
      await putManifest(client, repo, 'latest', body);
    });
    if (stats.errors > 0)
      throw new BenchError(`${kind} seeding: ${stats.errors} errors: ${stats.errorSamples.join('; ')}`);
  } finally {
    client.close();
  }
}

const BIG_TAGS_REPO = 'bench/big-tag-list';
const PROXY_BASE_REPO = 'bench/proxy-base';
const PROXY_BASE_LABEL = 'proxy-base';
const proxyBases = new Map<string, Promise<PushedImage>>();

/** The image the hit, local and direct scenarios pull, pushed to the upstream once per run. */
function proxyBaseImage(upstreamUrl: string, big: StampedBody): Promise<PushedImage> {
  let p = proxyBases.get(upstreamUrl);
  if (!p) {
    const client = new Client(upstreamUrl, 1);
    p = pushImage(client, PROXY_BASE_REPO, big, PROXY_BASE_LABEL).finally(() => client.close());
    proxyBases.set(upstreamUrl, p);
  }
  return p;
}
const CATALOG_PREFIX = 'bench-catalog';

/**
 * One whole listing as a client pages it: GET with `n` (or none), then each Link
 * rel="next" until there is none. Returns the entries listed; records each page.
 * Past `budgetMs` no further page is asked for (`complete` false).
 */
async function listAll(
  client: Client,
  first: string,
  field: 'tags' | 'repositories',
  pages?: LatencyRecorder,
  budgetMs = Infinity,
): Promise<{ entries: number; pages: number; complete: boolean }> {
  const start = performance.now();
  let next: string | undefined = first;
  let entries = 0;
  let count = 0;
  while (next) {
    if (performance.now() - start > budgetMs) return { entries, pages: count, complete: false };
    const t0 = performance.now();
    const a = await client.request({ method: 'GET', path: next, keepBody: true, expect: [200] });
    pages?.record(performance.now() - t0);
    count++;
    const list = (JSON.parse(a.body!.toString('utf8')) as Record<string, string[] | null>)[field] ?? [];
    entries += list.length;
    const link = a.headers.link;
    const m = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
    next = m ? Client.locationPath(m[1]) : undefined;
    if (count > 100_000) throw new BenchError(`${first}: more than 100,000 pages`);
  }
  return { entries, pages: count, complete: true };
}

/** Sets up the repository and warms up; nothing here is measured. */
export async function prepareScenario(
  def: ScenarioDef,
  targetKey: string,
  baseUrl: string,
  layout?: DistributionStorage,
  proxy?: ProxySetup,
): Promise<void> {
  const client = new Client(baseUrl, def.concurrency);
  const repo = repoFor(def);
  const size = def.size ?? 0;
  let op: (i: number) => Promise<void>;
  let bytesPerOp: number | undefined;
  let firstIndex = 0;
  let warmup: { count?: number; durationMs?: number } = { count: def.warmupCount ?? 0 };
  const counters: BodyCounter[] = [];
  let pages: Prepared['pages'];

  switch (def.kind) {
    case 'push-monolithic':
    case 'push-chunked':
    case 'push-streamed': {
      const body = bodyOf(size);
      bytesPerOp = size;
      // Each push is a new blob: same bytes but a different tail (label: kind initial, size, sequence).
      const tag = def.kind.slice(5, 6);
      const push =
        def.kind === 'push-monolithic' ? pushMonolithic : def.kind === 'push-chunked' ? pushChunked : pushStreamed;
      op = async (i) => {
        const digest = body.stamp(`${tag}${size}#${i}`);
        await push(client, repo, body.bytes, digest, def.chunkSize!);
      };
      firstIndex = 1_000_000;
      break;
    }
    case 'pull': {
      const body = bodyOf(size);
      const digest = body.stamp(`pull${size}`);
      await pushMonolithic(client, repo, body.bytes, digest);
      bytesPerOp = size;
      // One lean connection per concurrent pull, reused (keep-alive) from a free list.
      const free: BodyCounter[] = [];
      op = async () => {
        let counter = free.pop();
        if (!counter) counters.push((counter = new BodyCounter(baseUrl)));
        await pullBlob(counter, repo, digest, size);
        free.push(counter);
      };
      break;
    }
    case 'manifest-put': {
      const base = await pushImageBase(client, repo);
      // Pre-generated distinct manifests; reused (same tag, same bytes) past the pool.
      const pool = Array.from({ length: 40_000 }, (_, i) => manifestBody(base, i));
      op = async (i) => putManifest(client, repo, `t${i % pool.length}`, pool[i % pool.length]!);
      warmup = { durationMs: def.warmupMs };
      firstIndex = 0;
      break;
    }
    case 'manifest-get-tag': {
      const base = await pushImageBase(client, repo);
      const body = manifestBody(base, 0);
      await putManifest(client, repo, 'latest', body);
      const path = `/v2/${repo}/manifests/latest`;
      op = async () => {
        const a = await client.request({ method: 'GET', path, headers: { Accept: ACCEPT_MANIFESTS }, expect: [200] });
        if (a.bytes !== body.length) throw new BenchError(`manifest GET: ${a.bytes} bytes, expected ${body.length}`);
      };
      warmup = { durationMs: def.warmupMs };
      break;
    }
    case 'blob-head': {
      const blob = deterministicBytes(1 * MiB, 'stowage-bench-head');
      const digest = sha256(blob);
      await pushMonolithic(client, repo, blob, digest);
      const path = `/v2/${repo}/blobs/${digest}`;
      op = async () => {
        const a = await client.request({ method: 'HEAD', path, expect: [200] });
        if (Number(a.headers['content-length']) !== blob.length)
          throw new BenchError(`HEAD: Content-Length ${a.headers['content-length']}`);
      };
      warmup = { durationMs: def.warmupMs };
      break;
    }
    case 'tag-list': {
      const base = await pushImageBase(client, repo);
      const tags = def.tags ?? 1000;
      const names = Array.from({ length: tags }, (_, i) => `v${String(i).padStart(5, '0')}`);
      const setupClient = new Client(baseUrl, 16);
      const setup = await closedLoop({ concurrency: 16, count: tags }, (i) =>
        putManifest(setupClient, repo, names[i]!, manifestBody(base, i)),
      );
      setupClient.close();
      if (setup.errors > 0)
        throw new BenchError(`tag list setup: ${setup.errors} errors: ${setup.errorSamples.join('; ')}`);
      const path = `/v2/${repo}/tags/list`;
      const first = await client.request({ method: 'GET', path, keepBody: true });
      const listed = (JSON.parse(first.body!.toString('utf8')) as { tags?: string[] }).tags ?? [];
      if (listed.length !== tags) throw new BenchError(`tag list has ${listed.length} tags, expected ${tags}`);
      const expectedBytes = first.bytes;
      op = async () => {
        const a = await client.request({ method: 'GET', path, expect: [200] });
        if (a.bytes !== expectedBytes) throw new BenchError(`tag list: ${a.bytes} bytes, expected ${expectedBytes}`);
      };
      warmup = { durationMs: def.warmupMs };
      break;
    }
    case 'tag-list-paged':
    case 'catalog-paged': {
      const tags = def.kind === 'tag-list-paged';
      const count = (tags ? def.tags : def.repos) ?? 0;
      const names = Array.from({ length: count }, (_, i) =>
        tags ? `v${String(i).padStart(6, '0')}` : `${CATALOG_PREFIX}/r${String(i).padStart(5, '0')}`,
      );
      await once(`${targetKey}:${def.kind}:${count}`, () =>
        seedListing(baseUrl, tags ? 'tags' : 'catalog', names, layout),
      );
      const query = def.pageSize === undefined ? '' : `?n=${def.pageSize}`;
      const first = tags ? `/v2/${BIG_TAGS_REPO}/tags/list${query}` : `/v2/_catalog${query}`;
      const field = tags ? 'tags' : 'repositories';
      // Warm-up: the first page. Whole listings are the measured part; each one is
      // checked: every seeded entry is there (the catalog also lists the other
      // scenarios' repositories), and every listing lists the same.
      await client.request({ method: 'GET', path: first, expect: [200] });
      const recorder = new LatencyRecorder();
      pages = { latency: recorder, perList: 0 };
      const seen = pages;
      let expected: number | undefined;
      op = async () => {
        const r = await listAll(client, first, field, recorder, def.listBudgetMs);
        if (!r.complete) {
          // Slower than the budget: how far it got is the result (see runScenario).
          unfinished.set(`${def.id}@${targetKey}`, { pages: r.pages, entries: r.entries });
          return;
        }
        if (tags ? r.entries !== count : r.entries < count)
          throw new BenchError(`${first}: ${r.entries} entries listed, expected ${tags ? '' : 'at least '}${count}`);
        if (expected !== undefined && r.entries !== expected)
          throw new BenchError(`${first}: ${r.entries} entries listed, the first listing had ${expected}`);
        expected = r.entries;
        seen.perList = r.pages;
      };
      warmup = {};
      break;
    }
    case 'proxy-local':
    case 'proxy-hit':
    case 'proxy-direct':
    case 'proxy-miss': {
      if (!proxy) throw new Error(`${def.id} needs the upstream's address`);
      const big = bodyOf(size);
      // The miss images are new upstream per target and iteration (a new repository
      // and distinct bytes in every blob): nothing of them is in either cache before.
      const missRepo = (i: number) => `bench/proxy-miss-${targetKey}-${i}`;
      let image: PushedImage;
      let repoOf: (i: number) => string;
      if (def.kind === 'proxy-miss') {
        const upstream = new Client(proxy.upstreamUrl, 1);
        const images: PushedImage[] = [];
        try {
          for (let i = 0; i < (def.warmupCount ?? 0) + (def.count ?? 0); i++)
            images.push(await pushImage(upstream, missRepo(i), big, `miss-${targetKey}-${i}`));
        } finally {
          upstream.close();
        }
        image = images[0]!;
        repoOf = (i) => `${proxy.prefix}${missRepo(i)}`;
        const free: BodyCounter[] = [];
        op = async (i) => {
          let counter = free.pop();
          if (!counter) counters.push((counter = new BodyCounter(baseUrl)));
          await pullImage(client, counter, repoOf(i), images[i]!);
          free.push(counter);
        };
        firstIndex = def.warmupCount ?? 0;
      } else {
        image = await proxyBaseImage(proxy.upstreamUrl, big);
        let repo = PROXY_BASE_REPO;
        if (def.kind === 'proxy-local') {
          // The same image pushed into the registry itself (a local repository, outside the prefix).
          repo = 'bench/proxy-local';
          const local = new Client(baseUrl, 1);
          await pushImage(local, repo, big, PROXY_BASE_LABEL).finally(() => local.close());
        } else if (def.kind === 'proxy-hit') repo = `${proxy.prefix}${PROXY_BASE_REPO}`;
        const counter = new BodyCounter(baseUrl);
        counters.push(counter);
        if (def.kind === 'proxy-hit') {
          // The first pull fills the cache (not measured).
          await pullImage(client, counter, repo, image);
          if (proxy.cacheLayout) await storedByDistribution(proxy.cacheLayout, PROXY_BASE_REPO, image);
        }
        op = () => pullImage(client, counter, repo, image);
      }
      bytesPerOp = image.bytes;
      break;
    }
    case 'gc':
      throw new Error(`${def.id} is run by the orchestrator (gc.ts), not the load generator`);
    case 'small-blobs': {
      const warm = def.warmupCount ?? 0;
      const total = warm + (def.count ?? 0);
      const blobs = Array.from({ length: total }, (_, i) => deterministicBytes(size, `stowage-bench-small-${i}`));
      const digests = blobs.map(sha256);
      bytesPerOp = size;
      // Warm-up uses the first `warm` blobs, the measured run the rest.
      op = (i) => pushMonolithic(client, repo, blobs[i]!, digests[i]!);
      firstIndex = warm;
      warmup = { count: warm };
      break;
    }
  }

  if ((warmup.count ?? 0) > 0 || warmup.durationMs) {
    // Warm-up indexes never collide with measured ones.
    const warmFirst = def.kind === 'small-blobs' ? 0 : def.kind === 'manifest-put' ? 20_000 : 0;
    const stats = await closedLoop(
      {
        concurrency: def.concurrency,
        count: warmup.durationMs ? undefined : warmup.count,
        durationMs: warmup.durationMs,
        firstIndex: warmFirst,
      },
      op,
    );
    if (stats.errors > 0) throw new BenchError(`warm-up: ${stats.errors} errors: ${stats.errorSamples.join('; ')}`);
  }
  prepared.set(`${def.id}@${targetKey}`, { client, counters, op, bytesPerOp, firstIndex, pages });
}

/** The measured part. */
export async function runScenario(def: ScenarioDef, targetKey: string): Promise<ScenarioResult> {
  const key = `${def.id}@${targetKey}`;
  const p = prepared.get(key);
  if (!p) throw new Error(`scenario ${key} was not prepared`);
  prepared.delete(key);
  try {
    const stats = await closedLoop(
      {
        concurrency: def.concurrency,
        count: def.count,
        durationMs: def.count === undefined ? def.durationMs : undefined,
        firstIndex: p.firstIndex,
      },
      p.op,
    );
    const seconds = stats.wallMs / 1000;
    const stopped = unfinished.get(key);
    unfinished.delete(key);
    // A listing stopped at its budget is not one listed: the rate is below 1 / seconds.
    const ok = stopped ? 0 : stats.ok;
    const value = def.unit === 'MiB/s' ? (ok * (p.bytesPerOp ?? 0)) / MiB / seconds : ok / seconds;
    return {
      value,
      ok,
      errors: stats.errors,
      errorSamples: stats.errorSamples,
      wallMs: stats.wallMs,
      latency: stats.latency,
      loadgenCpuPct: stats.loadgenCpuPct,
      ...(p.pages ? { pageLatency: p.pages.latency.summary(), pagesPerList: p.pages.perList } : {}),
      ...(stopped ? { unfinished: { ...stopped, seconds } } : {}),
    };
  } finally {
    p.client.close();
    for (const c of p.counters) c.close();
  }
}
