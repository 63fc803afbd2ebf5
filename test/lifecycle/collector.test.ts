/** Online garbage collection through the Registry API over disk + SQLite (docs/gc.md). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdir, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { collectGarbage, GC_JOB, type CollectOptions } from '../../src/lifecycle/collector.js';
import { digestBytes } from '../../src/core/digest.js';
import { DiskLayout } from '../../src/storage/disk/layout.js';
import {
  assertBlobPresent,
  enc,
  lifecycleEnv,
  pushBlob,
  pushImage,
  pushIndex,
  pushSignature,
  storedDigests,
  type LifecycleEnv,
} from './helpers.js';

/** No grace and a clock a minute ahead: everything counts as old. */
const NOW: CollectOptions = { gracePeriodMs: 0, now: () => Date.now() + 60_000 };
const gc = (env: LifecycleEnv, o: Partial<CollectOptions> = {}) => collectGarbage(env.registry, { ...NOW, ...o });

describe('garbage collection', () => {
  it('a manifest DELETE makes its blobs collectable; blobs another repository uses stay', async (t) => {
    const env = await lifecycleEnv(t);
    const a = await pushImage(env.registry, 'app', 'v1', ['shared', 'only-app']);
    const b = await pushImage(env.registry, 'other', 'v1', ['shared']);
    const onlyApp = [a.blobs[0]!, a.blobs[2]!];
    let expectedBytes = 0;
    for (const d of onlyApp) expectedBytes += (await env.blobs.stat(d))!.size;
    await env.registry.deleteManifest('app', a.digest);
    const report = await gc(env);
    assert.equal(report.linksRemoved, 3, 'config, shared and only-app links of app');
    assert.equal(report.blobsRemoved, 2, 'app config and only-app bytes');
    assert.equal(report.bytesReclaimed, expectedBytes);
    for (const d of b.blobs) await assertBlobPresent(env, 'other', d);
    assert.deepEqual(await storedDigests(env), [...b.blobs].sort());
    const again = await gc(env);
    assert.equal(again.linksRemoved + again.blobsRemoved, 0, 'the next run finds nothing');
  });

  it('the grace period protects fresh uploads a manifest PUT is about to reference', async (t) => {
    const env = await lifecycleEnv(t);
    const layer = await pushBlob(env.registry, 'app', enc('uploaded, manifest not yet pushed'));
    const safe = await collectGarbage(env.registry, { gracePeriodMs: 3_600_000 });
    assert.equal(safe.linksRemoved + safe.blobsRemoved, 0);
    await assertBlobPresent(env, 'app', layer.digest);
    const late = await gc(env);
    assert.equal(late.linksRemoved, 1);
    assert.equal(late.blobsRemoved, 1);
    assert.equal(await env.blobs.stat(layer.digest), undefined);
  });

  it('keeps everything a tagged manifest or index references, and untagged manifests without a retention rule', async (t) => {
    const env = await lifecycleEnv(t);
    const amd = await pushImage(env.registry, 'multi', undefined, ['amd64 layer']);
    const arm = await pushImage(env.registry, 'multi', undefined, ['arm64 layer']);
    await pushIndex(env.registry, 'multi', 'latest', [amd, arm]);
    const loose = await pushImage(env.registry, 'multi', undefined, ['untagged']);
    const report = await gc(env);
    assert.equal(report.manifestsRemoved.length, 0);
    assert.equal(report.blobsRemoved, 0);
    for (const m of [amd, arm, loose]) for (const d of m.blobs) await assertBlobPresent(env, 'multi', d);
  });

  it('referrers whose subject is gone are collected, with their blobs; signatures of live subjects stay', async (t) => {
    const env = await lifecycleEnv(t);
    const kept = await pushImage(env.registry, 'app', 'v1', ['kept']);
    const gone = await pushImage(env.registry, 'app', 'v2', ['gone']);
    const sigKept = await pushSignature(env.registry, 'app', kept, 'signature of v1');
    const sigGone = await pushSignature(env.registry, 'app', gone, 'signature of v2');
    await env.registry.deleteManifest('app', gone.digest);
    const first = await gc(env);
    assert.deepEqual(
      first.manifestsRemoved.map((m) => [m.digest, m.reason]),
      [[sigGone.digest, 'its subject is gone']],
    );
    assert.ok(await env.meta.getManifest('app', sigKept.digest));
    // The signature's links were released just now; the next run (a grace period later) takes its bytes.
    await gc(env);
    assert.equal(await env.blobs.stat(sigGone.blobs[1]!), undefined, 'the payload of the orphaned signature');
    for (const d of sigKept.blobs) await assertBlobPresent(env, 'app', d);
  });

  it('a commit racing the sweep of its digest waits for it and then stores the bytes again', async (t) => {
    const env = await lifecycleEnv(t);
    const bytes = enc('re-pushed just as it is swept');
    const digest = digestBytes(bytes).value;
    await env.meta.claimBlob(digest, bytes.length, 0);
    const [marked] = await env.meta.markBlobsForDeletion(Date.now() + 1000, 0, 10, Date.now());
    assert.equal(marked?.digest, digest);
    const { id } = await env.registry.startUpload('app', undefined);
    const commit = env.registry.completeUpload('app', id, undefined, digest, Readable.from([bytes]));
    // The collector finishes its sweep (bytes, then the record) while the commit waits.
    await new Promise((r) => setTimeout(r, 150));
    await env.blobs.deleteBlobs([digest]);
    await env.meta.forgetBlobs([digest]);
    assert.deepEqual(await commit, { digest, size: bytes.length });
    await assertBlobPresent(env, 'app', digest);
  });

  it('a manifest PUT after its blob link was collected fails with MANIFEST_BLOB_UNKNOWN and stores nothing', async (t) => {
    const env = await lifecycleEnv(t);
    const a = await pushImage(env.registry, 'app', 'v1', ['layer']);
    const body = (await env.meta.getManifest('app', a.digest))!.content;
    await env.registry.deleteManifest('app', a.digest);
    await gc(env);
    await assert.rejects(
      env.registry.putManifest('app', 'v1', 'application/vnd.oci.image.manifest.v1+json', body),
      (e: Error & { errors?: { code: string }[] }) => {
        assert.ok(e.errors?.every((x) => x.code === 'MANIFEST_BLOB_UNKNOWN'));
        return true;
      },
    );
    assert.equal(await env.meta.getManifest('app', a.digest), undefined);
    assert.equal(await env.meta.resolveTag('app', 'v1'), undefined);
  });

  it('--dry-run changes nothing and reports what a real run removes', async (t) => {
    const env = await lifecycleEnv(t);
    const a = await pushImage(env.registry, 'app', 'v1', ['layer']);
    await env.registry.deleteManifest('app', a.digest);
    await gc(env); // links go; blobs go in the same run
    await pushBlob(env.registry, 'app', enc('dangling'));
    await env.registry.deleteBlob('app', digestBytes(enc('dangling')).value);
    const before = await storedDigests(env);
    const dry = await gc(env, { dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.blobsRemoved, 1);
    assert.deepEqual(await storedDigests(env), before);
    const real = await gc(env);
    assert.equal(real.blobsRemoved, dry.blobsRemoved);
    assert.equal(real.bytesReclaimed, dry.bytesReclaimed);
  });

  it('one collection at a time: a second collector finds the gc job running, and runs once it is done', async (t) => {
    const env = await lifecycleEnv(t);
    let release!: () => void;
    const held = env.meta.runExclusive(GC_JOB, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setImmediate(r));
    const report = await collectGarbage(env.registry, { gracePeriodMs: 0 });
    assert.match(report.skipped ?? '', /another garbage collection/);
    release();
    assert.equal(await held, true);
    assert.equal((await collectGarbage(env.registry, { gracePeriodMs: 0 })).skipped, undefined);
  });

  it('orphan bytes (no record at all) older than the grace period are removed; fresh ones stay', async (t) => {
    const env = await lifecycleEnv(t);
    const layout = new DiskLayout(join(env.dir, 'storage'));
    const old = enc('copied in by hand long ago');
    const fresh = enc('being renamed into place right now');
    for (const b of [old, fresh]) {
      const path = layout.blobPath(digestBytes(b).value);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, b);
    }
    const past = new Date(Date.now() - 2 * 3_600_000);
    await utimes(layout.blobPath(digestBytes(old).value), past, past);
    const report = await collectGarbage(env.registry, { gracePeriodMs: 3_600_000 });
    assert.equal(report.blobsRemoved, 1);
    assert.deepEqual(await storedDigests(env), [digestBytes(fresh).value]);
  });

  it('expired upload sessions go with the collection', async (t) => {
    let clock = Date.now();
    const env = await lifecycleEnv(t, { uploadTtlMs: 1000, now: () => clock });
    const { id } = await env.registry.startUpload('app', undefined);
    await env.registry.appendUpload('app', id, undefined, Readable.from([enc('partial')]));
    clock += 5000;
    const report = await collectGarbage(env.registry, { gracePeriodMs: 0, now: () => clock });
    assert.equal(report.uploadsExpired, 1);
    assert.equal(await env.blobs.uploadSize(id), undefined);
  });
});

describe('garbage collection with retention rules', () => {
  it('drops the tags no rule keeps, removes their manifests, then (a grace period later) their blobs; keeps what is signed', async (t) => {
    const env = await lifecycleEnv(t);
    const old = await pushImage(env.registry, 'team/app', 'build-1', ['layer 1', 'shared']);
    const signedOld = await pushImage(env.registry, 'team/app', 'build-2', ['layer 2']);
    const sig = await pushSignature(env.registry, 'team/app', signedOld, 'sig of build-2');
    await new Promise((r) => setTimeout(r, 5));
    const newest = await pushImage(env.registry, 'team/app', 'build-3', ['layer 3']);
    const untouched = await pushImage(env.registry, 'other/app', 'build-1', ['shared']);
    const retention = [{ repositories: 'team/**', keep: [{ kind: 'latest' as const, count: 1 }] }];
    const dry = await gc(env, { retention, dryRun: true });
    assert.deepEqual(
      dry.decisions.map((x) => [x.tag, x.keep, x.rule]),
      [
        ['build-1', false, 'no keep rule matched'],
        ['build-2', true, 'signed'],
        ['build-3', true, 'latest: 1'],
      ],
    );
    assert.ok(await env.meta.resolveTag('team/app', 'build-1'), 'dry run removed nothing');
    const report = await gc(env, { retention });
    assert.deepEqual(
      report.tagsRemoved.map((x) => x.tag),
      ['build-1'],
    );
    assert.deepEqual(
      report.manifestsRemoved.map((x) => x.digest),
      [old.digest],
    );
    await gc(env, { retention });
    assert.equal(await env.blobs.stat(old.blobs[1]!), undefined, 'layer 1 bytes are gone');
    assert.equal(
      await env.meta.blobLink('team/app', old.blobs[2]!),
      undefined,
      'team/app no longer links the shared layer…',
    );
    for (const b of untouched.blobs) await assertBlobPresent(env, 'other/app', b);
    for (const m of [signedOld, sig, newest]) for (const b of m.blobs) await assertBlobPresent(env, 'team/app', b);
  });

  it('pulled_within uses pull times recorded by manifest GETs (batched)', async (t) => {
    const env = await lifecycleEnv(t);
    await pushImage(env.registry, 'team/app', 'pulled', ['a']);
    await pushImage(env.registry, 'team/app', 'idle', ['b']);
    await env.registry.getManifest('team/app', 'pulled', new Set());
    await env.registry.pulls.flush();
    const retention = [{ repositories: 'team/**', keep: [{ kind: 'pulled_within' as const, ms: 86_400_000 }] }];
    const report = await gc(env, { retention });
    assert.deepEqual(
      report.tagsRemoved.map((x) => x.tag),
      ['idle'],
    );
    assert.ok(await env.meta.resolveTag('team/app', 'pulled'));
  });
});
