/**
 * kill -9 of `stowage serve` in the middle of its scheduled GC, round after round
 * (seeded: the delay before each kill is printed): it restarts cleanly each time,
 * nothing still tagged loses a byte, and the GC after the last restart finishes the
 * work — `stowage fsck` then finds no orphan and nothing missing. Both storage
 * configurations.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, startStowage, type StowageProcess } from '../helpers/server.js';
import { scaleOutEnv } from '../helpers/services.js';
import {
  http,
  prng,
  pushImage,
  removeDir,
  sha256,
  tempDir,
  waitFor,
  ACCEPT_ALL_MANIFESTS,
} from '../robustness/helpers.js';

const ROUNDS = 5;
const IMAGES = 30;

type Config = 'disk+sqlite' | 's3+postgres';

for (const config of ['disk+sqlite', 's3+postgres'] as Config[]) {
  describe(`kill -9 during GC: ${config}`, () => {
    it('restarts cleanly every time, loses nothing tagged, and the next GC finishes', async (t) => {
      const seed = Number(process.env.STOWAGE_GC_CRASH_SEED ?? Date.now() % 1_000_000);
      t.diagnostic(`seed ${seed} (replay with STOWAGE_GC_CRASH_SEED=${seed})`);
      const random = prng(seed);
      const dir = await tempDir('stowage-gc-crash-');
      const scaled = config === 's3+postgres' ? await scaleOutEnv({ redirect: false }) : undefined;
      const env = scaled?.env ?? {};
      const data = join(dir, 'data');
      const quiet = join(dir, 'quiet.yaml');
      const collecting = join(dir, 'gc.yaml');
      await writeFile(quiet, 'gc: { interval: 0, grace_period: 1h }\n');
      await writeFile(collecting, 'gc: { interval: 50ms, grace_period: 0s }\n');
      const start = (file: string) => startStowage({ dataDir: data, env, args: ['--config', file] });
      let server: StowageProcess | undefined;
      try {
        // Content with GC off: half of it is then deleted, so there is plenty to collect.
        server = await start(quiet);
        const kept: { repo: string; digest: string; layers: string[] }[] = [];
        for (let i = 0; i < IMAGES; i++) {
          const layers = [0, 1, 2].map((j) => Buffer.from(`${config} image ${i} layer ${j} `.repeat(50)));
          const repo = `crash/r${i % 3}`;
          const digest = await pushImage(server.url, repo, `t${i}`, layers);
          if (i % 2 === 0) {
            const del = await http(server.url, `/v2/${repo}/manifests/${digest}`, { method: 'DELETE' });
            assert.equal(del.status, 202);
          } else kept.push({ repo, digest, layers: layers.map((l) => sha256(l)) });
        }
        await server.stop();
        server = undefined;

        for (let round = 0; round < ROUNDS; round++) {
          server = await start(collecting);
          const s = server;
          // Wait for the collector to be at work, then kill it after a seeded delay.
          await waitFor('GC at work', () => s.logs.some((l) => l.includes('garbage collection progress')), 20_000, 5);
          const delay = Math.floor(random() * 30);
          await new Promise((r) => setTimeout(r, delay));
          t.diagnostic(`round ${round}: kill -9 ${delay} ms into GC`);
          await s.kill('SIGKILL');
          server = undefined;
        }

        // A last start: its GC finishes what the killed ones left, and everything kept is whole.
        server = await start(collecting);
        const s = server;
        // Two finished runs: the first may only complete what a killed one had marked.
        await waitFor(
          'two finished GC runs',
          () => s.logs.filter((l) => l.includes('garbage collection finished')).length >= 2,
          60_000,
        );
        for (const k of kept) {
          const m = await http(s.url, `/v2/${k.repo}/manifests/${k.digest}`, {
            headers: { Accept: ACCEPT_ALL_MANIFESTS },
          });
          assert.equal(m.status, 200, `${k.repo}@${k.digest}`);
          for (const layer of k.layers) {
            const b = await http(s.url, `/v2/${k.repo}/blobs/${layer}`, { hashBody: true });
            assert.equal(b.status, 200, `${k.repo} layer ${layer}`);
            assert.equal(b.digest, layer, 'its bytes hash to its digest');
          }
        }
        await s.stop();
        server = undefined;
        // Offline now: fsck sees the data as the last GC left it.
        const fsckConfig = join(dir, 'fsck.yaml');
        await writeFile(fsckConfig, 'gc: { interval: 0, grace_period: 0s }\n');
        const fsck = await runCli(['fsck', '--config', fsckConfig, '--data', data, '--output', 'json'], env);
        const report = JSON.parse(fsck.stdout) as { problems: { kind: string }[] };
        assert.deepEqual(report.problems, [], 'no orphan, nothing missing');
      } finally {
        await server?.kill('SIGKILL');
        await scaled?.drop();
        await removeDir(dir);
      }
    });
  });
}
