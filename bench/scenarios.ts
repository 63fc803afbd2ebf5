/**
 * The scenarios: what each one sends, how much, and what figure it reports.
 * Definitions are plain data (they cross the process boundary to the load
 * generator); `prepareScenario` and `runScenario` execute them there.
 *
 * Every scenario works in its own repository and sets up what it needs, so any
 * subset (--only) runs on its own. Setup and warm-up happen in `prepare`, which
 * is not measured; `run` is the measured part.
 */
import { deterministicBytes, formatSize, KiB, MiB, sha256, StampedBody } from './data.js';
import {
  BenchError,
  BodyCounter,
  Client,
  closedLoop,
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
  | 'small-blobs';

export interface ScenarioDef {
  /** Stable id, e.g. push-chunked-512MiB; --only matches substrings of it. */
  id: string;
  kind: ScenarioKind;
  /** Unit of the headline figure (higher is better for all). */
  unit: 'MiB/s' | 'req/s' | 'blobs/s';
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
}

export interface PlanOptions {
  smoke: boolean;
}

/** All scenarios, in the order they run. */
export function planScenarios({ smoke }: PlanOptions): ScenarioDef[] {
  const sizes = smoke ? [64 * KiB, 1 * MiB, 4 * MiB] : [1 * MiB, 64 * MiB, 512 * MiB];
  const chunk = smoke ? 256 * KiB : 8 * MiB;
  const streamWrite = smoke ? 64 * KiB : 1 * MiB;
  // Enough pushes for a few seconds each, bounded in bytes.
  const pushCount = (size: number) => (smoke ? 3 : Math.max(3, Math.min(100, Math.round((2048 * MiB) / size))));
  const pullCount = (size: number) => (smoke ? 5 : Math.max(4, Math.min(200, Math.round((4096 * MiB) / size))));
  const warm = (size: number) => (smoke ? 1 : size <= MiB ? 10 : 1);
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
  return defs;
}

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
}

const prepared = new Map<string, Prepared>();

/** Repository names are lower case. */
function repoFor(def: ScenarioDef): string {
  return `bench/${def.id.toLowerCase()}`;
}

/** Sets up the repository and warms up; nothing here is measured. */
export async function prepareScenario(def: ScenarioDef, targetKey: string, baseUrl: string): Promise<void> {
  const client = new Client(baseUrl, def.concurrency);
  const repo = repoFor(def);
  const size = def.size ?? 0;
  let op: (i: number) => Promise<void>;
  let bytesPerOp: number | undefined;
  let firstIndex = 0;
  let warmup: { count?: number; durationMs?: number } = { count: def.warmupCount ?? 0 };
  const counters: BodyCounter[] = [];

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
  prepared.set(`${def.id}@${targetKey}`, { client, counters, op, bytesPerOp, firstIndex });
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
    const value = def.unit === 'MiB/s' ? (stats.ok * (p.bytesPerOp ?? 0)) / MiB / seconds : stats.ok / seconds;
    return {
      value,
      ok: stats.ok,
      errors: stats.errors,
      errorSamples: stats.errorSamples,
      wallMs: stats.wallMs,
      latency: stats.latency,
      loadgenCpuPct: stats.loadgenCpuPct,
    };
  } finally {
    p.client.close();
    for (const c of p.counters) c.close();
  }
}
