/**
 * Seeds Distribution by writing its storage layout directly (filesystem or S3),
 * for the tag-list and catalog scenarios: 100,000 tags through its API take many
 * minutes on S3, where a tag is a handful of S3 requests. The manifest, its blobs
 * and its revision link are pushed through the API first (so they are exactly
 * Distribution's own); then each further tag gets its `current/link`, and each
 * further repository its revision link, `latest` tag link and `_layers` links,
 * which is what GET by tag, blob GETs, the tag list and the catalog read. Left
 * out: the per-tag index link (`index/sha256/<hex>/link`, a history read only by
 * tag lookups by digest and by deletes).
 *
 * Layout (2.8): <root>/docker/registry/v2/repositories/<name>/_manifests/
 *   tags/<tag>/current/link, revisions/sha256/<hex>/link, and
 *   .../<name>/_layers/sha256/<hex>/link  (each holds the digest).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client, type S3Settings } from './s3-client.js';

export type DistributionStorage = { kind: 'filesystem'; root: string } | { kind: 's3'; s3: S3Settings; root: string };

const CONCURRENCY = 64;

async function parallel(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** Writes `files` (path under the v2 root → contents). */
export async function writeLayout(storage: DistributionStorage, files: [string, string | Buffer][]): Promise<void> {
  const v2 = 'docker/registry/v2';
  if (storage.kind === 'filesystem') {
    await parallel(files.length, CONCURRENCY, async (i) => {
      const [rel, body] = files[i]!;
      const file = path.join(storage.root, v2, rel);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, body);
    });
    return;
  }
  const client = s3Client(storage.s3, CONCURRENCY);
  const prefix = storage.root.replace(/^\/+/, '').replace(/\/*$/, '/');
  try {
    await parallel(files.length, CONCURRENCY, async (i) => {
      const [rel, body] = files[i]!;
      await client.send(new PutObjectCommand({ Bucket: storage.s3.bucket, Key: `${prefix}${v2}/${rel}`, Body: body }));
    });
  } finally {
    client.destroy();
  }
}

/** Tags `tags` of `repo` point at `digest` (a manifest already pushed to `repo` through the API). */
export function seedTags(storage: DistributionStorage, repo: string, digest: string, tags: string[]): Promise<void> {
  return writeLayout(
    storage,
    tags.map((t) => [`repositories/${repo}/_manifests/tags/${t}/current/link`, digest]),
  );
}

/**
 * Repositories `repos`, each with `digest` (pushed through the API elsewhere)
 * tagged `latest` and its `blobs` linked (2.8's catalog knows a repository by
 * its `_layers` directory).
 */
export function seedRepositories(
  storage: DistributionStorage,
  repos: string[],
  digest: string,
  blobs: string[],
): Promise<void> {
  const hex = (d: string) => d.replace(/^sha256:/, '');
  return writeLayout(
    storage,
    repos.flatMap((r): [string, string][] => [
      [`repositories/${r}/_manifests/revisions/sha256/${hex(digest)}/link`, digest],
      [`repositories/${r}/_manifests/tags/latest/current/link`, digest],
      ...blobs.map((b): [string, string] => [`repositories/${r}/_layers/sha256/${hex(b)}/link`, b]),
    ]),
  );
}
