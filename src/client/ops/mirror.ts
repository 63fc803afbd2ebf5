/**
 * Registry to registry mirroring: every tag of a repository that passes the filters is
 * copied (with its referrers, through copy.ts) unless the destination already has the
 * same digest under that tag — so a second run copies nothing.
 */
import { parseConstraint, parseVersion, SemverError } from '../../gocompat/semver.js';
import type { RegistryClient } from '../client.js';
import { clientError } from '../errors.js';
import { formatReference, type Reference } from '../reference.js';
import { copy } from './copy.js';

export interface MirrorFilters {
  includeTags?: string;
  excludeTags?: string;
  /** A Masterminds range; tags that are not versions never match it. */
  semver?: string;
}

export interface MirrorTagResult {
  tag: string;
  digest: string;
  action: 'copied' | 'would-copy' | 'unchanged';
  /** Why it is (or would be) copied: absent at the destination or pointing elsewhere. */
  reason?: 'missing' | 'changed';
}

export interface MirrorResult {
  source: string;
  destination: string;
  tags: MirrorTagResult[];
  skipped: { tag: string; reason: string }[];
  copied: number;
  unchanged: number;
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

/** Mirrors `src` (a repository) into `dst` (a repository), tag by tag. */
export async function mirror(
  client: RegistryClient,
  src: Reference,
  dst: Reference,
  opts: MirrorFilters & { dryRun?: boolean; referrers?: boolean } = {},
): Promise<MirrorResult> {
  let skip: (tag: string) => string | undefined;
  try {
    skip = tagFilter(opts);
  } catch (e) {
    throw clientError('INVALID_ARGUMENT', { message: `bad filter: ${(e as Error).message}` });
  }
  const from = client.repository(src);
  const to = client.repository(dst);
  const result: MirrorResult = {
    source: formatReference({ registry: src.registry, repository: src.repository }),
    destination: formatReference({ registry: dst.registry, repository: dst.repository }),
    tags: [],
    skipped: [],
    copied: 0,
    unchanged: 0,
    dryRun: opts.dryRun === true,
  };
  for (const tag of (await from.tags()).sort()) {
    const why = skip(tag);
    if (why) {
      result.skipped.push({ tag, reason: why });
      continue;
    }
    const root = await from.resolve(tag);
    const existing = await to.manifestExists(tag);
    if (existing?.digest === root.digest) {
      result.tags.push({ tag, digest: root.digest, action: 'unchanged' });
      result.unchanged++;
      continue;
    }
    const reason = existing ? 'changed' : 'missing';
    if (opts.dryRun) {
      result.tags.push({ tag, digest: root.digest, action: 'would-copy', reason });
      continue;
    }
    await copy(
      client,
      { ...src, tag, digest: undefined },
      { registry: dst.registry, repository: dst.repository, tag },
      { referrers: opts.referrers !== false },
    );
    result.tags.push({ tag, digest: root.digest, action: 'copied', reason });
    result.copied++;
  }
  return result;
}
