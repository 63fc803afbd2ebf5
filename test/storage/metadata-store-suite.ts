/**
 * The MetadataStore contract, as one driver-agnostic suite. Every driver runs it
 * unchanged; the list of drivers is test/storage/drivers.ts. Each test gets a
 * fresh, empty store from the driver's factory.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { digestBytes } from '../../src/core/digest.js';
import { MT } from '../../src/core/media-types.js';
import type { ManifestReference, ReferenceRole } from '../../src/core/manifest.js';
import type { Page } from '../../src/core/pagination.js';
import type { ManifestWriteFacts, RegistryEvent } from '../../src/core/events.js';
import type {
  AccessTokenRecord,
  ManifestRecord,
  MetadataStore,
  UploadRecord,
} from '../../src/storage/metadata-store.js';

export interface MetadataStoreFixture {
  store: MetadataStore;
  /** Closes whatever is still open and removes everything the store wrote. */
  cleanup(): Promise<void>;
  /**
   * Opens another instance over the same database, as after a restart. The suite
   * closes the first instance before calling it and closes the new one itself.
   */
  reopen?(): Promise<MetadataStore>;
  /**
   * Runs raw SQL on the store's database (literals inline), to damage it the way
   * only a bug, a crash of an older version or a hand edit could: what fsck finds.
   * Absent for stores without SQL; those cases then report a skip with the reason.
   */
  damage?(sql: string): Promise<void>;
}

export type MetadataStoreFactory = (t: TestContext) => Promise<MetadataStoreFixture>;

// ---- helpers ---------------------------------------------------------------

const enc = (s: string) => Buffer.from(s, 'utf8');

/** A fake blob: digest and size of real bytes. */
function blob(content: string): { digest: string; size: number } {
  return { digest: digestBytes(enc(content)).value, size: Buffer.byteLength(content) };
}

function ref(
  b: { digest: string; size: number },
  role: ReferenceRole = 'layer',
  mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip',
): ManifestReference {
  return { digest: b.digest, size: b.size, mediaType, role };
}

function manifest(content: string, extra: Partial<ManifestRecord> = {}): ManifestRecord {
  const bytes = enc(content);
  return {
    digest: digestBytes(bytes).value,
    mediaType: MT.ociManifest,
    size: bytes.length,
    content: bytes,
    createdAt: 1_000,
    ...extra,
  };
}

/** A manifest as an index child reference. */
function child(m: ManifestRecord): ManifestReference {
  return { digest: m.digest, size: m.size, mediaType: m.mediaType, role: 'manifest' };
}

function token(user: string, createdAt: number, extra: Partial<AccessTokenRecord> = {}): AccessTokenRecord {
  return {
    id: randomUUID().replace(/-/g, '').slice(0, 16),
    user,
    note: '',
    scopes: [{ glob: `${user}/**`, actions: ['pull', 'push'] }],
    secretHash: Buffer.from(digestBytes(enc(`secret of ${user} at ${createdAt}`)).hex, 'hex'),
    createdAt,
    ...extra,
  };
}

function upload(repository: string, at: number, owner?: string): UploadRecord {
  return { id: randomUUID(), repository, ...(owner === undefined ? {} : { owner }), createdAt: at, updatedAt: at };
}

/** Pages through a listing with `n` per page and checks the cursor protocol on the way. */
async function pageAll(
  list: (page: { n?: number; last?: string }) => Promise<Page<string> | undefined>,
  n: number,
): Promise<string[][]> {
  const pages: string[][] = [];
  let last: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = await list(last === undefined ? { n } : { n, last });
    assert.ok(page);
    assert.ok(page.items.length <= n, `page of ${page.items.length} > n=${n}`);
    pages.push(page.items);
    if (page.next === undefined) return pages;
    assert.equal(page.items.length, n, 'a short page must be the last one');
    assert.equal(page.next, page.items[page.items.length - 1], 'next is the last item returned');
    last = page.next;
  }
  assert.fail('pagination did not terminate');
}

const byteOrder = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(enc(a), enc(b)));

async function withStore(
  factory: MetadataStoreFactory,
  t: TestContext,
  fn: (f: MetadataStoreFixture) => Promise<void>,
): Promise<void> {
  const fixture = await factory(t);
  try {
    await fn(fixture);
  } finally {
    await fixture.cleanup();
  }
}

// ---- the suite -------------------------------------------------------------

export function metadataStoreSuite(driver: string, factory: MetadataStoreFactory): void {
  // it() returns a promise the runner awaits itself: the wrapper hands back nothing.
  const test = (name: string, fn: (f: MetadataStoreFixture, t: TestContext) => Promise<void>): void => {
    it(name, (t) => withStore(factory, t, (f) => fn(f, t)));
  };

  describe(`MetadataStore contract: ${driver}`, () => {
    describe('upload sessions', () => {
      test('holdUpload: one holder per session at a time, refused at once, released when done or failed', async ({
        store,
      }) => {
        const [a, b] = [randomUUID(), randomUUID()];
        let release!: () => void;
        const first = store.holdUpload(a, () => new Promise<string>((r) => (release = () => r('first'))));
        // Let the first hold be taken (PostgreSQL: on its own connection).
        for (let i = 0; i < 100 && release === undefined; i++) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 50));
        let ran = false;
        assert.deepEqual(await store.holdUpload(a, async () => (ran = true)), { held: false });
        assert.equal(ran, false, 'a refused hold does not run its function');
        assert.deepEqual(await store.holdUpload(b, async () => 'other'), { held: true, value: 'other' });
        release();
        assert.deepEqual(await first, { held: true, value: 'first' });
        await assert.rejects(
          store.holdUpload(a, async () => {
            throw new Error('append failed');
          }),
          /append failed/,
        );
        assert.deepEqual(await store.holdUpload(a, async () => 'again'), { held: true, value: 'again' });
      });

      test('create, get, touch, delete', async ({ store }) => {
        const u = upload('library/alpine', 1_000);
        assert.equal(await store.getUpload(u.id), undefined);
        await store.createUpload(u);
        assert.deepEqual(await store.getUpload(u.id), u);
        await store.touchUpload(u.id, 5_000);
        assert.deepEqual(await store.getUpload(u.id), { ...u, updatedAt: 5_000 });
        await store.deleteUpload(u.id);
        assert.equal(await store.getUpload(u.id), undefined);
        // Deleting or touching what is not there is not an error.
        await store.deleteUpload(u.id);
        await store.touchUpload(randomUUID(), 1);
        assert.equal(await store.getUpload(randomUUID()), undefined);
      });

      test('a session keeps its owner (none for anonymous sessions)', async ({ store }) => {
        const mine = upload('app', 1, 'alice');
        const anonymous = upload('app', 1);
        for (const u of [mine, anonymous]) await store.createUpload(u);
        assert.deepEqual(await store.getUpload(mine.id), mine);
        assert.equal((await store.getUpload(mine.id))?.owner, 'alice');
        assert.deepEqual(await store.getUpload(anonymous.id), anonymous);
        assert.equal('owner' in (await store.getUpload(anonymous.id))!, false);
        assert.deepEqual(
          (await store.staleUploads(2)).find((u) => u.id === mine.id),
          mine,
        );
      });

      test('countUploads counts open sessions in all, per repository and per owner', async ({ store }) => {
        assert.equal(await store.countUploads({ all: true }), 0);
        const sessions = [
          upload('a', 1, 'alice'),
          upload('a', 1, 'bob'),
          upload('b', 1, 'alice'),
          upload('a', 1),
          upload('b/c', 1),
        ];
        for (const u of sessions) await store.createUpload(u);
        assert.equal(await store.countUploads({ all: true }), 5);
        assert.equal(await store.countUploads({ repository: 'a' }), 3);
        assert.equal(await store.countUploads({ repository: 'b' }), 1, 'b/c is another repository');
        assert.equal(await store.countUploads({ repository: 'none' }), 0);
        assert.equal(await store.countUploads({ owner: 'alice' }), 2);
        assert.equal(await store.countUploads({ owner: 'bob' }), 1);
        assert.equal(await store.countUploads({ owner: 'carol' }), 0);
        await store.deleteUpload(sessions[0]!.id);
        assert.equal(await store.countUploads({ owner: 'alice' }), 1);
        assert.equal(await store.countUploads({ repository: 'a' }), 2);
        assert.equal(await store.countUploads({ all: true }), 4);
      });

      test('staleUploads returns sessions not touched since `before` (strictly)', async ({ store }) => {
        const a = upload('r/a', 100);
        const b = upload('r/b', 200);
        const c = upload('r/a', 300);
        for (const u of [a, b, c]) await store.createUpload(u);
        const ids = async (before: number) => (await store.staleUploads(before)).map((u) => u.id).sort();
        assert.deepEqual(await ids(100), []);
        assert.deepEqual(await ids(200), [a.id]);
        assert.deepEqual(await ids(301), [a.id, b.id, c.id].sort());
        await store.touchUpload(a.id, 500);
        assert.deepEqual(await ids(301), [b.id, c.id].sort());
        const stale = await store.staleUploads(250);
        assert.deepEqual(stale, [b]);
        await store.deleteUpload(b.id);
        assert.deepEqual(await ids(1_000), [a.id, c.id].sort());
      });
    });

    describe('blob links', () => {
      test('link makes a blob visible in one repository only (and creates the repository)', async ({ store }) => {
        const b = blob('layer');
        assert.equal(await store.blobLink('app', b.digest), undefined);
        assert.equal(await store.repositoryExists('app'), false);
        await store.linkBlob('app', b.digest, b.size);
        assert.deepEqual(await store.blobLink('app', b.digest), { size: b.size });
        assert.equal(await store.repositoryExists('app'), true);
        assert.equal(await store.blobLink('other', b.digest), undefined);
        assert.equal(await store.blobLink('app', blob('other').digest), undefined);
        // Linking again is harmless.
        await store.linkBlob('app', b.digest, b.size);
        assert.deepEqual(await store.blobLink('app', b.digest), { size: b.size });
      });

      test('unlink: absent, removed, then absent again', async ({ store }) => {
        const b = blob('layer');
        assert.equal(await store.unlinkBlob('nowhere', b.digest), 'absent');
        await store.linkBlob('app', b.digest, b.size);
        assert.equal(await store.unlinkBlob('app', blob('not linked').digest), 'absent');
        assert.equal(await store.unlinkBlob('app', b.digest), 'removed');
        assert.equal(await store.blobLink('app', b.digest), undefined);
        assert.equal(await store.unlinkBlob('app', b.digest), 'absent');
      });

      test('unlink refuses while a manifest in the same repository references the blob', async ({ store }) => {
        const config = blob('config');
        const layer = blob('layer');
        for (const repo of ['app', 'fork']) {
          await store.linkBlob(repo, config.digest, config.size);
          await store.linkBlob(repo, layer.digest, layer.size);
        }
        const m = manifest('image');
        assert.deepEqual(await store.putManifest('app', m, [ref(config, 'config'), ref(layer)], 'v1'), []);
        assert.equal(await store.unlinkBlob('app', layer.digest), 'referenced');
        assert.equal(await store.unlinkBlob('app', config.digest), 'referenced');
        assert.deepEqual(await store.blobLink('app', layer.digest), { size: layer.size });
        // Another repository's manifests do not protect this repository's link.
        assert.equal(await store.unlinkBlob('fork', layer.digest), 'removed');
        // Once the manifest is gone the link can go.
        assert.equal(await store.deleteManifest('app', m.digest), true);
        assert.equal(await store.unlinkBlob('app', layer.digest), 'removed');
      });
    });

    describe('manifests', () => {
      test('putManifest stores the exact bytes and what the referrers API needs', async ({ store }) => {
        const config = blob('{"architecture":"amd64"}');
        await store.linkBlob('app', config.digest, config.size);
        const subject = blob('subject manifest').digest;
        const m = manifest('{"schemaVersion":2}\n', {
          subject,
          artifactType: 'application/vnd.example.sbom',
          annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', empty: '' },
          createdAt: 1_234,
        });
        assert.deepEqual(await store.putManifest('app', m, [ref(config, 'config')], 'latest'), []);
        const got = await store.getManifest('app', m.digest);
        assert.ok(got);
        assert.ok(Buffer.isBuffer(got.content));
        assert.ok(got.content.equals(m.content), 'byte-for-byte');
        assert.deepEqual({ ...got, content: undefined }, { ...m, content: undefined });
        assert.equal(await store.resolveTag('app', 'latest'), m.digest);
        assert.equal(await store.getManifest('other', m.digest), undefined);
        assert.equal(await store.resolveTag('other', 'latest'), undefined);
      });

      test('optional fields stay absent', async ({ store }) => {
        const m = manifest('bare', { mediaType: MT.ociIndex });
        assert.deepEqual(await store.putManifest('app', m, []), []);
        const got = await store.getManifest('app', m.digest);
        assert.equal(got?.subject, undefined);
        assert.equal(got?.artifactType, undefined);
        assert.equal(got?.annotations, undefined);
        assert.equal(got?.mediaType, MT.ociIndex);
      });

      test('unmet references (missing or wrong size) are reported and nothing is written', async ({ store }) => {
        const present = blob('present');
        const missing = blob('missing');
        const wrongSize = blob('wrong size');
        await store.linkBlob('app', present.digest, present.size);
        await store.linkBlob('app', wrongSize.digest, wrongSize.size);
        const m = manifest('needs three blobs');
        const refs = [
          ref(present, 'config'),
          ref(missing),
          ref({ digest: wrongSize.digest, size: wrongSize.size + 1 }),
        ];
        const unmet = await store.putManifest('app', m, refs, 'v1');
        assert.deepEqual(unmet, [
          { reference: refs[1], problem: 'missing' },
          { reference: refs[2], problem: 'size-mismatch', actualSize: wrongSize.size },
        ]);
        assert.equal(await store.getManifest('app', m.digest), undefined);
        assert.equal(await store.resolveTag('app', 'v1'), undefined);
        assert.deepEqual((await store.listTags('app', {}))?.items ?? [], []);
        assert.deepEqual((await store.listRepositories({})).items, []);
        // No reference rows were recorded either.
        assert.equal(await store.unlinkBlob('app', present.digest), 'removed');
      });

      test('unverifiedReferences stores before the blobs arrive, and still records the references', async ({
        store,
      }) => {
        const config = blob('cached config');
        const layer = blob('cached layer');
        const m = manifest('a cached manifest');
        const refs = [ref(config, 'config'), ref(layer)];
        assert.deepEqual(await store.putManifest('hub/app', m, refs, 'v1', { unverifiedReferences: true }), []);
        assert.equal(await store.resolveTag('hub/app', 'v1'), m.digest);
        // The blob arriving later is referenced: it cannot be unlinked while the manifest is there.
        await store.linkBlob('hub/app', layer.digest, layer.size);
        assert.equal(await store.unlinkBlob('hub/app', layer.digest), 'referenced');
      });

      test('a manifest push into a repository that does not exist yet creates nothing when it fails', async ({
        store,
      }) => {
        const unmet = await store.putManifest('ghost', manifest('x'), [ref(blob('nope'), 'config')], 'latest');
        assert.equal(unmet.length, 1);
        assert.equal(await store.repositoryExists('ghost'), false);
        assert.equal(await store.listTags('ghost', {}), undefined);
        assert.deepEqual((await store.listRepositories({})).items, []);
      });

      test('a manifest with no references creates its repository', async ({ store }) => {
        const empty = manifest('{"schemaVersion":2,"manifests":[]}', { mediaType: MT.ociIndex });
        assert.deepEqual(await store.putManifest('fresh/repo', empty, [], 'empty'), []);
        assert.equal(await store.repositoryExists('fresh/repo'), true);
        assert.deepEqual(await store.listTags('fresh/repo', {}), { items: ['empty'] });
        assert.deepEqual((await store.listRepositories({})).items, ['fresh/repo']);
      });

      test('index children are looked up as manifests of this repository, with their size', async ({ store }) => {
        const config = blob('cfg');
        await store.linkBlob('app', config.digest, config.size);
        const amd64 = manifest('amd64');
        const arm64 = manifest('arm64');
        assert.deepEqual(await store.putManifest('app', amd64, [ref(config, 'config')]), []);
        await store.putManifest('elsewhere', arm64, []);
        const index = manifest('index', { mediaType: MT.ociIndex });

        const missing = await store.putManifest('app', index, [child(amd64), child(arm64)]);
        assert.deepEqual(missing, [{ reference: child(arm64), problem: 'missing' }]);

        const wrong = { ...child(amd64), size: amd64.size + 10 };
        assert.deepEqual(await store.putManifest('app', index, [wrong]), [
          { reference: wrong, problem: 'size-mismatch', actualSize: amd64.size },
        ]);

        assert.deepEqual(await store.putManifest('app', arm64, []), []);
        assert.deepEqual(await store.putManifest('app', index, [child(amd64), child(arm64)], 'multi'), []);
        assert.equal(await store.resolveTag('app', 'multi'), index.digest);
      });

      test('a BuildKit cache index may list blobs as children', async ({ store }) => {
        const layer = blob('cached layer');
        const cacheConfig = blob('{"layers":[]}');
        await store.linkBlob('cache', layer.digest, layer.size);
        await store.linkBlob('cache', cacheConfig.digest, cacheConfig.size);
        const index = manifest('cache index', { mediaType: MT.ociIndex });
        const refs = [ref(layer), ref(cacheConfig, 'layer', 'application/vnd.buildkit.cacheconfig.v0')];
        assert.deepEqual(await store.putManifest('cache', index, refs, 'buildcache'), []);
        assert.equal(await store.unlinkBlob('cache', layer.digest), 'referenced');
      });

      test('pushing the same manifest again is a no-op that can add tags', async ({ store }) => {
        const m = manifest('same bytes');
        assert.deepEqual(await store.putManifest('app', m, [], 'a'), []);
        assert.deepEqual(await store.putManifest('app', m, [], 'b'), []);
        assert.deepEqual(await store.putManifest('app', m, []), []);
        assert.equal(await store.resolveTag('app', 'a'), m.digest);
        assert.equal(await store.resolveTag('app', 'b'), m.digest);
        assert.deepEqual(await store.listTags('app', {}), { items: ['a', 'b'] });
      });

      test('a tag moves atomically from one manifest to another', async ({ store }) => {
        const a = manifest('A');
        const b = manifest('B');
        await store.putManifest('app', a, [], 'latest');
        await store.putManifest('app', b, [], 'latest');
        assert.equal(await store.resolveTag('app', 'latest'), b.digest);
        assert.deepEqual(await store.listTags('app', {}), { items: ['latest'] });
        assert.ok(await store.getManifest('app', a.digest), 'the old manifest stays addressable by digest');
        // A failed push does not move the tag.
        const c = manifest('C');
        assert.equal((await store.putManifest('app', c, [ref(blob('absent'))], 'latest')).length, 1);
        assert.equal(await store.resolveTag('app', 'latest'), b.digest);
        // Deleting the manifest the tag used to name leaves the tag alone.
        assert.equal(await store.deleteManifest('app', a.digest), true);
        assert.equal(await store.resolveTag('app', 'latest'), b.digest);
      });

      test('concurrent pushes to one tag leave it naming exactly one of them', async ({ store }) => {
        const ms = Array.from({ length: 8 }, (_, i) => manifest(`concurrent ${i}`));
        const results = await Promise.all(ms.map((m) => store.putManifest('app', m, [], 'race')));
        assert.ok(results.every((r) => r.length === 0));
        const winner = await store.resolveTag('app', 'race');
        assert.ok(ms.some((m) => m.digest === winner));
        assert.deepEqual(await store.listTags('app', {}), { items: ['race'] });
      });

      test('deleteManifest removes the manifest and every tag naming it, and only those', async ({ store }) => {
        const a = manifest('A');
        const b = manifest('B');
        await store.putManifest('app', a, [], 't1');
        await store.putManifest('app', a, [], 't2');
        await store.putManifest('app', b, [], 't3');
        await store.putManifest('other', a, [], 't1');
        assert.equal(await store.deleteManifest('app', a.digest), true);
        assert.equal(await store.getManifest('app', a.digest), undefined);
        assert.equal(await store.resolveTag('app', 't1'), undefined);
        assert.equal(await store.resolveTag('app', 't2'), undefined);
        assert.equal(await store.resolveTag('app', 't3'), b.digest);
        assert.deepEqual(await store.listTags('app', {}), { items: ['t3'] });
        // The same digest in another repository is untouched.
        assert.equal(await store.resolveTag('other', 't1'), a.digest);
        assert.equal(await store.deleteManifest('app', a.digest), false);
        assert.equal(await store.deleteManifest('nowhere', a.digest), false);
      });

      test('deleteTag removes only the tag', async ({ store }) => {
        const m = manifest('tagged');
        await store.putManifest('app', m, [], 'v1');
        await store.putManifest('app', m, [], 'v1.0');
        assert.equal(await store.deleteTag('app', 'v1'), true);
        assert.equal(await store.resolveTag('app', 'v1'), undefined);
        assert.equal(await store.resolveTag('app', 'v1.0'), m.digest);
        assert.ok(await store.getManifest('app', m.digest));
        assert.equal(await store.deleteTag('app', 'v1'), false);
        assert.equal(await store.deleteTag('nowhere', 'v1'), false);
      });
    });

    describe('listings', () => {
      test('blobLinks lists every link of every repository, used or not, in (repository, digest) byte order, paged', async ({
        store,
      }) => {
        const [used, a, b] = [blob('used'), blob('a'), blob('b')];
        // 'app-x' < 'app/x' < 'app_x' in bytes; the order must not depend on a collation.
        const repos = ['app_x', 'app/x', 'app-x', 'B'];
        for (const repo of repos) for (const x of [used, a, b]) await store.linkBlob(repo, x.digest, x.size);
        await store.putManifest('app/x', manifest('image'), [ref(used)], 'v1');
        const expected = byteOrder(repos).flatMap((repository) =>
          byteOrder([used, a, b].map((x) => x.digest)).map((digest) => ({ repository, digest })),
        );
        const all = await store.blobLinks(100);
        assert.deepEqual(
          all.map((l) => ({ repository: l.repository, digest: l.digest })),
          expected,
        );
        for (const l of all) {
          assert.equal(l.size, [used, a, b].find((x) => x.digest === l.digest)!.size);
          assert.ok(l.linkedAt > 0);
        }
        const paged = [];
        let after: { repository: string; digest: string } | undefined;
        for (;;) {
          const page = await store.blobLinks(5, after);
          paged.push(...page);
          if (page.length < 5) break;
          after = page[page.length - 1];
        }
        assert.deepEqual(paged, all);
        assert.deepEqual(await store.blobLinks(10, all[all.length - 1]), []);
      });

      test('putManifest with taggedAt keeps the given push time for the tag', async ({ store }) => {
        const m = manifest('migrated');
        assert.deepEqual(await store.putManifest('app', m, [], 'old', { taggedAt: 1_234 }), []);
        await store.putManifest('app', m, [], 'new');
        const tags = (await store.repositoryInventory('app')).tags.sort((x, y) => (x.name < y.name ? -1 : 1));
        assert.equal(tags[0]!.name, 'new');
        assert.ok(tags[0]!.pushedAt > 1_234);
        assert.deepEqual(tags[1], { name: 'old', digest: m.digest, pushedAt: 1_234 });
      });

      // Upper case, digits, '.', '-', '_' in byte order: '-' < '.' < digits < upper < '_' < lower.
      const TAGS = [
        'latest',
        'v1.0',
        'v1.0-rc1',
        'v10',
        'v2',
        'V2',
        'A',
        'Z',
        '_x',
        '1.0',
        '1-0',
        'a',
        'sha256-abc.sig',
        'b__c',
        'latest-debug',
      ];

      test('listTags is in byte order and pages with a next cursor', async ({ store }) => {
        const m = manifest('tagged many times');
        for (const tag of TAGS) await store.putManifest('app', m, [], tag);
        const all = byteOrder(TAGS);
        assert.deepEqual(all.slice(0, 4), ['1-0', '1.0', 'A', 'V2']);
        assert.deepEqual(await store.listTags('app', {}), { items: all });
        for (const n of [1, 2, 3, 4, 5, TAGS.length - 1, TAGS.length, TAGS.length + 1]) {
          const pages = await pageAll((p) => store.listTags('app', p), n);
          assert.deepEqual(pages.flat(), all, `n=${n}`);
        }
        // Exactly the remaining entries: no next page.
        assert.deepEqual(await store.listTags('app', { n: TAGS.length }), { items: all });
        assert.deepEqual(await store.listTags('app', { n: 0 }), { items: [] });
        // last is a value, not an index, and need not exist.
        assert.deepEqual(await store.listTags('app', { last: 'v1.0-rc1' }), { items: ['v10', 'v2'] });
        assert.deepEqual(await store.listTags('app', { last: 'm' }), {
          items: all.filter((t) => Buffer.compare(enc(t), enc('m')) > 0),
        });
        assert.deepEqual(await store.listTags('app', { last: 'zzz' }), { items: [] });
        assert.deepEqual(await store.listTags('app', { n: 2, last: 'a' }), {
          items: ['b__c', 'latest'],
          next: 'latest',
        });
      });

      test('listTags: undefined for an unknown repository', async ({ store }) => {
        assert.equal(await store.listTags('nowhere', {}), undefined);
        assert.equal(await store.listTags('nowhere', { n: 5, last: 'a' }), undefined);
      });

      test('listRepositories: repositories holding a manifest, in byte order, paged', async ({ store }) => {
        const names = [
          'b',
          'a',
          'a-b',
          'a.b',
          'a/b',
          'a0',
          'a_b',
          'a__b',
          'ab',
          'library/alpine',
          'library/alpine-3',
          'z/z/z',
        ];
        const m = manifest('shared');
        for (const name of names) await store.putManifest(name, m, [], 'latest');
        // A repository with only blobs (or only an upload) is not listed.
        await store.linkBlob('blobs-only', blob('x').digest, 1);
        await store.createUpload(upload('upload-only', 1));
        const all = byteOrder(names);
        assert.deepEqual(all.slice(0, 5), ['a', 'a-b', 'a.b', 'a/b', 'a0']);
        assert.deepEqual(await store.listRepositories({}), { items: all });
        for (const n of [1, 3, names.length]) {
          assert.deepEqual((await pageAll((p) => store.listRepositories(p), n)).flat(), all, `n=${n}`);
        }
        assert.deepEqual(await store.listRepositories({ n: 0 }), { items: [] });
        assert.deepEqual(await store.listRepositories({ n: 2, last: 'a/b' }), { items: ['a0', 'a__b'], next: 'a__b' });
        // A repository whose last manifest is deleted drops out.
        await store.deleteManifest('b', m.digest);
        assert.ok(!(await store.listRepositories({})).items.includes('b'));
      });

      test('repositoryExists', async ({ store }) => {
        assert.equal(await store.repositoryExists('app'), false);
        await store.putManifest('app', manifest('m'), []);
        assert.equal(await store.repositoryExists('app'), true);
        assert.equal(await store.repositoryExists('app/sub'), false);
        assert.equal(await store.repositoryExists('ap'), false);
      });
    });

    describe('referencedBy', () => {
      test('lists the manifests that reference a digest, in this repository only', async ({ store }) => {
        const layer = blob('shared layer');
        await store.linkBlob('app', layer.digest, layer.size);
        await store.linkBlob('other', layer.digest, layer.size);
        const amd = manifest('amd64 image');
        const arm = manifest('arm64 image');
        await store.putManifest('app', amd, [ref(layer)]);
        await store.putManifest('app', arm, [ref(layer)]);
        const index = manifest('index', { mediaType: MT.ociIndex });
        await store.putManifest('app', index, [child(amd), child(arm)], 'v1');
        await store.putManifest('other', manifest('other image'), [ref(layer)]);
        assert.deepEqual(await store.referencedBy('app', amd.digest), [index.digest]);
        assert.deepEqual(await store.referencedBy('app', layer.digest), byteOrder([amd.digest, arm.digest]));
        assert.deepEqual(await store.referencedBy('app', index.digest), []);
        assert.deepEqual(await store.referencedBy('nowhere', amd.digest), []);
        await store.deleteManifest('app', index.digest);
        assert.deepEqual(await store.referencedBy('app', amd.digest), []);
      });
    });

    describe('referrers', () => {
      test('lists manifests whose subject matches, newest first, filtered by artifactType', async ({ store }) => {
        const subject = manifest('the image');
        await store.putManifest('app', subject, [], 'v1');
        const sbomOld = manifest('sbom old', {
          subject: subject.digest,
          artifactType: 'application/spdx+json',
          createdAt: 100,
          annotations: { 'org.opencontainers.image.created': 'old' },
        });
        const sig = manifest('signature', {
          subject: subject.digest,
          artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
          createdAt: 300,
        });
        const sbomNew = manifest('sbom new', {
          subject: subject.digest,
          artifactType: 'application/spdx+json',
          createdAt: 200,
        });
        const bundle = manifest('index referrer', { mediaType: MT.ociIndex, subject: subject.digest, createdAt: 250 });
        const unrelated = manifest('unrelated', { artifactType: 'application/spdx+json', createdAt: 400 });
        for (const m of [sbomOld, sig, sbomNew, bundle, unrelated])
          assert.deepEqual(await store.putManifest('app', m, []), []);
        // Same subject digest in another repository: not ours.
        await store.putManifest(
          'other',
          manifest('foreign sbom', { subject: subject.digest, artifactType: 'application/spdx+json', createdAt: 999 }),
          [],
        );

        const all = await store.referrers('app', subject.digest);
        assert.deepEqual(
          all.map((r) => r.digest),
          [sig.digest, bundle.digest, sbomNew.digest, sbomOld.digest],
        );
        const first = all[3]!;
        assert.equal(first.mediaType, MT.ociManifest);
        assert.equal(first.size, sbomOld.size);
        assert.equal(first.subject, subject.digest);
        assert.equal(first.artifactType, 'application/spdx+json');
        assert.deepEqual(first.annotations, { 'org.opencontainers.image.created': 'old' });
        assert.equal(first.createdAt, 100);
        assert.equal(all[1]!.artifactType, undefined);
        assert.equal(all[1]!.mediaType, MT.ociIndex);

        assert.deepEqual(
          (await store.referrers('app', subject.digest, 'application/spdx+json')).map((r) => r.digest),
          [sbomNew.digest, sbomOld.digest],
        );
        assert.deepEqual(await store.referrers('app', subject.digest, 'application/unknown'), []);
        assert.deepEqual(await store.referrers('app', blob('no such subject').digest), []);
        assert.deepEqual(await store.referrers('nowhere', subject.digest), []);
      });

      test('referrers of a subject that was never pushed, and after deletes', async ({ store }) => {
        const subject = blob('not pushed').digest;
        const sig = manifest('sig', { subject, artifactType: 'application/vnd.example.sig', createdAt: 1 });
        const sbom = manifest('sbom', { subject, artifactType: 'application/vnd.example.sbom', createdAt: 2 });
        await store.putManifest('app', sig, []);
        await store.putManifest('app', sbom, []);
        assert.deepEqual(
          (await store.referrers('app', subject)).map((r) => r.digest),
          [sbom.digest, sig.digest],
        );
        // Deleting a referrer removes it from the list.
        await store.deleteManifest('app', sbom.digest);
        assert.deepEqual(
          (await store.referrers('app', subject)).map((r) => r.digest),
          [sig.digest],
        );
      });

      test('deleting the subject keeps its referrers', async ({ store }) => {
        const subject = manifest('subject');
        await store.putManifest('app', subject, [], 'latest');
        const sig = manifest('sig', { subject: subject.digest, artifactType: 'application/vnd.example.sig' });
        await store.putManifest('app', sig, []);
        await store.deleteManifest('app', subject.digest);
        assert.deepEqual(
          (await store.referrers('app', subject.digest)).map((r) => r.digest),
          [sig.digest],
        );
      });
    });

    describe('access tokens', () => {
      test('a token reads back exactly as created, optional times absent', async ({ store }) => {
        const t = token('alice', 1_000, {
          note: 'ci',
          scopes: [
            { glob: 'alice/**', actions: ['pull'] },
            { glob: 'team/*', actions: ['pull', 'push', 'delete'] },
          ],
        });
        assert.equal(await store.getToken(t.id), undefined);
        await store.createToken(t);
        const got = await store.getToken(t.id);
        assert.deepEqual(got, t);
        assert.ok(Buffer.isBuffer(got?.secretHash));
        const expiring = token('alice', 2_000, { expiresAt: 9_000 });
        await store.createToken(expiring);
        assert.deepEqual(await store.getToken(expiring.id), expiring);
        await assert.rejects(store.createToken({ ...t, note: 'again' }), 'an id is never reused');
        assert.deepEqual(await store.getToken(t.id), t);
      });

      test('listTokens: by user, then creation time; or one user', async ({ store }) => {
        const tokens = [token('bob', 3), token('alice', 2), token('bob', 1), token('alice', 5)];
        for (const t of tokens) await store.createToken(t);
        assert.deepEqual(
          (await store.listTokens()).map((t) => [t.user, t.createdAt]),
          [
            ['alice', 2],
            ['alice', 5],
            ['bob', 1],
            ['bob', 3],
          ],
        );
        assert.deepEqual(
          (await store.listTokens('bob')).map((t) => t.createdAt),
          [1, 3],
        );
        assert.deepEqual(await store.listTokens('carol'), []);
      });

      test('revoke once; touch records the last use', async ({ store }) => {
        const t = token('alice', 1_000);
        await store.createToken(t);
        await store.touchToken(t.id, 1_500);
        assert.deepEqual(await store.getToken(t.id), { ...t, lastUsedAt: 1_500 });
        assert.equal(await store.revokeToken(t.id, 2_000), true);
        assert.equal(await store.revokeToken(t.id, 3_000), false, 'already revoked: the first time stays');
        assert.deepEqual(await store.getToken(t.id), { ...t, lastUsedAt: 1_500, revokedAt: 2_000 });
        assert.equal(await store.revokeToken('0123456789abcdef', 1), false);
        await store.touchToken('0123456789abcdef', 1); // unknown: not an error
        assert.deepEqual(
          (await store.listTokens()).map((x) => x.id),
          [t.id],
        );
      });
    });

    describe('pull-through cache bookkeeping', () => {
      test('upstream confirmations: per repository and key, the later time wins', async ({ store }) => {
        assert.equal(await store.upstreamConfirmedAt('hub/library/alpine', '3'), undefined);
        await store.confirmUpstream('hub/library/alpine', '3', 1_000);
        await store.confirmUpstream('hub/library/alpine', 'referrers:sha256:ab', 2_000);
        assert.equal(await store.upstreamConfirmedAt('hub/library/alpine', '3'), 1_000);
        assert.equal(await store.upstreamConfirmedAt('hub/library/alpine', 'referrers:sha256:ab'), 2_000);
        assert.equal(await store.upstreamConfirmedAt('hub/library/alpine', '3.20'), undefined);
        assert.equal(await store.upstreamConfirmedAt('hub/library/other', '3'), undefined);
        await store.confirmUpstream('hub/library/alpine', '3', 5_000);
        assert.equal(await store.upstreamConfirmedAt('hub/library/alpine', '3'), 5_000);
        // A replica that asked earlier and answers later does not move the time back.
        await store.confirmUpstream('hub/library/alpine', '3', 4_000);
        assert.equal(await store.upstreamConfirmedAt('hub/library/alpine', '3'), 5_000);
        // Large epoch milliseconds come back as numbers, exactly.
        await store.confirmUpstream('hub/library/alpine', 'latest', 1_796_421_413_532);
        assert.equal(await store.upstreamConfirmedAt('hub/library/alpine', 'latest'), 1_796_421_413_532);
      });
    });

    describe('garbage collection fence (docs/gc.md)', () => {
      const FUTURE = () => Date.now() + 60_000;

      test('claimBlob hands out a claim; linkBlob needs it and a live record', async ({ store }) => {
        const b = blob('layer');
        const claim = await store.claimBlob(b.digest, b.size, 1);
        assert.equal(typeof claim, 'number');
        assert.equal(await store.claimBlob(b.digest, b.size, 2), claim, 'claiming again refreshes the same record');
        assert.equal(
          await store.linkBlob('app', b.digest, b.size, claim! + 1000),
          false,
          'a claim that is not the record’s links nothing',
        );
        assert.equal(await store.blobLink('app', b.digest), undefined);
        assert.equal(await store.linkBlob('app', b.digest, b.size, claim), true);
        assert.deepEqual(await store.blobLink('app', b.digest), { size: b.size });
      });

      test('a blob marked for deletion refuses claims, links and mounts until it is forgotten; then a new claim differs', async ({
        store,
      }) => {
        const b = blob('layer');
        const claim = await store.claimBlob(b.digest, b.size, 1);
        const marked = await store.markBlobsForDeletion(FUTURE(), 0, 100, 5);
        assert.deepEqual(marked, [{ digest: b.digest, size: b.size }]);
        assert.equal(await store.claimBlob(b.digest, b.size, 6), undefined);
        assert.equal(await store.linkBlob('app', b.digest, b.size, claim), false);
        assert.equal(await store.linkBlob('app', b.digest, b.size), false, 'no claim: refused too while deleting');
        assert.equal(await store.blobLink('app', b.digest), undefined);
        await store.forgetBlobs([b.digest]);
        assert.equal(await store.linkBlob('app', b.digest, b.size, claim), false, 'the old claim died with the record');
        const again = await store.claimBlob(b.digest, b.size, 7);
        assert.notEqual(again, undefined);
        assert.notEqual(again, claim);
        assert.equal(await store.linkBlob('app', b.digest, b.size, again), true);
      });

      test('markBlobsForDeletion takes only unlinked blobs claimed before the cutoff, and abandoned marks', async ({
        store,
      }) => {
        const linked = blob('linked');
        const fresh = blob('fresh');
        const old = blob('old');
        await store.linkBlob('app', linked.digest, linked.size);
        await store.claimBlob(old.digest, old.size, 10);
        await store.claimBlob(fresh.digest, fresh.size, 1_000);
        assert.deepEqual(await store.unlinkedBlobs(500, 10), [{ digest: old.digest, size: old.size }]);
        assert.deepEqual(await store.markBlobsForDeletion(500, 0, 10, 600), [{ digest: old.digest, size: old.size }]);
        assert.deepEqual(await store.markBlobsForDeletion(500, 0, 10, 601), [], 'already marked and not abandoned');
        assert.deepEqual(
          await store.markBlobsForDeletion(500, 700, 10, 800),
          [{ digest: old.digest, size: old.size }],
          'a mark older than abandonedBefore is taken over',
        );
        const states = Object.fromEntries((await store.blobRecords(10)).map((r) => [r.digest, r.state]));
        assert.deepEqual(states, { [linked.digest]: 'live', [fresh.digest]: 'live', [old.digest]: 'deleting' });
      });

      test('markBlobsForDeletion goes on in digest order after `after`; taken-over marks come first, whatever their digest', async ({
        store,
      }) => {
        const blobs = ['m1', 'm2', 'm3', 'm4'].map((n) => blob(n)).sort((a, b) => (a.digest < b.digest ? -1 : 1));
        for (const b of blobs) await store.claimBlob(b.digest, b.size, 10);
        const first = await store.markBlobsForDeletion(500, 0, 2, 600);
        assert.deepEqual(
          first.map((r) => r.digest),
          blobs.slice(0, 2).map((b) => b.digest),
        );
        // A collector that died left the first two marked; the next takes them over, then goes on after `after`.
        const next = await store.markBlobsForDeletion(500, 700, 10, 800, blobs[2]!.digest);
        assert.deepEqual(
          next.map((r) => r.digest),
          [blobs[0]!.digest, blobs[1]!.digest, blobs[3]!.digest],
          'blobs[2] is not after the cursor: left for a scan from the start',
        );
        assert.deepEqual(
          (await store.markBlobsForDeletion(500, 0, 10, 900)).map((r) => r.digest),
          [blobs[2]!.digest],
        );
      });

      test('mountBlob links in one step, only from a repository that has the blob', async ({ store }) => {
        const b = blob('layer');
        await store.linkBlob('src', b.digest, b.size);
        assert.equal(await store.mountBlob('dst', 'nowhere', b.digest), undefined);
        assert.deepEqual(await store.mountBlob('dst', 'src', b.digest), { size: b.size });
        assert.deepEqual(await store.blobLink('dst', b.digest), { size: b.size });
      });

      test('markOrphanBlob records bytes without a record as deleting, never one that has a record', async ({
        store,
      }) => {
        const known = blob('known');
        const orphan = blob('orphan');
        await store.linkBlob('app', known.digest, known.size);
        assert.equal(await store.markOrphanBlob(known.digest, known.size, 1), false);
        assert.equal(await store.markOrphanBlob(orphan.digest, orphan.size, 1), true);
        assert.equal(await store.claimBlob(orphan.digest, orphan.size, 2), undefined);
        await store.forgetBlobs([orphan.digest]);
        assert.deepEqual(
          (await store.blobRecords(10)).map((r) => r.digest),
          [known.digest],
        );
      });
      test('forgetBlobs drops the records of a page at once, only those marked deleting', async ({ store }) => {
        const live = blob('live');
        await store.linkBlob('app', live.digest, live.size);
        const orphans = [blob('o1'), blob('o2'), blob('o3')];
        for (const o of orphans) assert.equal(await store.markOrphanBlob(o.digest, o.size, 1), true);
        await store.forgetBlobs([live.digest, ...orphans.slice(0, 2).map((o) => o.digest), blob('never').digest]);
        assert.deepEqual(
          (await store.blobRecords(10)).map((r) => r.digest).sort(),
          [live.digest, orphans[2]!.digest].sort(),
        );
        await store.forgetBlobs([]);
      });
    });

    describe('garbage collection of links and manifests', () => {
      test('unusedBlobLinks lists links no manifest of their repository uses, in (repository, digest) order, paged', async ({
        store,
      }) => {
        const used = blob('used');
        const a = blob('a');
        const b = blob('b');
        for (const repo of ['app', 'fork']) for (const x of [used, a, b]) await store.linkBlob(repo, x.digest, x.size);
        await store.putManifest('app', manifest('image'), [ref(used)], 'v1');
        const before = Date.now() + 60_000;
        const all = await store.unusedBlobLinks(before, 100);
        const expected = [
          ...[a, b].map((x) => ({ repository: 'app', digest: x.digest })),
          ...[used, a, b].map((x) => ({ repository: 'fork', digest: x.digest })),
        ].sort((x, y) => (x.repository + x.digest < y.repository + y.digest ? -1 : 1));
        assert.deepEqual(
          all.map((l) => ({ repository: l.repository, digest: l.digest })),
          expected,
        );
        const first = await store.unusedBlobLinks(before, 2);
        const rest = await store.unusedBlobLinks(before, 100, first[1]);
        assert.deepEqual(
          [...first, ...rest].map((l) => l.digest),
          all.map((l) => l.digest),
        );
        assert.deepEqual(await store.unusedBlobLinks(0, 100), [], 'nothing is older than the epoch');
      });

      test('removeUnusedBlobLinks re-checks each link of the page: one a manifest took meanwhile stays', async ({
        store,
      }) => {
        const layer = blob('layer');
        const free = blob('free');
        await store.linkBlob('app', layer.digest, layer.size);
        await store.linkBlob('app', free.digest, free.size);
        await store.linkBlob('fork', free.digest, free.size);
        const before = Date.now() + 60_000;
        const page = await store.unusedBlobLinks(before, 10);
        assert.equal(page.length, 3);
        // Between the listing and the removal a manifest PUT takes one of them.
        await store.putManifest('app', manifest('image'), [ref(layer)], 'v1');
        assert.deepEqual(await store.removeUnusedBlobLinks(page, 0), [], 'too recent: nothing goes');
        const removed = await store.removeUnusedBlobLinks(
          [...page, { repository: 'nowhere', digest: free.digest }, { repository: 'app', digest: blob('x').digest }],
          before,
        );
        assert.deepEqual(
          removed.sort((x, y) => (x.repository < y.repository ? -1 : 1)),
          [
            { repository: 'app', digest: free.digest },
            { repository: 'fork', digest: free.digest },
          ],
        );
        assert.deepEqual(await store.blobLink('app', layer.digest), { size: layer.size });
        assert.equal(await store.blobLink('app', free.digest), undefined);
        assert.equal(await store.blobLink('fork', free.digest), undefined);
        assert.deepEqual(await store.removeUnusedBlobLinks(page, before), [], 'gone already, or in use');
        assert.deepEqual(await store.removeUnusedBlobLinks([], before), []);
      });

      test('a manifest PUT after the link was removed fails with the blob unmet; the blob then has no links', async ({
        store,
      }) => {
        const layer = blob('layer');
        await store.linkBlob('app', layer.digest, layer.size);
        assert.deepEqual(
          await store.removeUnusedBlobLinks([{ repository: 'app', digest: layer.digest }], Date.now() + 60_000),
          [{ repository: 'app', digest: layer.digest }],
        );
        const unmet = await store.putManifest('app', manifest('image'), [ref(layer)], 'v1');
        assert.deepEqual(
          unmet.map((u) => u.problem),
          ['missing'],
        );
        assert.deepEqual(await store.unlinkedBlobs(Date.now() + 60_000, 10), [
          { digest: layer.digest, size: layer.size },
        ]);
      });

      test('deleting a manifest releases its links: their grace period starts again', async ({ store }) => {
        const layer = blob('layer');
        await store.linkBlob('app', layer.digest, layer.size);
        const m = manifest('image');
        await store.putManifest('app', m, [ref(layer)], 'v1');
        const linkedBefore = (await store.unusedBlobLinks(Date.now() + 60_000, 10)).length;
        assert.equal(linkedBefore, 0);
        const beforeDelete = Date.now();
        await new Promise((r) => setTimeout(r, 5));
        await store.deleteManifest('app', m.digest);
        assert.deepEqual(await store.unusedBlobLinks(beforeDelete, 10), [], 'released after beforeDelete');
        const [link] = await store.unusedBlobLinks(Date.now() + 60_000, 10);
        assert.ok(link && link.linkedAt > beforeDelete);
      });

      test('repositoryInventory: tags with push times, manifests with subject, artifact type, pulls and references', async ({
        store,
      }) => {
        const layer = blob('layer');
        await store.linkBlob('app', layer.digest, layer.size);
        const img = manifest('image', { createdAt: 10 });
        await store.putManifest('app', img, [ref(layer)], 'v1');
        const idx = manifest('index', { mediaType: MT.ociIndex, createdAt: 11 });
        await store.putManifest('app', idx, [child(img)], 'multi');
        const sig = manifest('sig', {
          subject: img.digest,
          artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
          createdAt: 12,
        });
        await store.putManifest('app', sig, []);
        await store.recordPulls([
          { repository: 'app', digest: img.digest, at: 500 },
          { repository: 'app', digest: idx.digest, at: 400 },
        ]);
        await store.recordPulls([{ repository: 'app', digest: img.digest, at: 300 }]);
        const inv = await store.repositoryInventory('app');
        assert.deepEqual(inv.tags.map((t) => [t.name, t.digest]).sort(), [
          ['multi', idx.digest],
          ['v1', img.digest],
        ]);
        assert.ok(inv.tags.every((t) => typeof t.pushedAt === 'number' && t.pushedAt > 0));
        const byDigest = new Map(inv.manifests.map((m) => [m.digest, m]));
        assert.deepEqual(byDigest.get(img.digest), {
          digest: img.digest,
          mediaType: MT.ociManifest,
          createdAt: 10,
          pulledAt: 500,
          references: [layer.digest],
        });
        assert.deepEqual(byDigest.get(idx.digest)?.references, [img.digest]);
        assert.equal(byDigest.get(idx.digest)?.pulledAt, 400);
        assert.deepEqual(byDigest.get(sig.digest), {
          digest: sig.digest,
          mediaType: MT.ociManifest,
          subject: img.digest,
          artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
          createdAt: 12,
          references: [],
        });
        assert.deepEqual(await store.repositoryInventory('nowhere'), { tags: [], manifests: [] });
      });

      test('deleteTagIf deletes only while the tag still names the digest', async ({ store }) => {
        const a = manifest('a');
        const b = manifest('b');
        await store.putManifest('app', a, [], 'v1');
        await store.putManifest('app', b, [], 'v1');
        assert.equal(await store.deleteTagIf('app', 'v1', a.digest), false, 'moved meanwhile: the push wins');
        assert.equal(await store.resolveTag('app', 'v1'), b.digest);
        assert.equal(await store.deleteTagIf('app', 'v1', b.digest), true);
        assert.equal(await store.resolveTag('app', 'v1'), undefined);
        assert.equal(await store.deleteTagIf('nowhere', 'v1', b.digest), false);
      });

      test('deleteManifestIfUnused: never a tagged, referenced or recent manifest', async ({ store }) => {
        const img = manifest('image', { createdAt: 10 });
        const idx = manifest('index', { mediaType: MT.ociIndex, createdAt: 10 });
        const loose = manifest('loose', { createdAt: 10 });
        await store.putManifest('app', img, []);
        await store.putManifest('app', idx, [child(img)], 'multi');
        await store.putManifest('app', loose, []);
        assert.equal(await store.deleteManifestIfUnused('app', idx.digest, 100), 'tagged');
        assert.equal(await store.deleteManifestIfUnused('app', img.digest, 100), 'referenced');
        assert.equal(await store.deleteManifestIfUnused('app', loose.digest, 10), 'recent');
        assert.equal(await store.deleteManifestIfUnused('app', manifest('never').digest, 100), 'absent');
        assert.equal(await store.deleteManifestIfUnused('app', loose.digest, 100), 'deleted');
        assert.equal(await store.getManifest('app', loose.digest), undefined);
        await store.deleteTag('app', 'multi');
        assert.equal(await store.deleteManifestIfUnused('app', idx.digest, 100), 'deleted');
        assert.equal(await store.deleteManifestIfUnused('app', img.digest, 100), 'deleted', 'its parent went first');
      });
    });

    describe('fsck', () => {
      test('blobRecords says when each record was claimed; markBlobForDeletion takes one unlinked, old, live blob', async ({
        store,
      }) => {
        const linked = blob('linked');
        const old = blob('old');
        const fresh = blob('fresh');
        await store.linkBlob('app', linked.digest, linked.size);
        await store.claimBlob(old.digest, old.size, 10);
        await store.claimBlob(fresh.digest, fresh.size, 1_000);
        const claimed = Object.fromEntries((await store.blobRecords(10)).map((r) => [r.digest, r.claimedAt]));
        assert.equal(claimed[old.digest], 10);
        assert.equal(claimed[fresh.digest], 1_000);
        assert.equal(await store.markBlobForDeletion(linked.digest, Date.now() + 60_000, 5), false, 'linked');
        assert.equal(await store.markBlobForDeletion(fresh.digest, 500, 5), false, 'claimed after the cutoff');
        assert.equal(await store.markBlobForDeletion(blob('none').digest, 500, 5), false, 'no record');
        assert.equal(await store.markBlobForDeletion(old.digest, 500, 5), true);
        assert.equal(await store.markBlobForDeletion(old.digest, 500, 6), false, 'already deleting');
        assert.equal(await store.claimBlob(old.digest, old.size, 7), undefined, 'the fence holds');
        const states = Object.fromEntries((await store.blobRecords(10)).map((r) => [r.digest, r.state]));
        assert.deepEqual(states, { [linked.digest]: 'live', [fresh.digest]: 'live', [old.digest]: 'deleting' });
      });

      test('brokenBlobLinks and danglingTags find what damage left, paged in order; deleteDanglingTag removes only those', async ({
        store,
        damage,
      }, t) => {
        if (!damage) return t.skip('this driver has no SQL to damage');
        const lost = blob('lost');
        const resized = blob('resized');
        for (const repo of ['a', 'b']) {
          await store.linkBlob(repo, lost.digest, lost.size);
          await store.linkBlob(repo, resized.digest, resized.size);
        }
        const m = manifest('{"tagged":1}');
        assert.deepEqual(await store.putManifest('a', m, [], 'v1'), []);
        assert.deepEqual(await store.putManifest('a', manifest('{"kept":1}'), [], 'v2'), []);
        assert.deepEqual(await store.putManifest('b', m, [], 'w'), []);
        await damage(`DELETE FROM blobs WHERE digest = '${lost.digest}'`);
        await damage(`UPDATE blobs SET size = ${resized.size + 5} WHERE digest = '${resized.digest}'`);
        await damage(`DELETE FROM manifests WHERE digest = '${m.digest}'`);
        const all = await store.brokenBlobLinks(10);
        const expected = [
          ['a', lost.digest, undefined],
          ['a', resized.digest, resized.size + 5],
          ['b', lost.digest, undefined],
          ['b', resized.digest, resized.size + 5],
        ].sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : x[1]! < y[1]! ? -1 : 1));
        assert.deepEqual(
          all.map((l) => [l.repository, l.digest, l.recordSize]),
          expected,
        );
        assert.ok(all.every((l) => l.size === (l.digest === lost.digest ? lost.size : resized.size)));
        const first = await store.brokenBlobLinks(3);
        const rest = await store.brokenBlobLinks(3, first[2]!);
        assert.deepEqual([...first, ...rest], all);
        assert.deepEqual(await store.danglingTags(10), [
          { repository: 'a', tag: 'v1', digest: m.digest },
          { repository: 'b', tag: 'w', digest: m.digest },
        ]);
        assert.deepEqual(await store.danglingTags(10, { repository: 'a', tag: 'v1' }), [
          { repository: 'b', tag: 'w', digest: m.digest },
        ]);
        assert.equal(await store.deleteDanglingTag('a', 'v2'), false, 'v2 names a stored manifest');
        assert.equal(await store.deleteDanglingTag('a', 'v1'), true);
        assert.equal(await store.resolveTag('a', 'v1'), undefined);
        assert.equal(await store.resolveTag('a', 'v2'), manifest('{"kept":1}').digest);
        assert.deepEqual(await store.putManifest('b', m, [], 'w'), [], 'pushed again: the tag is good again');
        assert.equal(await store.deleteDanglingTag('b', 'w'), false);
        assert.deepEqual(await store.danglingTags(10), []);
      });

      test('danglingTags finds none while every tag names a stored manifest; deleteDanglingTag never removes a good one', async ({
        store,
      }) => {
        const m = manifest('{"a":1}');
        assert.deepEqual(await store.putManifest('app', m, [], 'v1'), []);
        assert.deepEqual(await store.putManifest('app', manifest('{"b":1}'), [], 'v2'), []);
        assert.deepEqual(await store.danglingTags(10), []);
        assert.equal(await store.deleteDanglingTag('app', 'v1'), false, 'names a stored manifest');
        assert.equal(await store.deleteDanglingTag('app', 'none'), false);
        assert.equal(await store.deleteDanglingTag('nowhere', 'v1'), false);
        assert.equal(await store.resolveTag('app', 'v1'), m.digest);
        assert.deepEqual(await store.brokenBlobLinks(10), [], 'nothing the API does breaks a link');
      });
    });

    describe('immutable tags', () => {
      test('putManifest with keepTag never moves an existing tag (DENIED, nothing written); the same manifest and new tags are fine', async ({
        store,
      }) => {
        const a = manifest('a');
        const b = manifest('b');
        assert.deepEqual(await store.putManifest('app', a, [], 'v1', { keepTag: true }), [], 'a new tag');
        assert.deepEqual(
          await store.putManifest('app', a, [], 'v1', { keepTag: true }),
          [],
          'the identical manifest again',
        );
        await assert.rejects(
          store.putManifest('app', b, [], 'v1', { keepTag: true }),
          (e: Error & { code?: string }) => e.code === 'DENIED',
        );
        assert.equal(await store.resolveTag('app', 'v1'), a.digest);
        assert.equal(await store.getManifest('app', b.digest), undefined, 'the refused manifest was not stored');
        const both = await Promise.allSettled([
          store.putManifest('app', a, [], 'v2', { keepTag: true }),
          store.putManifest('app', b, [], 'v2', { keepTag: true }),
        ]);
        assert.equal(
          both.filter((r) => r.status === 'fulfilled').length,
          1,
          'two first pushes of one immutable tag: exactly one wins',
        );
      });
    });

    describe('quotas: check and commit in one transaction', () => {
      const denied = (e: Error & { code?: string; detail?: unknown }) => e.code === 'DENIED';

      test('linkBlob and mountBlob with a bytes quota: DENIED with usage and limit, nothing written; a blob the namespace links already is free', async ({
        store,
      }) => {
        const quota = { namespace: 'team', bytes: 100 };
        const a = blob('a'.repeat(60));
        const b = blob('b'.repeat(50));
        assert.equal(await store.linkBlob('team/one', a.digest, a.size, undefined, quota), true);
        await assert.rejects(
          store.linkBlob('team/two', b.digest, b.size, undefined, quota),
          (e: Error & { detail?: unknown }) => {
            assert.ok(denied(e));
            assert.match(
              e.message,
              /storage quota of namespace team exceeded: 60 of 100 bytes used, this push needs 50 more/,
            );
            assert.deepEqual(e.detail, { namespace: 'team', usage: 60, limit: 100, needed: 50 });
            return true;
          },
        );
        assert.equal(await store.blobLink('team/two', b.digest), undefined, 'nothing linked');
        assert.equal(await store.repositoryExists('team/two'), false, 'no repository made');
        assert.equal(
          (await store.blobRecords(100)).some((r) => r.digest === b.digest),
          false,
          'no blob record made',
        );
        // Counted once per namespace: linking it into another repository of it costs nothing.
        assert.equal(await store.linkBlob('team/two', a.digest, a.size, undefined, quota), true);
        assert.deepEqual(await store.mountBlob('team/three', 'team/one', a.digest, quota), { size: a.size });
        // A mount that would bring new bytes into a full namespace is refused too.
        await store.linkBlob('other', b.digest, b.size);
        await assert.rejects(store.mountBlob('team/one', 'other', b.digest, quota), denied);
        assert.equal(await store.blobLink('team/one', b.digest), undefined);
        assert.equal((await store.namespaceUsage('team')).bytes, a.size);
      });

      test('two links that each fit but together exceed the quota: exactly one is committed', async ({ store }) => {
        const quota = { namespace: 'race', bytes: 100 };
        for (let round = 0; round < 5; round++) {
          const ns = `race${round}`;
          const q = { ...quota, namespace: ns };
          const x = blob(`x${round}`.repeat(30));
          const y = blob(`y${round}`.repeat(30));
          const claims = await Promise.all([
            store.claimBlob(x.digest, x.size, 1),
            store.claimBlob(y.digest, y.size, 1),
          ]);
          const results = await Promise.allSettled([
            store.linkBlob(`${ns}/a`, x.digest, x.size, claims[0], q),
            store.linkBlob(`${ns}/b`, y.digest, y.size, claims[1], q),
          ]);
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}: one wins`);
          const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
          assert.ok(denied(loser.reason as Error & { code?: string }));
          assert.ok((await store.namespaceUsage(ns)).bytes <= 100, 'never over the quota');
        }
      });

      test('putManifest with limits: manifests and tags per repository, manifest bytes per namespace; DENIED writes nothing', async ({
        store,
      }) => {
        const quota = { namespace: 'app', manifestsPerRepository: 2, tagsPerRepository: 2 };
        const [m1, m2, m3] = [manifest('m1'), manifest('m2'), manifest('m3')];
        assert.deepEqual(await store.putManifest('app', m1, [], 't1', { quota }), []);
        assert.deepEqual(await store.putManifest('app', m2, [], 't2', { quota }), []);
        assert.deepEqual(await store.putManifest('app', m1, [], 't2', { quota }), [], 'moving a tag is not a new tag');
        await assert.rejects(store.putManifest('app', m1, [], 't3', { quota }), (e: Error) => {
          assert.ok(denied(e));
          assert.match(e.message, /tag limit of app reached: 2 of 2 tags/);
          return true;
        });
        assert.equal(await store.resolveTag('app', 't3'), undefined);
        await assert.rejects(store.putManifest('app', m3, [], undefined, { quota }), (e: Error) => {
          assert.ok(denied(e));
          assert.match(e.message, /manifest limit of app reached: 2 of 2 manifests/);
          return true;
        });
        assert.equal(await store.getManifest('app', m3.digest), undefined);
        assert.deepEqual(
          await store.putManifest('app', m2, [], undefined, { quota }),
          [],
          'an existing manifest again',
        );
        // Bytes: a manifest new to the namespace counts its size; one there already (another repository) does not.
        const small = { namespace: 'ns', bytes: m1.size + 1 };
        assert.deepEqual(await store.putManifest('ns/a', m1, [], 'v1', { quota: small }), []);
        assert.deepEqual(await store.putManifest('ns/b', m1, [], 'v1', { quota: small }), [], 'counted once');
        await assert.rejects(store.putManifest('ns/b', m2, [], 'v2', { quota: small }), denied);
        assert.equal(await store.getManifest('ns/b', m2.digest), undefined);
      });

      test('concurrent manifest PUTs that each fit but together exceed a limit: not both committed', async ({
        store,
      }) => {
        const quota = { namespace: 'busy', manifestsPerRepository: 1 };
        const pushes = await Promise.allSettled(
          ['p1', 'p2', 'p3'].map((n) => store.putManifest('busy', manifest(n), [], n, { quota })),
        );
        assert.equal(pushes.filter((r) => r.status === 'fulfilled').length, 1);
        assert.equal((await store.repositoryCounts('busy')).manifests, 1);
        const bytes = { namespace: 'tight', bytes: manifest('q1').size + 1 };
        const both = await Promise.allSettled(
          ['q1', 'q2'].map((n) => store.putManifest(`tight/${n}`, manifest(n), [], 'v1', { quota: bytes })),
        );
        assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1);
        assert.ok((await store.namespaceUsage('tight')).bytes <= bytes.bytes);
      });
    });

    describe('usage', () => {
      test('namespaceUsage counts each blob once per namespace, plus manifests; repositoryCounts', async ({
        store,
      }) => {
        const shared = blob('shared layer');
        const own = blob('own');
        for (const repo of ['team/a', 'team/b/deep', 'teamx/c']) await store.linkBlob(repo, shared.digest, shared.size);
        await store.linkBlob('team/a', own.digest, own.size);
        const m = manifest('image');
        await store.putManifest('team/a', m, [ref(shared)], 'v1');
        await store.putManifest('team/b/deep', m, [ref(shared)], 'v1');
        await store.putManifest('team/b/deep', m, [ref(shared)], 'v2');
        assert.deepEqual(await store.namespaceUsage('team'), {
          bytes: shared.size + own.size + m.size,
          blobs: 2,
          manifests: 1,
          repositories: 2,
        });
        assert.deepEqual(await store.namespaceUsage('teamx'), {
          bytes: shared.size,
          blobs: 1,
          manifests: 0,
          repositories: 0,
        });
        assert.deepEqual(await store.namespaceUsage('none'), { bytes: 0, blobs: 0, manifests: 0, repositories: 0 });
        assert.deepEqual(await store.repositoryCounts('team/b/deep'), { tags: 2, manifests: 1 });
        assert.deepEqual(await store.repositoryCounts('nowhere'), { tags: 0, manifests: 0 });
        assert.equal(await store.namespaceLinks('team', own.digest), true);
        assert.equal(await store.namespaceLinks('teamx', own.digest), false);
        assert.equal(await store.namespaceLinks('teamx', shared.digest), true);
      });

      test('storageStats keeps per-namespace links and manifests, and blob totals, as they change', async ({
        store,
      }) => {
        const shared = blob('shared layer');
        const own = blob('own layer');
        for (const repo of ['team/a', 'team/b/deep', 'solo']) await store.linkBlob(repo, shared.digest, shared.size);
        await store.linkBlob('team/a', own.digest, own.size);
        await store.linkBlob('team/a', own.digest, own.size); // linked again: no new link
        const m = manifest('stats image');
        await store.putManifest('team/a', m, [ref(shared)], 'v1');
        await store.putManifest('team/a', m, [ref(shared)], 'v2'); // same manifest, another tag
        const stats = await store.storageStats();
        const team = stats.namespaces.find((n) => n.namespace === 'team');
        assert.deepEqual(team, {
          namespace: 'team',
          blobLinks: 3,
          blobBytes: 2 * shared.size + own.size,
          manifests: 1,
          manifestBytes: m.size,
        });
        assert.deepEqual(
          stats.namespaces.find((n) => n.namespace === 'solo'),
          {
            namespace: 'solo',
            blobLinks: 1,
            blobBytes: shared.size,
            manifests: 0,
            manifestBytes: 0,
          },
        );
        assert.equal(stats.blobs, 2);
        assert.equal(stats.blobBytes, shared.size + own.size);
        assert.equal(await store.deleteManifest('team/a', m.digest), true);
        assert.equal(await store.unlinkBlob('team/a', own.digest), 'removed');
        const after = await store.storageStats();
        assert.deepEqual(
          after.namespaces.find((n) => n.namespace === 'team'),
          { namespace: 'team', blobLinks: 2, blobBytes: 2 * shared.size, manifests: 0, manifestBytes: 0 },
        );
        assert.equal(after.blobs, 2, 'blob records stay until the collector forgets them');
      });
    });

    describe('event outbox', () => {
      const ev = (
        kind: RegistryEvent['kind'],
        repository: string,
        extra: Partial<RegistryEvent> = {},
      ): RegistryEvent => ({
        id: randomUUID(),
        kind,
        at: 5_000,
        repository,
        ...extra,
      });

      test('records events with the write that makes them, with what the transaction found', async ({ store }) => {
        const a = manifest('outbox a');
        const b = manifest('outbox b');
        const seen: ManifestWriteFacts[] = [];
        const events = (digest: string) => (facts: ManifestWriteFacts) => {
          seen.push(facts);
          return [ev('manifest.pushed', 'ob', { digest, tag: 'v1' })];
        };
        await store.putManifest('ob', a, [], 'v1', { events: events(a.digest) });
        await store.putManifest('ob', b, [], 'v1', { events: events(b.digest) });
        assert.deepEqual(seen, [{ repositoryCreated: true }, { repositoryCreated: false, previousDigest: a.digest }]);
        const missing = blob('not there');
        await store.putManifest('ob', manifest('refused'), [ref(missing)], 'v2', { events: events('never') });
        assert.equal(await store.deleteTag('ob', 'nope', [ev('tag.deleted', 'ob', { tag: 'nope' })]), false);
        assert.equal(await store.deleteTag('ob', 'v1', [ev('tag.deleted', 'ob', { tag: 'v1' })]), true);
        assert.equal(
          await store.deleteManifest('ob', a.digest, [ev('manifest.deleted', 'ob', { digest: a.digest })]),
          true,
        );
        const all = await store.eventsAfter(0, 100);
        assert.deepEqual(
          all.map((e) => [e.event.kind, e.event.digest ?? e.event.tag]),
          [
            ['manifest.pushed', a.digest],
            ['manifest.pushed', b.digest],
            ['tag.deleted', 'v1'],
            ['manifest.deleted', a.digest],
          ],
          'a refused write and a delete of nothing record no event',
        );
        assert.ok(all.every((e, i) => i === 0 || e.seq > all[i - 1]!.seq));
        assert.deepEqual(await store.eventsAfter(all[1]!.seq, 1), [all[2]]);
        assert.deepEqual(await store.getEvents([all[3]!.seq]), [all[3]]);
      });

      test('keeps a cursor and delivery rows per endpoint; requeues failed ones', async ({ store }) => {
        await store.putManifest('oc', manifest('cursor'), [], 'v1', {
          events: () => [ev('manifest.pushed', 'oc'), ev('tag.moved', 'oc')],
        });
        const [first, second] = await store.eventsAfter(0, 10);
        assert.equal(await store.eventCursor('hook'), 0);
        await store.recordDelivery(
          {
            endpoint: 'hook',
            seq: first!.seq,
            state: 'pending',
            attempts: 1,
            lastError: 'HTTP 500',
            nextAt: 9,
            updatedAt: 1,
          },
          false,
        );
        assert.equal(await store.eventCursor('hook'), 0);
        await store.recordDelivery(
          { endpoint: 'hook', seq: first!.seq, state: 'failed', attempts: 2, updatedAt: 2 },
          true,
        );
        assert.equal(await store.eventCursor('hook'), first!.seq);
        await store.advanceEventCursor('hook', second!.seq);
        await store.advanceEventCursor('hook', first!.seq);
        assert.equal(await store.eventCursor('hook'), second!.seq, 'a cursor never moves back');
        assert.equal(await store.eventCursor('other'), 0);
        assert.deepEqual(await store.deliveries({ endpoint: 'hook', state: 'failed', limit: 10 }), [
          { endpoint: 'hook', seq: first!.seq, state: 'failed', attempts: 2, updatedAt: 2 },
        ]);
        assert.equal(await store.requeueDeliveries('other'), 0);
        assert.equal(await store.requeueDeliveries('hook'), 1);
        assert.equal((await store.deliveries({ state: 'requeued', limit: 10 }))[0]?.seq, first!.seq);
        assert.equal(await store.pruneEvents(second!.seq, 10_000), 1, 'the requeued event is kept');
        assert.deepEqual(await store.eventsAfter(0, 10), [first]);
      });
    });

    describe('operations', () => {
      test('check resolves while the store is usable, rejects once it is closed', async ({ store }) => {
        await store.check();
        await store.close();
        await assert.rejects(store.check());
      });

      test('runExclusive runs a job once at a time and says whether it ran', async ({ store }) => {
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let runs = 0;
        const first = store.runExclusive('expiry', async () => {
          runs++;
          await gate;
        });
        // Let the first take the job, then a second attempt must be refused.
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(await store.runExclusive('expiry', async () => void runs++), false);
        let other = false;
        assert.equal(await store.runExclusive('another job', async () => void (other = true)), true);
        assert.ok(other);
        release();
        assert.equal(await first, true);
        assert.equal(runs, 1);
        assert.equal(await store.runExclusive('expiry', async () => void runs++), true);
        assert.equal(runs, 2);
        // A job that throws is released too.
        await assert.rejects(
          store.runExclusive('expiry', async () => Promise.reject(new Error('boom'))),
          /boom/,
        );
        assert.equal(await store.runExclusive('expiry', async () => void runs++), true);
      });
    });

    describe('browsing (src/storage/browse.ts)', () => {
      const image = (name: string, layers: { digest: string; size: number }[], config = blob(`config of ${name}`)) =>
        manifest(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MT.ociManifest,
            config: { mediaType: MT.ociConfig, ...config },
            layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
            annotations: { name },
          }),
          // What the registry records for an image: its config type.
          { artifactType: MT.ociConfig },
        );
      const chart = (version: string) =>
        manifest(
          JSON.stringify({
            schemaVersion: 2,
            config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', ...blob(`chart ${version}`) },
            layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', ...blob(`tgz ${version}`) }],
          }),
        );
      const signature = (subject: ManifestRecord, createdAt: number) =>
        manifest(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MT.ociManifest,
            artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
            config: { mediaType: MT.ociEmpty, digest: blob('{}').digest, size: 2 },
            layers: [],
            subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
          }),
          { subject: subject.digest, createdAt },
        );
      const index = (children: ManifestRecord[], platforms: string[]) =>
        manifest(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MT.ociIndex,
            manifests: children.map((c, i) => {
              const [os, architecture, variant] = platforms[i]!.split('/');
              return {
                mediaType: c.mediaType,
                digest: c.digest,
                size: c.size,
                platform: { os, architecture, ...(variant ? { variant } : {}) },
              };
            }),
          }),
          { mediaType: MT.ociIndex },
        );
      /** Links the blobs an image needs and puts it (tagged at `at`). */
      async function pushImage(
        store: MetadataStore,
        repo: string,
        m: ManifestRecord,
        tag: string | undefined,
        at: number,
      ) {
        const doc = JSON.parse(m.content.toString('utf8'));
        const refs = [ref(doc.config, 'config'), ...doc.layers.map((l: { digest: string; size: number }) => ref(l))];
        for (const r of refs) await store.linkBlob(repo, r.digest, r.size);
        assert.deepEqual(await store.putManifest(repo, m, refs, tag, { taggedAt: at }), []);
        return refs as ManifestReference[];
      }

      test('searchRepositories: names holding a manifest, in byte order after a cursor, by text and by kind', async ({
        store,
      }) => {
        const l = blob('layer');
        for (const repo of ['team/web', 'team-x/api', 'charts/redis', 'team/db']) {
          if (repo.startsWith('charts/')) {
            const c = chart('1.0.0');
            const doc = JSON.parse(c.content.toString('utf8'));
            for (const d of [doc.config, ...doc.layers]) await store.linkBlob(repo, d.digest, d.size);
            await store.putManifest(repo, c, [ref(doc.config, 'config'), ref(doc.layers[0])], '1.0.0');
          } else await pushImage(store, repo, image(repo, [l]), 'latest', 5);
        }
        await store.linkBlob('only/links', l.digest, l.size);
        const all = await store.searchRepositories({ limit: 100 });
        assert.deepEqual(all, byteOrder(['team/web', 'team-x/api', 'charts/redis', 'team/db']));
        assert.deepEqual(await store.searchRepositories({ limit: 2 }), all.slice(0, 2));
        assert.deepEqual(await store.searchRepositories({ limit: 100, after: all[1]! }), all.slice(2));
        assert.deepEqual(await store.searchRepositories({ limit: 100, q: 'TEAM/' }), ['team/db', 'team/web']);
        assert.deepEqual(await store.searchRepositories({ limit: 100, kind: 'helm-chart' }), ['charts/redis']);
        assert.deepEqual(await store.searchRepositories({ limit: 100, kind: 'image', q: 'x' }), ['team-x/api']);
        assert.deepEqual(await store.searchRepositories({ limit: 100, kind: 'flux-artifact' }), []);
      });

      test('repositorySummaries: kind, counts, size and last push, in the order asked', async ({ store }) => {
        const [l1, l2, shared] = [blob('l1'), blob('l2'), blob('shared')];
        const amd = image('amd64', [l1, shared]);
        const arm = image('arm64', [l2, shared]);
        await pushImage(store, 'multi', amd, undefined, 0);
        await pushImage(store, 'multi', arm, undefined, 0);
        const idx = index([amd, arm], ['linux/amd64', 'linux/arm64/v8']);
        await store.putManifest('multi', idx, [child(amd), child(arm)], 'v1', { taggedAt: 100 });
        // The newest tag is a signature: the repository is still a multi-arch image.
        const sig = signature(idx, 200);
        await store.putManifest('multi', sig, [], 'sha256-x.sig', { taggedAt: 300 });
        const plain = image('plain', [l1]);
        await pushImage(store, 'plain', plain, 'a', 10);
        await pushImage(store, 'plain', image('plain2', [l2]), 'b', 20);

        const got = await store.repositorySummaries(['plain', 'nope', 'multi']);
        assert.deepEqual(
          got.map((r) => r.name),
          ['plain', 'multi'],
        );
        const [p, m] = got;
        assert.equal(p!.kind, 'image');
        assert.equal(p!.tags, 2);
        assert.equal(p!.manifests, 2);
        assert.equal(p!.lastPush, 20);
        const multiLinks = [l1, l2, shared, blob('config of amd64'), blob('config of arm64')];
        assert.equal(m!.kind, 'index');
        assert.equal(m!.tags, 2);
        assert.equal(m!.manifests, 4);
        assert.equal(m!.lastPush, 300);
        assert.equal(
          m!.size,
          multiLinks.reduce((n, b) => n + b.size, 0) + [amd, arm, idx, sig].reduce((n, x) => n + x.size, 0),
        );
        // Untagged, a repository is the kind of its newest manifest.
        await pushImage(store, 'untagged', image('u', [l1]), undefined, 0);
        assert.equal((await store.repositorySummaries(['untagged']))[0]!.lastPush, undefined);
        assert.equal((await store.repositorySummaries(['untagged']))[0]!.kind, 'image');
      });

      test('tagDetails: by push time and by name with cursors, or by names; size, kind, platforms, signed', async ({
        store,
      }) => {
        const [l1, l2, shared] = [blob('l1'), blob('l2'), blob('shared')];
        const amd = image('amd64', [l1, shared]);
        const arm = image('arm64', [l2, shared]);
        const amdRefs = await pushImage(store, 'app', amd, undefined, 0);
        const armRefs = await pushImage(store, 'app', arm, undefined, 0);
        const idx = index([amd, arm], ['linux/amd64', 'linux/arm/v7']);
        await store.putManifest('app', idx, [child(amd), child(arm)], 'multi', { taggedAt: 300 });
        const single = image('single', [l1]);
        await pushImage(store, 'app', single, 'b-single', 200);
        await store.putManifest('app', single, [], 'a-single', { taggedAt: 200 });
        await store.putManifest('app', signature(single, 400), [], undefined);
        const legacy = image('legacy-signed', [l2]);
        await pushImage(store, 'app', legacy, 'legacy', 100);
        await store.putManifest('app', signature(legacy, 50), [], `sha256-${legacy.digest.slice(7)}.sig`, {
          taggedAt: 50,
        });
        await store.recordPulls([{ repository: 'app', digest: single.digest, at: 777 }]);

        const all = await store.tagDetails('app', { order: 'pushed', limit: 100 });
        assert.deepEqual(
          all.map((t) => t.name),
          ['multi', 'a-single', 'b-single', 'legacy', `sha256-${legacy.digest.slice(7)}.sig`],
        );
        const multi = all[0]!;
        assert.equal(multi.kind, 'index');
        assert.equal(multi.mediaType, MT.ociIndex);
        assert.deepEqual(multi.platforms, ['linux/amd64', 'linux/arm/v7']);
        assert.equal(multi.signed, false);
        assert.equal(multi.pushedAt, 300);
        const distinct = new Map<string, number>([
          [idx.digest, idx.size],
          [amd.digest, amd.size],
          [arm.digest, arm.size],
        ]);
        for (const r of [...amdRefs, ...armRefs]) distinct.set(r.digest, r.size);
        assert.equal(
          multi.size,
          [...distinct.values()].reduce((a, b) => a + b, 0),
          'shared layers counted once',
        );
        const a = all[1]!;
        assert.equal(a.kind, 'image');
        assert.equal(a.artifactType, MT.ociConfig);
        assert.equal(a.signed, true, 'a referrer of kind signature');
        assert.equal(a.pulledAt, 777);
        assert.equal(a.platforms, undefined);
        assert.equal(a.size, single.size + blob('config of single').size + l1.size);
        assert.equal(all[3]!.signed, true, "cosign's legacy .sig tag");
        assert.equal(all[4]!.kind, 'signature');
        assert.equal(all[2]!.pulledAt, 777, 'pulls are per manifest');

        // Walking by push time with a cursor of (pushedAt, name) sees every tag once, ties included.
        const walked: string[] = [];
        let after: { pushedAt: number; name: string } | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await store.tagDetails('app', { order: 'pushed', limit: 2, ...(after ? { after } : {}) });
          walked.push(...page.map((t) => t.name));
          if (page.length < 2) break;
          after = { pushedAt: page[1]!.pushedAt, name: page[1]!.name };
        }
        assert.deepEqual(
          walked,
          all.map((t) => t.name),
        );
        const byName = await store.tagDetails('app', { order: 'name', limit: 3, after: 'a-single' });
        assert.deepEqual(
          byName.map((t) => t.name),
          ['b-single', 'legacy', 'multi'],
        );
        const named = await store.tagDetails('app', { names: ['multi', 'nope', 'legacy'] });
        assert.deepEqual(
          named.map((t) => t.name),
          ['multi', 'legacy'],
        );
        assert.deepEqual(named[0], multi);
        assert.deepEqual(await store.tagDetails('nope', { order: 'name', limit: 5 }), []);
      });
    });

    describe('durability', () => {
      test('a reopened store holds everything', async (f, t) => {
        if (!f.reopen) return t.skip(`${driver} has no persistence`);
        const { store } = f;
        const u = upload('app', 42, 'alice');
        await store.createUpload(u);
        const layer = blob('layer');
        await store.linkBlob('app', layer.digest, layer.size);
        const img = manifest('image', { annotations: { a: 'b' }, createdAt: 7 });
        await store.putManifest('app', img, [ref(layer)], 'v1');
        const sig = manifest('sig', { subject: img.digest, artifactType: 'application/vnd.example.sig', createdAt: 8 });
        await store.putManifest('app', sig, [], 'sig');
        const pat = token('alice', 9, { expiresAt: 99 });
        await store.createToken(pat);
        await store.revokeToken(pat.id, 50);
        await store.confirmUpstream('hub/app', 'v1', 60);
        await store.close();

        const again = await f.reopen();
        try {
          assert.deepEqual(await again.getUpload(u.id), u);
          assert.deepEqual(
            (await again.staleUploads(100)).map((x) => x.id),
            [u.id],
          );
          assert.deepEqual(await again.blobLink('app', layer.digest), { size: layer.size });
          const got = await again.getManifest('app', img.digest);
          assert.ok(got?.content.equals(img.content));
          assert.deepEqual(got?.annotations, { a: 'b' });
          assert.equal(got?.createdAt, 7);
          assert.equal(await again.resolveTag('app', 'v1'), img.digest);
          assert.deepEqual(await again.listTags('app', {}), { items: ['sig', 'v1'] });
          assert.deepEqual(await again.listRepositories({}), { items: ['app'] });
          assert.deepEqual(
            (await again.referrers('app', img.digest)).map((r) => r.digest),
            [sig.digest],
          );
          assert.equal(await again.unlinkBlob('app', layer.digest), 'referenced', 'references survive too');
          assert.equal(await again.repositoryExists('app'), true);
          assert.deepEqual(await again.getToken(pat.id), { ...pat, revokedAt: 50 });
          assert.equal(await again.upstreamConfirmedAt('hub/app', 'v1'), 60, 'tag TTLs survive a restart');
        } finally {
          await again.close();
        }
      });
    });
  });
}
