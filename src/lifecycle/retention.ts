/**
 * Retention (pure): from a repository's inventory and the rules, decide every tag
 * (kept or dropped, and by which rule) and which manifests go. No I/O; the
 * collector executes the plan with compare-and-delete (docs/gc.md).
 *
 * - Rules combine as "kept if any keep rule keeps it"; a policy with no keep rules
 *   keeps every tag (it may still collect untagged manifests).
 * - Always kept: what is signed, and a tag whose manifest a kept manifest references.
 * - Signatures and other referrers follow their subject: kept while it is kept,
 *   removed (after the grace period) once it is gone — including cosign's tag-scheme
 *   `sha256-<hex>.sig|.att|.sbom` tags.
 * - Untagged manifests are removed only where `untaggedOlderThanMs` says so, and never
 *   one a kept manifest references; an index child goes with its last parent.
 */
import { compareVersions, parseConstraint, parseVersion, type Constraint, type Version } from '../gocompat/semver.js';
import { compileGlob } from '../core/repository-glob.js';
import type { RepositoryInventory } from '../storage/metadata-store.js';

export type KeepRule =
  | { kind: 'latest'; count: number }
  | { kind: 'semver'; count: number }
  | { kind: 'semver_range'; range: string }
  | { kind: 'matching'; pattern: string }
  | { kind: 'not_matching'; pattern: string }
  | { kind: 'pulled_within'; ms: number }
  | { kind: 'pushed_within'; ms: number };

export interface RetentionPolicy {
  /** Repository glob (src/core/repository-glob.ts). */
  repositories: string;
  keep: KeepRule[];
  /** Untagged manifests older than this are removed (absent: never). */
  untaggedOlderThanMs?: number;
}

export interface TagDecision {
  tag: string;
  digest: string;
  keep: boolean;
  /** The rule that kept it, or why it goes. */
  rule: string;
}

export interface RepositoryPlan {
  /** One per tag when a policy matches the repository (empty otherwise). */
  decisions: TagDecision[];
  dropTags: { tag: string; digest: string; rule: string }[];
  /** Parents before children, so each delete finds nothing referencing it. */
  deleteManifests: { digest: string; reason: string }[];
}

/** cosign's tag scheme: `sha256-<hex>.sig` (and .att, .sbom) belong to `sha256:<hex>`. */
const TAG_SCHEME = /^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})\.(sig|att|sbom)$/;

export function tagSchemeSubject(tag: string): string | undefined {
  const m = TAG_SCHEME.exec(tag);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

const SIGNATURE_TYPES = new Set([
  'application/vnd.dev.cosign.artifact.sig.v1+json',
  'application/vnd.dev.sigstore.bundle.v0.3+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.cncf.notary.signature',
]);

export function policyFor(repository: string, policies: readonly RetentionPolicy[]): RetentionPolicy | undefined {
  return policies.find((p) => compileGlob(p.repositories).test(repository));
}

export function describeRule(r: KeepRule): string {
  switch (r.kind) {
    case 'latest':
      return `latest: ${r.count}`;
    case 'semver':
      return `semver: ${r.count}`;
    case 'semver_range':
      return `semver_range: ${r.range}`;
    case 'matching':
      return `matching: ${r.pattern}`;
    case 'not_matching':
      return `not_matching: ${r.pattern}`;
    case 'pulled_within':
      return `pulled_within: ${formatDays(r.ms)}`;
    case 'pushed_within':
      return `pushed_within: ${formatDays(r.ms)}`;
  }
}

function formatDays(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 1000)}s`;
}

type InventoryManifest = RepositoryInventory['manifests'][number];

interface Tag {
  name: string;
  digest: string;
  pushedAt: number;
}

export function planRepository(
  repository: string,
  inventory: RepositoryInventory,
  policies: readonly RetentionPolicy[],
  clock: { now: number; gracePeriodMs: number },
  /** The immutable-tag rule that protects a tag, described (retention never drops one). */
  immutable: (tag: string) => string | undefined = () => undefined,
): RepositoryPlan {
  const policy = policyFor(repository, policies);
  const manifests = new Map(inventory.manifests.map((m) => [m.digest, m]));
  const referrersOf = new Map<string, string[]>();
  for (const m of inventory.manifests) {
    if (m.subject) referrersOf.set(m.subject, [...(referrersOf.get(m.subject) ?? []), m.digest]);
  }
  // Tag-scheme artifacts follow their subject; every other tag is the rules' business.
  const schemeTags: Tag[] = [];
  const ruledTags: Tag[] = [];
  for (const t of inventory.tags)
    (tagSchemeSubject(t.name) ? schemeTags : ruledTags).push({ name: t.name, digest: t.digest, pushedAt: t.pushedAt });
  const signed = (digest: string): boolean =>
    schemeTags.some((t) => t.name.endsWith('.sig') && tagSchemeSubject(t.name) === digest) ||
    (referrersOf.get(digest) ?? []).some((r) => SIGNATURE_TYPES.has(manifests.get(r)?.artifactType ?? ''));

  const graceCutoff = clock.now - clock.gracePeriodMs;
  const decisions = new Map<string, TagDecision>();
  for (const t of ruledTags) {
    const rule = policy ? keptBy(t, ruledTags, policy, manifests, clock.now) : 'no retention rule for this repository';
    const decide = (keep: boolean, why: string) =>
      decisions.set(t.name, { tag: t.name, digest: t.digest, keep, rule: why });
    const frozen = policy ? immutable(t.name) : undefined;
    if (frozen) decide(true, frozen);
    else if (rule) decide(true, rule);
    else if (signed(t.digest)) decide(true, 'signed');
    // Its manifest could not be removed yet: dropping the tag now would leave it untagged for good.
    else if ((manifests.get(t.digest)?.createdAt ?? 0) >= graceCutoff) decide(true, 'pushed within the grace period');
    else decide(false, 'no keep rule matched');
  }

  // Roots: manifests a kept tag names, and untagged ones no rule removes.
  const tagged = new Set(inventory.tags.map((t) => t.digest));
  const kept = new Set<string>();
  const visit = (digest: string): void => {
    if (kept.has(digest) || !manifests.has(digest)) return;
    kept.add(digest);
    for (const child of manifests.get(digest)!.references) visit(child);
    for (const r of referrersOf.get(digest) ?? []) visit(r);
    for (const t of schemeTags) if (tagSchemeSubject(t.name) === digest) visit(t.digest);
  };
  for (const d of decisions.values()) if (d.keep) visit(d.digest);
  const untaggedLimit = policy?.untaggedOlderThanMs;
  const schemeTargets = new Set(schemeTags.map((t) => t.digest));
  const children = new Set(inventory.manifests.flatMap((m) => m.references));
  for (const m of inventory.manifests) {
    // Referrers and tag-scheme artifacts are never roots: they follow their subject;
    // nor index children: they belong to their parents.
    if (tagged.has(m.digest) || m.subject || schemeTargets.has(m.digest) || children.has(m.digest)) continue;
    if (untaggedLimit === undefined || m.createdAt >= clock.now - untaggedLimit) visit(m.digest);
  }
  // "What a kept index references": such tags stay whatever the rules said.
  for (const d of decisions.values()) {
    if (!d.keep && kept.has(d.digest)) {
      d.keep = true;
      d.rule = 'referenced by a kept manifest';
    }
  }

  const dropTags = [...decisions.values()]
    .filter((d) => !d.keep)
    .map((d) => ({ tag: d.tag, digest: d.digest, rule: d.rule }));
  for (const t of schemeTags) {
    if (!kept.has(t.digest) && !kept.has(tagSchemeSubject(t.name)!) && t.pushedAt < graceCutoff) {
      dropTags.push({
        tag: t.name,
        digest: t.digest,
        rule: manifests.has(tagSchemeSubject(t.name)!) ? 'its subject goes' : 'its subject is gone',
      });
    }
  }
  const doomed = inventory.manifests
    .filter((m) => !kept.has(m.digest) && m.createdAt < graceCutoff)
    .map((m) => m.digest);
  return {
    decisions: policy ? [...decisions.values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)) : [],
    dropTags,
    deleteManifests: parentsFirst(doomed, manifests).map((digest) => ({
      digest,
      reason: reasonFor(manifests.get(digest)!, tagged, manifests),
    })),
  };
}

function reasonFor(m: InventoryManifest, tagged: Set<string>, manifests: Map<string, unknown>): string {
  if (m.subject) return manifests.has(m.subject) ? 'its subject goes' : 'its subject is gone';
  return tagged.has(m.digest) ? 'all its tags were dropped' : 'untagged';
}

/** Orders digests so that a manifest comes before every manifest it references. */
function parentsFirst(digests: string[], manifests: Map<string, InventoryManifest>): string[] {
  // A parent is a manifest that references d, or a referrer whose subject is d.
  const parents = new Map<string, string[]>();
  for (const p of digests) {
    const m = manifests.get(p)!;
    for (const child of [...m.references, ...(m.subject ? [m.subject] : [])])
      parents.set(child, [...(parents.get(child) ?? []), p]);
  }
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const place = (d: string): void => {
    if (state.has(d)) return;
    state.set(d, 'visiting');
    for (const p of parents.get(d) ?? []) place(p);
    state.set(d, 'done');
    out.push(d);
  };
  for (const d of [...digests].sort()) place(d);
  return out;
}

/** The keep rule that keeps `tag`, described; undefined when none does. */
function keptBy(
  tag: Tag,
  tags: Tag[],
  policy: RetentionPolicy,
  manifests: Map<string, InventoryManifest>,
  now: number,
): string | undefined {
  if (policy.keep.length === 0) return 'no keep rules (every tag is kept)';
  for (const rule of policy.keep) {
    if (keeps(rule, tag, tags, manifests, now)) return describeRule(rule);
  }
  return undefined;
}

function keeps(rule: KeepRule, tag: Tag, tags: Tag[], manifests: Map<string, InventoryManifest>, now: number): boolean {
  switch (rule.kind) {
    case 'latest': {
      const newest = [...tags]
        .sort((a, b) => b.pushedAt - a.pushedAt || (a.name < b.name ? 1 : -1))
        .slice(0, rule.count);
      return newest.includes(tag);
    }
    case 'semver': {
      const versions = tags
        .map((t) => ({ t, v: version(t.name) }))
        .filter((x): x is { t: Tag; v: Version } => x.v !== undefined);
      versions.sort((a, b) => compareVersions(b.v, a.v));
      return versions.slice(0, rule.count).some((x) => x.t === tag);
    }
    case 'semver_range': {
      const v = version(tag.name);
      return v !== undefined && constraint(rule.range).check(v);
    }
    case 'matching':
      return new RegExp(rule.pattern).test(tag.name);
    case 'not_matching':
      return !new RegExp(rule.pattern).test(tag.name);
    case 'pushed_within':
      return tag.pushedAt >= now - rule.ms;
    case 'pulled_within': {
      const pulled = manifests.get(tag.digest)?.pulledAt;
      return pulled !== undefined && pulled >= now - rule.ms;
    }
  }
}

function version(tag: string): Version | undefined {
  try {
    return parseVersion(tag);
  } catch {
    return undefined;
  }
}

const constraints = new Map<string, Constraint>();
function constraint(range: string): Constraint {
  let c = constraints.get(range);
  if (!c) constraints.set(range, (c = parseConstraint(range)));
  return c;
}
