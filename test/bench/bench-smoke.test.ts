/**
 * `npm run bench -- --smoke` end to end: both registries (Stowage from this
 * build, Debian's docker-registry, which scripts/test.sh installs), every
 * scenario at tiny sizes, no result files written, for both storage
 * configurations (`s3+postgres` on the radosgw and PostgreSQL that
 * scripts/test.sh exports as STOWAGE_TEST_*; the bench starts its own when they
 * are not set). Asserts a clean exit (zero request errors) and that the table
 * has a row for every scenario.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/test/bench → dist/bench/run.js */
const RUN = path.resolve(fileURLToPath(import.meta.url), '../../../bench/run.js');

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function smoke(storage: 'embedded' | 's3+postgres'): Promise<{ stdout: string; stderr: string }> {
  const list = spawnSync(process.execPath, [RUN, '--smoke', '--storage', storage, '--list'], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  const ids = list.stdout.trim().split('\n').filter(Boolean);
  assert.ok(ids.length >= 20, `expected the full scenario list, got ${ids.join(', ')}`);
  for (const kind of ['tag-list-120-n50', 'tag-list-120-default', 'catalog-30-n50', 'catalog-30-default'])
    assert.ok(ids.includes(kind), `no ${kind} in ${ids.join(', ')}`);

  const { code, stdout, stderr } = await run(['--smoke', '--no-write', '--storage', storage], 200_000);
  assert.equal(code, 0, `bench exited ${code}\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-4000)}`);
  const rows = stdout.split('\n').filter((l) => l.startsWith('| '));
  for (const id of ids) {
    const row = rows.find((l) => l.startsWith(`| ${id} |`));
    assert.ok(row, `table has no row for ${id}:\n${stdout}`);
    // Both registries answered: a figure in each of the Stowage and Distribution columns.
    const cells = row.split('|').map((c) => c.trim());
    assert.match(cells[4] ?? '', /\d/, `no Stowage figure for ${id}: ${row}`);
    assert.match(cells[5] ?? '', /\d/, `no Distribution figure for ${id}: ${row}`);
  }
  assert.match(stdout, /SHA-256, one core \| [\d,.]+ MiB\/s/);
  assert.match(stdout, /Sequential write \+ fsync .*\| [\d,.]+ MiB\/s/);
  assert.match(stdout, /Loopback TCP, one connection \| [\d,.]+ MiB\/s/);
  assert.match(stdout, /\nno errors;/);
  // The garbage-collection scenario at its smoke size (--gc-scale 0.005): both collectors ran,
  // each removed every blob of the deleted images (the bench checks the blob storage itself).
  assert.ok(ids.includes('gc-100-manifests-500-blobs'), `no gc scenario in ${ids.join(', ')}`);
  assert.match(
    stdout,
    /\| 2 repositories, 100 manifests \(\+6 indexes\), 500 blobs; 50 manifests deleted \| [\d.,]+ \(its report: [\d.,]+\) \| [\d.,]+ \| [\d.]+× \| (PASS|MISS) \| [\d.]+ \/ [\d.]+ \(\d+\) \| (?:[\d.]+ \/ [\d.]+ \(\d+\)|—) \| (?:[\d.]+×|—) \| (PASS|MISS|—) \| 250 \/ 300 \|/,
  );
  // --gc-scale sizes it (1 = 100 repositories, 20,000 manifests, 100,000 blobs).
  const scaled = spawnSync(process.execPath, [RUN, '--storage', storage, '--gc-scale', '0.01', '--list'], {
    encoding: 'utf8',
  });
  assert.equal(scaled.status, 0, scaled.stderr);
  assert.match(scaled.stdout, /^gc-200-manifests-1000-blobs$/m);
  const full = spawnSync(process.execPath, [RUN, '--storage', storage, '--list'], { encoding: 'utf8' });
  assert.match(full.stdout, /^gc-20000-manifests-100000-blobs$/m);
  // The paged listings' own table: a row per listing with figures for both.
  assert.match(stdout, /\| 120 tags \| n=50 \| \d+ \/ \d+ \|/);
  assert.match(stdout, /\| catalog, 30 repositories \| default \| \d+ \/ \d+ \|/);
  return { stdout, stderr };
}

test('bench --smoke runs every scenario against both registries with zero errors', { timeout: 240_000 }, async () => {
  const { stdout } = await smoke('embedded');
  // Metrics on: Stowage's hot path again with `metrics: { enabled: true }`, against metrics off.
  assert.match(stdout, /\| manifest-get-tag-c64-metrics \| [\d,]+ req\/s \| [\d,]+ req\/s \| [\d.]+× \|/);
  assert.match(stdout, /\| blob-head-c64-metrics \| [\d,]+ req\/s \| [\d,]+ req\/s \| [\d.]+× \|/);
  // The pull-through cache (#17): an upstream docker-registry, Stowage's `proxy:` entry and
  // Distribution's proxy mode in front of it; Stowage's two targets, and the same measures for Distribution.
  assert.match(
    stdout,
    /\| cache hit ≥ 0\.95 × local pull \| proxy-hit-4MiB \| (PASS|MISS): [\d.,]+ MiB\/s hit, [\d.,]+ MiB\/s local: [\d.]+× \| [\d.,]+ MiB\/s hit, [\d.,]+ MiB\/s local: [\d.]+× \|/,
  );
  assert.match(
    stdout,
    /\| cache miss time ≤ 1\.2 × direct pull \| proxy-miss-4MiB \| (PASS|MISS): [\d.,]+ MiB\/s miss, [\d.,]+ MiB\/s from the upstream directly: [\d.]+× the time \| [\d.,]+ MiB\/s miss/,
  );
});

test(
  'bench --smoke --storage s3+postgres: both registries on the same radosgw, Stowage on PostgreSQL',
  { timeout: 240_000 },
  async () => {
    const { stdout, stderr } = await smoke('s3+postgres');
    // Both on the one bucket, each under its own prefix.
    assert.match(
      stderr,
      /S3 http:\/\/\S+ bucket \S+ \(Stowage prefix bench-[0-9a-f]+\/stowage\/, Distribution rootdirectory \/bench-[0-9a-f]+\/distribution\)/,
    );
    assert.doesNotMatch(stdout, /-metrics \|/, 'the metrics-on scenarios are the embedded configuration’s');
    assert.doesNotMatch(stdout, /\| proxy-/, 'the pull-through scenarios are the embedded configuration’s');
  },
);
