/**
 * The storage lifecycle sections of the config (pure): `gc:`, `retention:`,
 * `immutable_tags:` and `quotas:`. See the README's "Storage lifecycle" section.
 *
 *   gc: { interval: 6h, grace_period: 1h }
 *   retention:
 *     - repositories: "team/**"
 *       keep: [{ latest: 10 }, { semver: 5 }, { matching: "^(main|stable)$" }, { pulled_within: 30d }]
 *       untagged_older_than: 7d
 */
import { GlobError, compileGlob } from '../core/repository-glob.js';
import { parseConstraint } from '../gocompat/semver.js';
import type { KeepRule, RetentionPolicy } from '../lifecycle/retention.js';
import type { ImmutableTagRule } from '../registry/immutable-tags.js';
import type { QuotaRule } from '../registry/quotas.js';

export interface GcConfig {
  /** Between scheduled collections (0: never on a schedule). */
  intervalMs: number;
  gracePeriodMs: number;
}

export const GC_DEFAULTS: GcConfig = { intervalMs: 6 * 3_600_000, gracePeriodMs: 3_600_000 };

export class LifecycleConfigError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `6h`, `1h30m`, `90s`, `30d`, `0` → milliseconds. */
export function parseDurationMs(text: unknown, what: string): number {
  if (text === 0 || text === '0') return 0;
  if (typeof text !== 'string' || !/^(\d+(ms|s|m|h|d|w))+$/.test(text)) {
    throw new LifecycleConfigError(
      `${what} must be a duration like 90s, 30m, 6h, 1h30m, 7d or 0, got ${JSON.stringify(text)}`,
    );
  }
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return ms;
}

function mapping(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new LifecycleConfigError(`${what} must be a mapping`);
  return raw as Record<string, unknown>;
}

function onlyKeys(m: Record<string, unknown>, allowed: string[], what: string): void {
  for (const k of Object.keys(m))
    if (!allowed.includes(k))
      throw new LifecycleConfigError(`${what}: unknown setting "${k}" (allowed: ${allowed.join(', ')})`);
}

export function parseGc(raw: unknown): GcConfig {
  if (raw === undefined || raw === null) return GC_DEFAULTS;
  const m = mapping(raw, 'gc');
  onlyKeys(m, ['interval', 'grace_period'], 'gc');
  return {
    intervalMs: m.interval === undefined ? GC_DEFAULTS.intervalMs : parseDurationMs(m.interval, 'gc.interval'),
    gracePeriodMs:
      m.grace_period === undefined ? GC_DEFAULTS.gracePeriodMs : parseDurationMs(m.grace_period, 'gc.grace_period'),
  };
}

export function parseRepositoryGlob(raw: unknown, what: string): string {
  if (typeof raw !== 'string') throw new LifecycleConfigError(`${what} needs a repository glob`);
  try {
    compileGlob(raw);
  } catch (e) {
    if (e instanceof GlobError) throw new LifecycleConfigError(`${what}: ${e.message}`);
    throw e;
  }
  return raw;
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new LifecycleConfigError(`${what} must be a whole number ≥ 0`);
  return v;
}

function regex(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new LifecycleConfigError(`${what} must be a regular expression`);
  try {
    new RegExp(v);
  } catch (e) {
    throw new LifecycleConfigError(`${what}: ${(e as Error).message}`);
  }
  return v;
}

function keepRule(raw: unknown, what: string): KeepRule {
  const m = mapping(raw, what);
  const keys = Object.keys(m);
  if (keys.length !== 1)
    throw new LifecycleConfigError(
      `${what} must have exactly one of latest, semver, semver_range, matching, not_matching, pulled_within, pushed_within`,
    );
  const [k] = keys as [string];
  const v = m[k];
  switch (k) {
    case 'latest':
      return { kind: 'latest', count: count(v, `${what}.latest`) };
    case 'semver':
      return { kind: 'semver', count: count(v, `${what}.semver`) };
    case 'semver_range':
      if (typeof v !== 'string') throw new LifecycleConfigError(`${what}.semver_range must be a range like ">=1.2 <2"`);
      try {
        parseConstraint(v);
      } catch (e) {
        throw new LifecycleConfigError(`${what}.semver_range: ${(e as Error).message}`);
      }
      return { kind: 'semver_range', range: v };
    case 'matching':
      return { kind: 'matching', pattern: regex(v, `${what}.matching`) };
    case 'not_matching':
      return { kind: 'not_matching', pattern: regex(v, `${what}.not_matching`) };
    case 'pulled_within':
      return { kind: 'pulled_within', ms: parseDurationMs(v, `${what}.pulled_within`) };
    case 'pushed_within':
      return { kind: 'pushed_within', ms: parseDurationMs(v, `${what}.pushed_within`) };
    default:
      throw new LifecycleConfigError(`${what}: unknown keep rule "${k}"`);
  }
}

export function parseImmutableTags(raw: unknown): ImmutableTagRule[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw new LifecycleConfigError('immutable_tags must be a list of { repositories, tags, admin_override }');
  return raw.map((entry: unknown, i) => {
    const what = `immutable_tags[${i}]`;
    const m = mapping(entry, what);
    onlyKeys(m, ['repositories', 'tags', 'admin_override'], what);
    const tags = typeof m.tags === 'string' ? [m.tags] : m.tags;
    if (
      !Array.isArray(tags) ||
      tags.length === 0 ||
      !tags.every((t) => typeof t === 'string' && /^[\w.*?-]+$/.test(t))
    ) {
      throw new LifecycleConfigError(
        `${what}.tags must be a tag pattern or a list of them (letters, digits, . _ - and the wildcards * ?)`,
      );
    }
    if (m.admin_override !== undefined && typeof m.admin_override !== 'boolean')
      throw new LifecycleConfigError(`${what}.admin_override must be true or false`);
    return {
      repositories: parseRepositoryGlob(m.repositories, `${what}.repositories`),
      tags: tags as string[],
      adminOverride: m.admin_override === true,
    };
  });
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  TIB: 1024 ** 4,
};

/** `10GiB`, `500MB`, `1048576` → bytes. */
export function parseBytes(raw: unknown, what: string): number {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
  const m = typeof raw === 'string' ? /^(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?$/i.exec(raw) : null;
  if (!m) throw new LifecycleConfigError(`${what} must be a size like 500MiB, 10GiB or a number of bytes`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'B').toUpperCase()]!);
}

export function parseQuotas(raw: unknown): QuotaRule[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw new LifecycleConfigError(
      'quotas must be a list of { namespaces, bytes, tags_per_repository, manifests_per_repository }',
    );
  return raw.map((entry: unknown, i) => {
    const what = `quotas[${i}]`;
    const m = mapping(entry, what);
    onlyKeys(m, ['namespaces', 'bytes', 'tags_per_repository', 'manifests_per_repository'], what);
    return {
      namespaces: parseRepositoryGlob(m.namespaces, `${what}.namespaces`),
      ...(m.bytes !== undefined ? { bytes: parseBytes(m.bytes, `${what}.bytes`) } : {}),
      ...(m.tags_per_repository !== undefined
        ? { tagsPerRepository: count(m.tags_per_repository, `${what}.tags_per_repository`) }
        : {}),
      ...(m.manifests_per_repository !== undefined
        ? { manifestsPerRepository: count(m.manifests_per_repository, `${what}.manifests_per_repository`) }
        : {}),
    };
  });
}

export function parseRetention(raw: unknown): RetentionPolicy[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw new LifecycleConfigError('retention must be a list of { repositories, keep, untagged_older_than }');
  return raw.map((entry: unknown, i) => {
    const what = `retention[${i}]`;
    const m = mapping(entry, what);
    onlyKeys(m, ['repositories', 'keep', 'untagged_older_than'], what);
    const keep = m.keep ?? [];
    if (!Array.isArray(keep)) throw new LifecycleConfigError(`${what}.keep must be a list of rules`);
    return {
      repositories: parseRepositoryGlob(m.repositories, `${what}.repositories`),
      keep: keep.map((k: unknown, j) => keepRule(k, `${what}.keep[${j}]`)),
      ...(m.untagged_older_than !== undefined
        ? { untaggedOlderThanMs: parseDurationMs(m.untagged_older_than, `${what}.untagged_older_than`) }
        : {}),
    };
  });
}
