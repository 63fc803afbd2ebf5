/**
 * `stowage gc` as its own process beside a running `stowage serve` on the same data
 * (SQLite WAL, the fence of docs/gc.md), and the schedule `stowage serve` runs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CLI, runCli, startStowage } from '../helpers/server.js';
import { http, pushImage, removeDir, sha256, tempDir, waitFor } from '../robustness/helpers.js';

const run = promisify(execFile);

const gcCommand = (args: string[], command = 'gc') => runCli([command, ...args], { STOWAGE_LOG_LEVEL: 'info' });

describe('stowage gc beside stowage serve', () => {
  it('collects online: prints what it removed and the bytes reclaimed; what is tagged keeps working', async () => {
    const dir = await tempDir();
    const config = join(dir, 'stowage.yaml');
    await writeFile(
      config,
      [
        'gc: { interval: 0, grace_period: 1h }',
        'retention:',
        '  - repositories: "team/**"',
        '    keep: [{ matching: "^v" }]',
        '',
      ].join('\n'),
    );
    const server = await startStowage({ dataDir: join(dir, 'data'), args: ['--config', config] });
    try {
      const base = server.url;
      const layer = (s: string) => Buffer.from(`${s} `.repeat(1000));
      const kept = await pushImage(base, 'team/app', 'v1', [layer('kept')]);
      await pushImage(base, 'team/app', 'pr-7', [layer('dropped by retention')]);
      const deleted = await pushImage(base, 'other/app', 'latest', [layer('deleted by hand')]);
      assert.equal((await http(base, `/v2/other/app/manifests/${deleted}`, { method: 'DELETE' })).status, 202);

      const common = ['--config', config, '--data', server.dataDir, '--grace-period', '0s'];
      const dry = await gcCommand([...common, '--dry-run']);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /^keep team\/app:v1 .* — matching: \^v$/m);
      assert.match(dry.stdout, /^drop team\/app:pr-7 .* — no keep rule matched$/m);
      assert.match(dry.stdout, /^would remove tag team\/app:pr-7 \(no keep rule matched\)$/m);
      assert.match(dry.stdout, /^dry run: 0 expired uploads, 1 tags, 1 manifests, 2 blob links, 0 blobs would remove/m);
      assert.equal(
        (await http(base, '/v2/team/app/manifests/pr-7', { method: 'HEAD' })).status,
        200,
        'the dry run removed nothing',
      );

      const real = await gcCommand(common);
      assert.equal(real.code, 0, real.stderr);
      assert.match(real.stdout, /^removed tag team\/app:pr-7/m);
      assert.match(
        real.stdout,
        /^0 expired uploads, 1 tags, 1 manifests, 2 blob links, 1 blobs removed; .* reclaimed in/m,
      );
      assert.match(real.stderr, /"msg":"garbage collection finished"/, 'totals in the log');
      assert.match(real.stderr, /"msg":"garbage collection progress"/);
      // (The image config is the same bytes in every repository, so only the layer goes.) The manifest
      // retention removed released its blobs just now: the next run takes them.
      const second = await gcCommand(common);
      assert.match(second.stdout, /0 tags, 0 manifests, 1 blob links, 1 blobs removed/);

      // The server never stopped: what is tagged is whole, and pushes go on.
      const manifest = await http(base, '/v2/team/app/manifests/v1', {
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      assert.equal(manifest.status, 200);
      assert.equal(sha256(manifest.body), kept);
      for (const d of (JSON.parse(manifest.body.toString()) as { layers: { digest: string }[] }).layers) {
        assert.equal((await http(base, `/v2/team/app/blobs/${d.digest}`)).status, 200);
      }
      assert.equal((await http(base, '/v2/team/app/manifests/pr-7', { method: 'HEAD' })).status, 404);
      await pushImage(base, 'other/app', 'again', [layer('deleted by hand')]);
    } finally {
      await server.stop();
      await removeDir(dir);
    }
  });

  it('stowage usage shows each namespace against its quota', async () => {
    const dir = await tempDir();
    const config = join(dir, 'stowage.yaml');
    await writeFile(config, 'quotas:\n  - namespaces: "team"\n    bytes: 1MiB\n');
    const server = await startStowage({ dataDir: join(dir, 'data'), args: ['--config', config] });
    try {
      await pushImage(server.url, 'team/a', 'v1', [Buffer.from('a'.repeat(2000))]);
      await pushImage(server.url, 'team/b', 'v1', [Buffer.from('a'.repeat(2000))]);
      await pushImage(server.url, 'solo', 'v1', [Buffer.from('b'.repeat(100))]);
      const { stdout } = await run(process.execPath, [
        CLI,
        'usage',
        '--config',
        config,
        '--data',
        server.dataDir,
        '--output',
        'json',
      ]);
      const rows = JSON.parse(stdout) as { namespace: string; blobs: number; repositories: number; limit?: number }[];
      const team = rows.find((r) => r.namespace === 'team');
      assert.equal(team?.blobs, 2, 'config and layer, each once');
      assert.equal(team?.repositories, 2);
      assert.equal(team?.limit, 1024 * 1024);
      assert.equal(rows.find((r) => r.namespace === 'solo')?.limit, undefined);
      const text = await run(process.execPath, [CLI, 'usage', 'team', '--config', config, '--data', server.dataDir]);
      assert.match(
        text.stdout,
        /^team: .* of 1\.0 MiB \(1048576 bytes\) \(\d+\.\d%\); 2 blobs, 1 manifests, 2 repositories$/m,
        'the same manifest in two repositories counts once',
      );
    } finally {
      await server.stop();
      await removeDir(dir);
    }
  });

  it('stowage fsck beside stowage serve: reports in text and JSON, exit 4 when wrong, --repair then 1, then 0', async () => {
    const dir = await tempDir();
    const server = await startStowage({ dataDir: join(dir, 'data') });
    try {
      await pushImage(server.url, 'app', 'v1', [Buffer.from('layer '.repeat(100))]);
      const orphan = Buffer.from('copied in by hand');
      const hex = sha256(orphan).slice('sha256:'.length);
      const path = join(server.dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, orphan);
      const hourAgo = new Date(Date.now() - 3_600_000);
      await utimes(path, hourAgo, hourAgo);
      const common = ['--data', server.dataDir, '--grace-period', '30m'];
      const text = await gcCommand(common, 'fsck');
      assert.equal(text.code, 4, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(`^repairable orphan-bytes sha256:${hex}: 17 bytes that no blob record knows$`, 'm'),
      );
      assert.match(
        text.stdout,
        /^checked 2 blobs .* 1 manifests, 1 tags, 3 stored objects; 1 problems: 0 repaired, 1 repairable/m,
      );
      const json = await gcCommand([...common, '--output', 'json', '--repair'], 'fsck');
      assert.equal(json.code, 1, json.stderr);
      const report = JSON.parse(json.stdout) as { problems: { kind: string; repair: string }[] };
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.repair]),
        [['orphan-bytes', 'repaired']],
      );
      const clean = await gcCommand(common, 'fsck');
      assert.equal(clean.code, 0, clean.stdout);
      assert.match(clean.stdout, /no problems/);
      assert.equal((await http(server.url, '/v2/app/manifests/v1', { method: 'HEAD' })).status, 200);
    } finally {
      await server.stop();
      await removeDir(dir);
    }
  });

  it('refuses a bad duration with exit code 2', async () => {
    const r = await gcCommand(['--grace-period', 'soon', '--data', '/nonexistent']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--grace-period must be a duration/);
  });

  it('stowage serve collects on the gc.interval schedule and logs the totals', async () => {
    const dir = await tempDir();
    const config = join(dir, 'stowage.yaml');
    await writeFile(config, 'gc: { interval: 1s, grace_period: 0s }\n');
    const server = await startStowage({ dataDir: join(dir, 'data'), args: ['--config', config] });
    try {
      const digest = await pushImage(server.url, 'app', 'latest', [Buffer.from('scheduled '.repeat(100))]);
      assert.equal((await http(server.url, `/v2/app/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      await waitFor(
        'a scheduled collection that removed the blobs',
        () =>
          server.logs.some((l) => {
            const e = JSON.parse(l) as { msg?: string; blobsRemoved?: number };
            return e.msg === 'garbage collection finished' && (e.blobsRemoved ?? 0) >= 2;
          }),
        15_000,
      );
    } finally {
      await server.stop();
      await removeDir(dir);
    }
  });
});
