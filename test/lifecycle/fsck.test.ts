/**
 * fsck on both storage configurations: each kind of damage made on purpose, found,
 * and (where safe) repaired; what something references is never removed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { digestBytes } from '../../src/core/digest.js';
import { GC_JOB } from '../../src/lifecycle/collector.js';
import { fsck, type FsckOptions, type FsckReport } from '../../src/lifecycle/fsck.js';
import { fsckExitCode, FSCK_EXIT } from '../../src/cli/fsck.js';
import { enc, pushBlob, pushImage } from './helpers.js';
import { STORAGE_CONFIGS, storageEnv, type StorageEnv } from './storage-configs.js';

/** No grace and a clock a minute ahead: every claim and file counts as settled. */
const SETTLED: FsckOptions = { gracePeriodMs: 0, now: () => Date.now() + 60_000 };

const found = (r: FsckReport) =>
  r.problems.map((p) => `${p.kind} ${p.repository ?? '-'}${p.tag ? `:${p.tag}` : ''} ${p.digest} ${p.repair}`).sort();

const line = (kind: string, where: string, digest: string, repair: string) => `${kind} ${where} ${digest} ${repair}`;

for (const config of STORAGE_CONFIGS) {
  describe(`fsck: ${config}`, () => {
    it('finds nothing wrong in a healthy registry, and hashes every blob', async (t) => {
      const env = await storageEnv(t, config);
      const a = await pushImage(env.registry, 'app', 'v1', ['one', 'two']);
      await pushImage(env.registry, 'other', 'latest', ['one', 'three']);
      const report = await fsck(env.registry, SETTLED);
      assert.deepEqual(found(report), []);
      assert.equal(fsckExitCode(report), FSCK_EXIT.clean);
      assert.equal(report.checked.manifests, 2);
      assert.equal(report.checked.blobs, 5, 'two configs and three layers, each hashed once');
      assert.equal(report.checked.tags, 2);
      assert.ok(report.checked.bytes > 0);
      assert.equal(a.blobs.length, 3);
    });

    it('finds each kind of damage; --repair fixes the safe ones and never what something references', async (t) => {
      const env = await storageEnv(t, config);
      const image = await pushImage(env.registry, 'app', 'v1', ['corrupt me', 'lose my bytes', 'lose my record']);
      const [cfg, corrupt, lost, recordless] = image.blobs as [string, string, string, string];
      const other = await pushImage(env.registry, 'other', 'v1', ['resize me', 'unlink me']);
      const [, resized, unlinked] = other.blobs as [string, string, string];
      const healthy = await pushImage(env.registry, 'healthy', 'v1', ['fine']);

      // Referenced content damaged: found, left.
      await env.writeBytes(corrupt, enc('not what was pushed'));
      await env.blobs.deleteBlobs([lost]);
      await env.sql(`DELETE FROM blobs WHERE digest = '${recordless}'`);
      await env.blobs.deleteBlobs([recordless]);
      await env.sql(`UPDATE blob_links SET size = size + 1 WHERE digest = '${resized}'`);
      await env.sql(`DELETE FROM blob_links WHERE digest = '${unlinked}'`);
      // Orphans and the like: found, repaired.
      const orphan = enc('bytes copied in by hand');
      const orphanDigest = digestBytes(orphan).value;
      await env.writeBytes(orphanDigest, orphan);
      const gone = await pushBlob(env.registry, 'app', enc('pushed, unlinked, bytes lost'));
      await env.registry.deleteBlob('app', gone.digest);
      await env.blobs.deleteBlobs([gone.digest]);
      const spoiled = await pushBlob(env.registry, 'app', enc('pushed, unlinked, bytes spoiled'));
      await env.registry.deleteBlob('app', spoiled.digest);
      await env.writeBytes(spoiled.digest, enc('spoiled'));
      const intact = await pushBlob(env.registry, 'app', enc('record lost, bytes fine'));
      await env.sql(`DELETE FROM blobs WHERE digest = '${intact.digest}'`);
      const stray = await pushBlob(env.registry, 'app', enc('record and bytes lost, nothing uses it'));
      await env.sql(`DELETE FROM blobs WHERE digest = '${stray.digest}'`);
      await env.blobs.deleteBlobs([stray.digest]);
      const nothing = digestBytes(enc('no such manifest')).value;
      await env.sql(
        `INSERT INTO tags (repo_id, name, digest, updated_at) SELECT id, 'dangling', '${nothing}', 1 FROM repositories WHERE name = 'app'`,
      );
      const bad = await pushImage(env.registry, 'bad', 'v1', ['x']);
      await env.sql(
        `UPDATE manifests SET content = ${env.bytesLiteral(enc('{"not":"it"}'))} WHERE digest = '${bad.digest}'`,
      );

      const check = await fsck(env.registry, SETTLED);
      const expected = [
        line('blob-corrupt', '-', corrupt, 'left'),
        line('blob-missing', '-', lost, 'left'),
        line('link-without-blob', 'app', recordless, 'left'),
        line('link-size', 'other', resized, 'left'),
        line('reference-size', 'other', other.digest, 'left'),
        line('reference-missing', 'other', other.digest, 'left'),
        line('manifest-corrupt', 'bad', bad.digest, 'left'),
        line('orphan-bytes', '-', orphanDigest, 'repairable'),
        line('blob-missing', '-', gone.digest, 'repairable'),
        line('blob-corrupt', '-', spoiled.digest, 'repairable'),
        line('link-without-blob', 'app', intact.digest, 'repairable'),
        line('link-without-blob', 'app', stray.digest, 'repairable'),
        line('dangling-tag', 'app:dangling', nothing, 'repairable'),
      ].sort();
      assert.deepEqual(found(check), expected);
      assert.equal(fsckExitCode(check), FSCK_EXIT.problems);
      assert.match(check.problems.find((p) => p.digest === recordless)!.message, new RegExp(image.digest));

      const repair = await fsck(env.registry, { ...SETTLED, repair: true });
      assert.deepEqual(
        found(repair),
        expected.map((l) => l.replace(/ repairable$/, ' repaired')),
      );
      assert.equal(fsckExitCode(repair), FSCK_EXIT.problems, 'damaged referenced content is left');
      assert.equal(await env.blobs.stat(orphanDigest), undefined, 'orphan bytes removed');
      assert.equal(await env.blobs.stat(spoiled.digest), undefined, 'bad unlinked bytes removed');
      assert.equal(await env.registry.meta.resolveTag('app', 'dangling'), undefined);
      assert.equal(await env.meta.blobLink('app', stray.digest), undefined, 'the link to nothing is gone');
      assert.deepEqual(await env.meta.blobLink('app', intact.digest), { size: intact.size }, 'kept, record back');
      // Referenced content was not touched, damaged or not.
      assert.ok(await env.blobs.stat(corrupt));
      for (const d of [cfg, ...healthy.blobs]) assert.ok(await env.blobs.stat(d), `${d} still stored`);
      assert.ok(await env.meta.getManifest('bad', bad.digest));
      assert.equal(await env.meta.resolveTag('app', 'v1'), image.digest);

      const after = await fsck(env.registry, SETTLED);
      assert.deepEqual(
        found(after),
        expected.filter((l) => l.endsWith(' left')),
        'only what cannot be fixed safely remains',
      );
      // The recreated record works as any: the next push of that blob links without a new upload of bytes.
      const reclaimed = (await env.meta.blobRecords(1000)).find((r) => r.digest === intact.digest);
      assert.equal(reclaimed?.state, 'live');
    });

    it('--repair leaves orphans younger than the grace period: a push may be committing them', async (t) => {
      const env = await storageEnv(t, config);
      const orphan = enc('fresh orphan');
      const digest = digestBytes(orphan).value;
      await env.writeBytes(digest, orphan);
      const report = await fsck(env.registry, { gracePeriodMs: 2 * 3_600_000, repair: true });
      assert.deepEqual(found(report), [line('orphan-bytes', '-', digest, 'left')]);
      assert.ok(await env.blobs.stat(digest));
    });

    it('runs as the gc job: while a collection runs it does nothing and says so', async (t) => {
      const env: StorageEnv = await storageEnv(t, config);
      let release!: () => void;
      const held = env.meta.runExclusive(GC_JOB, () => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 50));
      const report = await fsck(env.registry, SETTLED);
      assert.match(report.skipped ?? '', /garbage collection/);
      assert.equal(fsckExitCode(report), FSCK_EXIT.skipped);
      release();
      await held;
      assert.equal((await fsck(env.registry, SETTLED)).skipped, undefined);
    });
  });
}
