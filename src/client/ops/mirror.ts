/**
 * Registry to registry mirroring: every tag of a repository that passes the filters is
 * copied with its referrers unless the destination already has the same digest under
 * that tag — so a second run copies nothing, except referrers (signatures, SBOMs)
 * added upstream since, which are copied on their own. With `onlySigned`, a tag is
 * copied only when a signature of its digest verifies at the source.
 *
 * Several repositories: `mirrorRepositories` takes a repository glob, lists the
 * source's catalog and mirrors each match under the same name (after an optional
 * prefix), reporting per repository.
 *
 *   const r = await mirror(client, parseReference('src/team/app', { defaultTag: null }), dstRef, { semver: '>=1' });
 */
import { compileGlob, GlobError } from '../../core/repository-glob.js';
import { parseConstraint, parseVersion, SemverError } from '../../gocompat/semver.js';
import type { VerificationPolicy } from '../../sign/bundle-check.js';
import type { Destination, RegistryClient } from '../client.js';
import { clientError, isClientError } from '../errors.js';
import { pushGraph, type PushStats } from '../graph.js';
import { formatReference, type Reference } from '../reference.js';
import { copyAttached } from './copy.js';
import { verifyReference } from './verify.js';

export interface MirrorFilters {
  includeTags?: string;
  excludeTags?: string;
  /** A Masterminds range; tags that are not versions never match it. */
  semver?: string;
}

export interface MirrorOptions extends MirrorFilters {
  dryRun?: boolean;
  /** Copy referrers and cosign's tags with each tag (default true). */
  referrers?: boolean;
  /** Copy only tags whose digest has a signature that verifies under this policy. */
  onlySigned?: VerificationPolicy;
  /** Where to write; by default the client's repository `dst` names. */
  destination?: Destination;
  /** Told as each tag starts and ends (progress displays, logs). */
  onTag?: (e: MirrorTagEvent) => void;
}

export interface MirrorTagEvent {
  repository: string;
  tag: string;
  /** 1-based position among the tags that passed the filters. */
  index: number;
  total: number;
  state: 'start' | 'done';
  result?: MirrorTagResult;
}

export interface MirrorTagResult {
  tag: string;
  digest: string;
  action: 'copied' | 'would-copy' | 'unchanged' | 'failed';
  /**
   * Why it is (or would be) copied: absent at the destination, pointing elsewhere, or
   * the same digest with referrers the destination lacks.
   */
  reason?: 'missing' | 'changed' | 'new-referrers';
  /** Bytes of blobs uploaded for it (referrers included). */
  bytes?: number;
  /** Referrers and cosign tags copied (or that would be) with it. */
  referrers?: number;
  /** Failed: what went wrong. */
  error?: string;
}

export interface MirrorResult {
  source: string;
  destination: string;
  tags: MirrorTagResult[];
  /** Left out by a filter, or (onlySigned) unsigned or not verifying: with the reason. */
  skipped: { tag: string; reason: string }[];
  copied: number;
  unchanged: number;
  failed: number;
  /** Bytes of blobs uploaded. */
  bytes: number;
  dryRun: boolean;
}

/** The filters as one predicate (cosign's sha256-….sig/.att/.sbom tags travel with their subject instead). */
export function tagFilter(f: MirrorFilters): (tag: string) => string | undefined {
  const include = f.includeTags ? new RegExp(f.includeTags) : undefined;
  const exclude = f.excludeTags ? new RegExp(f.excludeTags) : undefined;
  const range = f.semver ? parseConstraint(f.semver) : undefined;
  return (tag) => {
    if (/^sha256-[0-9a-f]{64}(\.[a-z]+)?$/.test(tag)) return 'attached tag (travels with its subject)';
    if (include && !include.test(tag)) return 'not matched by --include-tags';
    if (exclude && exclude.test(tag)) return 'matched by --exclude-tags';
    if (range) {
      try {
        if (!range.check(parseVersion(tag))) return 'outside the semver range';
      } catch (e) {
        if (e instanceof SemverError) return 'not a version';
        throw e;
      }
    }
    return undefined;
  };
}

/** Why verification refused a digest, for the skipped list; undefined when it verified. */
async function unsignedReason(
  client: RegistryClient,
  src: Reference,
  tag: string,
  digest: string,
  policy: VerificationPolicy,
): Promise<string | undefined> {
  try {
    await verifyReference(client, { ...src, tag, digest: undefined }, digest, policy);
    return undefined;
  } catch (e) {
    if (isClientError(e, 'SIGNATURE_NOT_FOUND')) return 'unsigned: no signature found';
    if (isClientError(e, 'SIGNATURE_INVALID')) return `signature does not verify: ${e.message}`;
    throw e;
  }
}

const emptyStats = (): PushStats => ({ uploaded: 0, mounted: 0, existed: 0, uploadedBytes: 0, manifests: 0 });

/** Mirrors `src` (a repository) into `dst` (a repository), tag by tag. */
export async function mirror(
  client: RegistryClient,
  src: Reference,
  dst: Reference,
  opts: MirrorOptions = {},
): Promise<MirrorResult> {
  let skip: (tag: string) => string | undefined;
  try {
    skip = tagFilter(opts);
  } catch (e) {
    throw clientError('INVALID_ARGUMENT', { message: `bad filter: ${(e as Error).message}` });
  }
  const from = client.repository(src);
  const to = opts.destination ?? client.repository(dst);
  const withReferrers = opts.referrers !== false;
  const result: MirrorResult = {
    source: formatReference({ registry: src.registry, repository: src.repository }),
    destination: formatReference({ registry: dst.registry, repository: dst.repository }),
    tags: [],
    skipped: [],
    copied: 0,
    unchanged: 0,
    failed: 0,
    bytes: 0,
    dryRun: opts.dryRun === true,
  };
  const selected: string[] = [];
  for (const tag of (await from.tags()).sort()) {
    const why = skip(tag);
    if (why) result.skipped.push({ tag, reason: why });
    else selected.push(tag);
  }
  const total = selected.length;
  for (const [i, tag] of selected.entries()) {
    const event = { repository: result.source, tag, index: i + 1, total };
    opts.onTag?.({ ...event, state: 'start' });
    let r: MirrorTagResult | { skipped: string };
    try {
      r = await mirrorTag(tag);
    } catch (e) {
      if (!isClientError(e)) throw e;
      r = { tag, digest: '', action: 'failed', error: e.message };
    }
    if ('skipped' in r) {
      result.skipped.push({ tag, reason: r.skipped });
      opts.onTag?.({ ...event, state: 'done' });
      continue;
    }
    result.tags.push(r);
    if (r.action === 'copied') result.copied++;
    else if (r.action === 'unchanged') result.unchanged++;
    else if (r.action === 'failed') result.failed++;
    result.bytes += r.bytes ?? 0;
    opts.onTag?.({ ...event, state: 'done', result: r });
  }
  return result;

  async function mirrorTag(tag: string): Promise<MirrorTagResult | { skipped: string }> {
    const root = await from.resolve(tag);
    const existing = await to.manifestExists(tag, { push: true });
    const stats = emptyStats();
    if (existing?.digest === root.digest) {
      // The same digest: only referrers pushed upstream since the last run are missing.
      const late = withReferrers
        ? await copyAttached(from, to, root, stats, { onlyMissing: true, dryRun: opts.dryRun === true })
        : { referrers: [], tags: [] };
      const n = late.referrers.length + late.tags.length;
      if (n === 0) return { tag, digest: root.digest, action: 'unchanged' };
      return {
        tag,
        digest: root.digest,
        action: opts.dryRun ? 'would-copy' : 'copied',
        reason: 'new-referrers',
        referrers: n,
        bytes: stats.uploadedBytes,
      };
    }
    if (opts.onlySigned) {
      const refused = await unsignedReason(client, src, tag, root.digest, opts.onlySigned);
      if (refused) return { skipped: refused };
    }
    const reason = existing ? 'changed' : 'missing';
    if (opts.dryRun) return { tag, digest: root.digest, action: 'would-copy', reason };
    const pushed = await pushGraph(from, to, root, { tags: [tag] });
    const attached = withReferrers
      ? await copyAttached(from, to, root, pushed.stats, { onlyMissing: true })
      : { referrers: [], tags: [] };
    return {
      tag,
      digest: root.digest,
      action: 'copied',
      reason,
      bytes: pushed.stats.uploadedBytes,
      referrers: attached.referrers.length + attached.tags.length,
    };
  }
}

export interface RepositoriesMirrorResult {
  source: string;
  destination: string;
  repositories: (MirrorResult | { source: string; destination: string; error: string })[];
  copied: number;
  unchanged: number;
  skipped: number;
  failed: number;
  bytes: number;
  dryRun: boolean;
}

/**
 * Is this source text a set of repositories rather than one: `host/team/**`,
 * `host/team/*`, `host/team/` (the namespace: everything below it), or the host alone?
 * Returns the registry and the repository glob when it is.
 */
export function parseRepositorySet(text: string): { registry: string; glob: string } | undefined {
  const slash = text.indexOf('/');
  const registry = slash < 0 ? text : text.slice(0, slash);
  const path = slash < 0 ? '' : text.slice(slash + 1);
  if (!/[.:]|^localhost$/.test(registry)) return undefined; // not a host: a Docker Hub name
  let glob: string;
  if (path === '' || path === '**') glob = '**';
  else if (path.endsWith('/')) glob = `${path}**`;
  else if (/[*?]/.test(path)) glob = path;
  else return undefined;
  try {
    compileGlob(glob);
  } catch (e) {
    if (e instanceof GlobError) throw clientError('INVALID_ARGUMENT', { message: e.message });
    throw e;
  }
  return { registry, glob };
}

/**
 * Mirrors every repository of `registry`'s catalog that `glob` matches into
 * `dst.registry`, each under its own name after `prefix` (`prefix/team/app`).
 * A repository that fails is reported and the others go on.
 */
export async function mirrorRepositories(
  client: RegistryClient,
  source: { registry: string; glob: string },
  dst: { registry: string; prefix?: string },
  opts: Omit<MirrorOptions, 'destination'> & { destination?: (repository: string) => Destination } = {},
): Promise<RepositoriesMirrorResult> {
  const match = compileGlob(source.glob);
  const names = (await client.catalog(source.registry)).filter((n) => match.test(n)).sort();
  const prefix = dst.prefix?.replace(/^\/+|\/+$/g, '');
  const result: RepositoriesMirrorResult = {
    source: `${source.registry}/${source.glob}`,
    destination: prefix ? `${dst.registry}/${prefix}/` : `${dst.registry}/`,
    repositories: [],
    copied: 0,
    unchanged: 0,
    skipped: 0,
    failed: 0,
    bytes: 0,
    dryRun: opts.dryRun === true,
  };
  for (const name of names) {
    const target = prefix ? `${prefix}/${name}` : name;
    const { destination, ...rest } = opts;
    try {
      const r = await mirror(
        client,
        { registry: source.registry, repository: name },
        { registry: dst.registry, repository: target },
        { ...rest, ...(destination ? { destination: destination(target) } : {}) },
      );
      result.repositories.push(r);
      result.copied += r.copied;
      result.unchanged += r.unchanged;
      result.skipped += r.skipped.length;
      result.failed += r.failed;
      result.bytes += r.bytes;
    } catch (e) {
      if (!isClientError(e)) throw e;
      result.repositories.push({
        source: `${source.registry}/${name}`,
        destination: `${dst.registry}/${target}`,
        error: e.message,
      });
      result.failed++;
    }
  }
  return result;
}
