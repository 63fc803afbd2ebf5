/**
 * The GC soak, for both storage configurations: concurrent pushers (images,
 * indexes, signatures) and deleters while GC runs back to back with a tiny grace
 * period, for a bounded number of operations. Then every acknowledged manifest
 * still tagged is whole (manifest, children, blob links, bytes that hash to their
 * digests), and after a last collection the stored blobs are exactly those the
 * remaining manifests reference: nothing lost, nothing leaked.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { collectGarbage } from '../../src/lifecycle/collector.js';
import { RegistryError, RegistryErrors } from '../../src/core/errors.js';
import { parseManifest, uniqueReferences } from '../../src/core/manifest.js';
import { prng } from '../robustness/helpers.js';
import { pushImage, pushIndex, pushSignature, type Pushed } from './helpers.js';
import { STORAGE_CONFIGS, storageEnv, type StorageEnv } from './storage-configs.js';

const PUSHERS = 3;
const PUSHES_EACH = 24;
/** Longer than one push takes here (S3 round trips are slower), far shorter than the 1 h default. */
const GRACE_MS: Record<string, number> = { 'disk+sqlite': 150, 's3+postgres': 1500 };

interface Acked {
  repo: string;
  tag: string;
  pushed: Pushed;
  children: Pushed[];
  signature?: Pushed;
}

/** A push that lost a race with GC fails cleanly: its blobs were swept before the manifest named them. */
const CLEAN_REFUSALS = new Set(['MANIFEST_BLOB_UNKNOWN', 'BLOB_UNKNOWN', 'BLOB_UPLOAD_UNKNOWN', 'MANIFEST_UNKNOWN']);
const lostRace = (e: unknown) =>
  (e instanceof RegistryError && CLEAN_REFUSALS.has(e.code)) ||
  (e instanceof RegistryErrors && e.errors.every((x) => CLEAN_REFUSALS.has(x.code)));

async function readAll(env: StorageEnv, digest: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await env.blobs.read(digest)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

for (const config of STORAGE_CONFIGS) {
  describe(`GC soak: ${config}`, () => {
    it('pushers, deleters and GC together: nothing acknowledged and tagged is lost, nothing leaks', async (t) => {
      const seed = Number(process.env.STOWAGE_SOAK_SEED ?? Date.now() % 1_000_000);
      t.diagnostic(`seed ${seed} (replay with STOWAGE_SOAK_SEED=${seed})`);
      const random = prng(seed);
      const env = await storageEnv(t, config);
      const { registry } = env;
      const acked = new Map<string, Acked>();
      let gcRuns = 0;
      let lost = 0;
      let pushing = PUSHERS;

      const pusher = async (p: number) => {
        for (let i = 0; i < PUSHES_EACH; i++) {
          const repo = `soak/r${p}`;
          const tag = `t${i}`;
          try {
            const shared = `shared layer ${Math.floor(random() * 4)}`; // layers shared across images and repos
            const multiArch = i % 4 === 3;
            const a = await pushImage(registry, repo, multiArch ? undefined : tag, [shared, `own ${p}.${i}.a`]);
            let entry: Acked = { repo, tag, pushed: a, children: [] };
            if (multiArch) {
              const b = await pushImage(registry, repo, undefined, [`own ${p}.${i}.b`]);
              entry = { repo, tag, pushed: await pushIndex(registry, repo, tag, [a, b]), children: [a, b] };
            }
            if (i % 5 === 0) entry.signature = await pushSignature(registry, repo, entry.pushed, `signed ${p}.${i}`);
            acked.set(`${repo}:${tag}`, entry);
          } catch (e) {
            if (!lostRace(e)) throw e;
            lost++;
          }
        }
        pushing--;
      };

      const deleter = async () => {
        while (pushing > 0) {
          const keys = [...acked.keys()];
          if (keys.length > 4) {
            const key = keys[Math.floor(random() * keys.length)]!;
            const entry = acked.get(key)!;
            acked.delete(key);
            // By tag (the manifest stays, untagged) or by digest (the manifest goes, its blobs become collectable).
            const ref = random() < 0.5 ? entry.tag : entry.pushed.digest;
            await registry.deleteManifest(entry.repo, ref, {});
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      };

      const collector = async () => {
        while (pushing > 0) {
          await collectGarbage(registry, { gracePeriodMs: GRACE_MS[config]! });
          gcRuns++;
        }
      };

      await Promise.all([...Array.from({ length: PUSHERS }, (_, p) => pusher(p)), deleter(), collector()]);
      t.diagnostic(`${acked.size} tagged at the end, ${lost} pushes lost a race with GC, ${gcRuns} GC runs`);
      assert.ok(gcRuns > 0);
      assert.ok(acked.size > 0);

      // Everything acknowledged and still tagged is whole.
      for (const e of acked.values()) {
        assert.equal(await registry.meta.resolveTag(e.repo, e.tag), e.pushed.digest, `${e.repo}:${e.tag}`);
        for (const m of [e.pushed, ...e.children, ...(e.signature ? [e.signature] : [])]) {
          assert.ok(await registry.meta.getManifest(e.repo, m.digest), `manifest ${m.digest} of ${e.repo}:${e.tag}`);
          for (const b of m.blobs) {
            assert.ok(await registry.meta.blobLink(e.repo, b), `${e.repo} links ${b}`);
            assert.equal(await readAll(env, b), b, `bytes of ${b} hash to it`);
          }
        }
      }

      // After a last collection, the stored blobs are exactly what the remaining manifests reference.
      await new Promise((r) => setTimeout(r, GRACE_MS[config]! + 50));
      await collectGarbage(registry, { gracePeriodMs: 0 });
      await collectGarbage(registry, { gracePeriodMs: 0 });
      const referenced = new Set<string>();
      for (let last: string | undefined; ;) {
        const page = await registry.meta.listRepositories({ n: 100, ...(last !== undefined ? { last } : {}) });
        for (const repo of page.items) {
          for (const m of (await registry.meta.repositoryInventory(repo)).manifests) {
            const stored = await registry.meta.getManifest(repo, m.digest);
            const parsed = parseManifest(stored!.content, stored!.mediaType);
            for (const r of uniqueReferences(parsed.references)) if (r.role !== 'manifest') referenced.add(r.digest);
          }
        }
        if (!page.next) break;
        last = page.next;
      }
      const stored: string[] = [];
      for await (const b of env.blobs.listBlobs()) stored.push(b.digest);
      assert.deepEqual(stored.sort(), [...referenced].sort(), 'stored blobs = referenced blobs');
    });
  });
}
