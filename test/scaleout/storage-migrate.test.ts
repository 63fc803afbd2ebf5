/**
 * `stowage storage migrate` end to end with the real services: a registry on the
 * embedded stores, filled by real pushes (a multi-layer image, a multi-arch index,
 * a Helm chart, a cosign signature referrer, a personal access token), moved to
 * PostgreSQL + S3 (radosgw) and served from there; a migration killed with
 * SIGKILL in the middle and run again; and the way back to fresh embedded stores.
 * Each time every tag → digest, every manifest's and blob's bytes and every
 * referrers list is compared over HTTP, and skopeo pulls with the token.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { CLI, startStowage, type StowageProcess } from '../helpers/server.js';
import { freshDatabase, freshPrefix, s3Settings } from '../helpers/services.js';
import { skopeoCopy } from '../helpers/interop.js';
import { createMultiArchLayout, OciLayout, randomLayer } from '../helpers/oci-fixtures.js';
import { PASSWORDS, writeUsers } from '../auth/helpers.js';
import { S3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import type { MigrationReport } from '../../src/storage/storage-migration.js';
import {
  createContainersSandbox,
  makeTempDir,
  removeDir,
  requireTool,
  run,
  type ContainersSandbox,
} from '../helpers/tools.js';

const OCI_MEDIA_TYPES_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** Everything a client can read: tag → digest, and the bytes' digest of every manifest, blob and referrers list. */
type Snapshot = Record<string, string>;

async function snapshot(url: string, auth?: string): Promise<Snapshot> {
  const headers: Record<string, string> = auth
    ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` }
    : {};
  const get = async (path: string, accept?: string) => {
    const res = await fetch(`${url}${path}`, { headers: { ...headers, ...(accept ? { Accept: accept } : {}) } });
    assert.equal(res.status, 200, `GET ${path}: ${res.status} ${await res.clone().text()}`);
    return res;
  };
  const out: Snapshot = {};
  const { repositories } = (await (await get('/v2/_catalog?n=1000')).json()) as { repositories: string[] };
  for (const repo of repositories) {
    const seen = new Set<string>();
    const walk = async (digest: string): Promise<void> => {
      if (seen.has(digest)) return;
      seen.add(digest);
      const res = await get(`/v2/${repo}/manifests/${digest}`, OCI_MEDIA_TYPES_ACCEPT);
      const bytes = Buffer.from(await res.arrayBuffer());
      out[`${repo}@${digest}`] =
        `sha256:${createHash('sha256').update(bytes).digest('hex')} ${res.headers.get('content-type')}`;
      const doc = JSON.parse(bytes.toString('utf8')) as {
        manifests?: { digest: string }[];
        config?: { digest: string };
        layers?: { digest: string }[];
      };
      for (const child of doc.manifests ?? []) await walk(child.digest);
      for (const blob of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
        // Follows the redirect to the presigned URL on S3 (fetch drops Authorization across origins).
        const hash = createHash('sha256');
        for await (const chunk of (await get(`/v2/${repo}/blobs/${blob.digest}`)).body!) hash.update(chunk);
        out[`${repo}@${blob.digest}`] = `sha256:${hash.digest('hex')}`;
      }
      const referrers = (await (await get(`/v2/${repo}/referrers/${digest}`)).json()) as {
        manifests: { digest: string; artifactType?: string }[];
      };
      if (referrers.manifests.length > 0)
        out[`${repo} referrers of ${digest}`] = referrers.manifests
          .map((m) => `${m.digest} ${m.artifactType}`)
          .sort()
          .join(',');
      for (const r of referrers.manifests) await walk(r.digest);
    };
    const { tags } = (await (await get(`/v2/${repo}/tags/list`)).json()) as { tags: string[] };
    for (const tag of tags) {
      const digest = (await get(`/v2/${repo}/manifests/${tag}`, OCI_MEDIA_TYPES_ACCEPT)).headers.get(
        'docker-content-digest',
      )!;
      out[`${repo}:${tag}`] = digest;
      await walk(digest);
    }
  }
  return out;
}

interface Side {
  file: string;
  data: string;
}

describe('stowage storage migrate', () => {
  let work: string;
  let sb: ContainersSandbox;
  const drops: (() => Promise<void>)[] = [];
  let embedded: Side;
  let scaled: Side;
  let expected: Snapshot;
  let pat: string;
  const env: Record<string, string> = {};

  /** A config file: data dir, basic auth with the test users (the PAT's user), and the given storage. */
  async function side(name: string, storage?: Record<string, unknown>): Promise<Side> {
    const data = join(work, name);
    await mkdir(data, { recursive: true });
    await writeUsers(join(data, 'htpasswd'), ['alice']);
    const file = join(work, `${name}.yaml`);
    await writeFile(
      file,
      stringify({
        data,
        fsync: false,
        auth: {
          mode: 'basic',
          htpasswd: join(data, 'htpasswd'),
          policy: { rules: [{ repositories: ['**'], who: ['authenticated'], actions: ['pull', 'push', 'delete'] }] },
        },
        ...(storage ? { storage } : {}),
      }),
    );
    return { file, data };
  }

  async function scaledSide(name: string): Promise<Side & { prefix: string }> {
    const s3 = await s3Settings();
    const db = await freshDatabase();
    drops.push(db.drop);
    const prefix = freshPrefix();
    const storage = {
      blobs: {
        driver: 's3',
        endpoint: s3.endpoint,
        region: s3.region,
        bucket: s3.bucket,
        access_key_id: s3.accessKeyId,
        secret_access_key: s3.secretAccessKey,
        path_style: true,
        prefix,
      },
      metadata: { driver: 'postgres', url: db.url, pool: 4 },
    };
    return { ...(await side(name, storage)), prefix };
  }

  const serve = (s: Side): Promise<StowageProcess> =>
    startStowage({ dataDir: s.data, args: ['--config', s.file], env });

  async function migrate(from: Side, to: Side): Promise<MigrationReport> {
    const r = await run(
      process.execPath,
      [CLI, 'storage', 'migrate', '--from', from.file, '--to', to.file, '--output', 'json'],
      {
        env,
        allowFailure: true,
        timeoutMs: 300_000,
      },
    );
    assert.equal(r.code, 0, `storage migrate failed:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout) as MigrationReport;
  }

  async function stowage(args: string[]): Promise<string> {
    return (await run(process.execPath, [CLI, ...args], { env, timeoutMs: 120_000 })).stdout;
  }

  /** The registry serves what the source did, and skopeo pulls an image with the access token. */
  async function assertServesTheSame(s: Side): Promise<void> {
    const proc = await serve(s);
    try {
      assert.deepEqual(await snapshot(proc.url, `alice:${PASSWORDS.alice}`), expected);
      const out = join(work, `pulled-${Date.now()}`);
      await skopeoCopy(sb, `docker://${proc.host}/app/web:v1`, `oci:${out}:v1`, ['--src-creds', `alice:${pat}`]);
      const wrong = await fetch(`${proc.url}/v2/app/web/tags/list`, {
        headers: { Authorization: `Basic ${Buffer.from('alice:not-the-token').toString('base64')}` },
      });
      assert.equal(wrong.status, 401);
    } finally {
      await proc.stop();
    }
  }

  before(async () => {
    requireTool('skopeo');
    work = await makeTempDir('storage-migrate');
    sb = await createContainersSandbox('storage-migrate');
    env.HOME = join(work, 'home');
    env.DOCKER_CONFIG = join(work, 'home', '.docker');
    env.COSIGN_PASSWORD = 'migrate-test';
    await mkdir(env.DOCKER_CONFIG, { recursive: true });
    embedded = await side('embedded');
    const auth = `alice:${PASSWORDS.alice}`;

    // Fill the embedded registry through real clients.
    const source = await serve(embedded);
    try {
      const creds = ['--dest-creds', auth];
      const layout = await OciLayout.create(join(work, 'layout'));
      // A layer big enough that a migration killed on the first finished blob is in the middle of one.
      await layout.addImage({
        layers: [randomLayer('big', 24_000_000), randomLayer('mid', 300_000), randomLayer('top')],
        tag: 'v1',
      });
      await skopeoCopy(sb, `oci:${join(work, 'layout')}:v1`, `docker://${source.host}/app/web:v1`, creds);
      await skopeoCopy(sb, `oci:${join(work, 'layout')}:v1`, `docker://${source.host}/app/web:stable`, creds);
      await skopeoCopy(sb, `oci:${join(work, 'layout')}:v1`, `docker://${source.host}/mirror/web:v1`, creds);
      await createMultiArchLayout(join(work, 'multi'), [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ]);
      await skopeoCopy(sb, `oci:${join(work, 'multi')}:multi`, `docker://${source.host}/app/multi:2.0`, [
        '--all',
        ...creds,
      ]);
      await run(process.execPath, [CLI, 'login', source.host, '-u', 'alice', '--password-stdin'], {
        env,
        input: PASSWORDS.alice,
      });
      await stowage(['chart', 'create', join(work, 'mychart')]);
      await stowage(['chart', 'package', join(work, 'mychart'), '--destination', work]);
      await stowage(['chart', 'push', join(work, 'mychart-0.1.0.tgz'), `oci://${source.host}/charts`]);
      await stowage(['key', 'generate', '--output-key-prefix', join(work, 'cosign')]);
      await stowage(['sign', '--key', join(work, 'cosign.key'), `${source.host}/app/web:v1`]);
      pat = (
        await stowage(['token', 'create', '--config', embedded.file, '--user', 'alice', '--scope', 'app/**:pull'])
      ).trim();
      // A pull, so there is a pull time to carry over.
      await skopeoCopy(sb, `docker://${source.host}/app/web:v1`, `oci:${join(work, 'pull0')}:v1`, [
        '--src-creds',
        `alice:${pat}`,
      ]);
      expected = await snapshot(source.url, auth);
    } finally {
      await source.stop();
    }
    assert.ok(
      Object.keys(expected).some((k) => k.includes(' referrers of ')),
      'the signature is a referrer',
    );
    assert.ok(expected['charts/mychart:0.1.0'], 'the chart was pushed');
    assert.ok(expected['app/web:sha256-' + expected['app/web:v1']!.slice(7) + '.sig'], 'the legacy .sig tag');
  });

  after(async () => {
    await Promise.allSettled(drops.map((d) => d()));
    await Promise.allSettled([sb?.cleanup(), work ? removeDir(work) : undefined]);
  });

  it('moves the embedded registry to PostgreSQL + S3, which then serves the same digests to the same tags', async () => {
    scaled = await scaledSide('scaled');
    const report = await migrate(embedded, scaled);
    assert.deepEqual(report.failures, []);
    const tags = Object.keys(expected).filter((k) => /^[^@ ]+:[^@ ]+$/.test(k)).length;
    assert.equal(report.tags.copied, tags);
    assert.equal(report.repositories, 4);
    assert.ok(report.manifests.copied >= 7, `manifests: ${JSON.stringify(report.manifests)}`);
    assert.ok(report.referrers >= 1);
    assert.deepEqual(report.tokens, { copied: 1, skipped: 0, failed: 0 });
    assert.equal(report.pulls >= 1, true, 'the pull time is carried');
    assert.equal(report.blobs.skipped, 0);
    assert.ok(report.bytes.copied > 24_000_000);
    await assertServesTheSame(scaled);

    // Run again: everything is there, nothing is copied twice.
    const again = await migrate(embedded, scaled);
    assert.deepEqual(
      [again.blobs.copied, again.links.copied, again.manifests.copied, again.tags.copied, again.tokens.copied],
      [0, 0, 0, 0, 0],
    );
    assert.equal(again.blobs.skipped, report.blobs.copied);
    assert.equal(again.tags.skipped, tags);
  });

  it('killed with SIGKILL in the middle, a second run finishes it: nothing duplicated, nothing corrupt', async () => {
    const target = await scaledSide('killed');
    const child = spawn(
      process.execPath,
      [CLI, 'storage', 'migrate', '--from', embedded.file, '--to', target.file, '--jobs', '1'],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const lines: string[] = [];
    const exited = new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_c, s) => res(s)));
    // Plain progress lines (stderr is not a terminal): kill on the first blob copied, the next one is in flight.
    for await (const line of createInterface({ input: child.stderr })) {
      lines.push(line);
      if (/^blob sha256:\S+ copied/.test(line)) {
        child.kill('SIGKILL');
        break;
      }
    }
    assert.equal(await exited, 'SIGKILL', `the migration ended before it was killed:\n${lines.join('\n')}`);

    const report = await migrate(embedded, target);
    assert.deepEqual(report.failures, []);
    assert.ok(report.blobs.skipped >= 1, `the first run's blob is skipped: ${JSON.stringify(report.blobs)}`);
    await assertServesTheSame(target);

    // One object per blob, no session left behind.
    const store = new S3BlobStore({ ...(await s3Settings()), pathStyle: true, prefix: target.prefix });
    try {
      const blobs: string[] = [];
      for await (const b of store.listBlobs()) blobs.push(b.digest);
      assert.equal(new Set(blobs).size, blobs.length);
      assert.equal(blobs.length, report.blobs.copied + report.blobs.skipped);
      assert.deepEqual(await store.listUploads(), []);
    } finally {
      await store.close();
    }
  });

  it('moves it back from PostgreSQL + S3 to fresh embedded stores, with the same digests', async () => {
    assert.ok(scaled, 'the first migration ran');
    const back = await side('back');
    const report = await migrate(scaled, back);
    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.tokens, { copied: 1, skipped: 0, failed: 0 });
    await assertServesTheSame(back);
  });

  it('refuses a destination that is the source', async () => {
    const r = await run(process.execPath, [CLI, 'storage', 'migrate', '--from', embedded.file, '--to', embedded.file], {
      env,
      allowFailure: true,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /overlap/);
  });
});
