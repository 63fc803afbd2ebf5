/**
 * What browsing the registry reads from the metadata store (the web UI's API,
 * src/api): repositories with their kind, counts, size and last push, and pages
 * of tags with what each names. The rules every driver answers by are here, once:
 * the repository's kind (repositoryKindOrder) and a tag's size and platforms
 * (assembleTagDetails), so SQLite, PostgreSQL and memory cannot drift apart.
 */
import { indexPlatforms, isReferrerKind, type ArtifactKind } from '../core/artifact-kind.js';

/** A repository as a list of them shows it. */
export interface RepositorySummary {
  name: string;
  /** What the repository holds (see repositoryKindOrder). */
  kind: ArtifactKind;
  tags: number;
  manifests: number;
  /** Bytes of the blobs it links and of its manifests. */
  size: number;
  /** When a tag was last pushed (epoch ms); undefined without tags. */
  lastPush?: number;
}

export interface RepositorySearch {
  /** Only names containing this text (names are lower case, so is the match). */
  q?: string;
  kind?: ArtifactKind;
  /** Names strictly after this one, in byte order. */
  after?: string;
  limit: number;
}

/** One tag with what it names, as a repository page lists it. */
export interface TagDetail {
  name: string;
  digest: string;
  mediaType: string;
  artifactType?: string;
  kind: ArtifactKind;
  /** The manifest, and every blob and child manifest it references (each once; an index's children's too). */
  size: number;
  pushedAt: number;
  pulledAt?: number;
  /** A signature names it: a referrer of kind signature, or cosign's `sha256-….sig` tag. */
  signed: boolean;
  /** An index's platforms (`os/arch[/variant]`); undefined for anything else. */
  platforms?: string[];
}

export type TagDetailQuery =
  /** Newest push first; ties by name. */
  | { order: 'pushed'; after?: { pushedAt: number; name: string }; limit: number }
  /** Byte order of names. */
  | { order: 'name'; after?: string; limit: number }
  /** These tags (those that exist), in the order given. */
  | { names: readonly string[] };

/** One manifest of a repository, as the repository-kind rule weighs it. */
export interface KindCandidate {
  kind: ArtifactKind;
  /** Its most recent tag push, undefined when untagged. */
  taggedAt?: number;
  createdAt: number;
  digest: string;
}

/**
 * A repository's kind is its best manifest's: things that describe others
 * (signatures, SBOMs, attestations) last, then tagged before untagged (an index
 * before its children), then the most recent (tag push, else creation), then digest.
 */
export function repositoryKindOrder(a: KindCandidate, b: KindCandidate): number {
  const ra = isReferrerKind(a.kind) ? 1 : 0;
  const rb = isReferrerKind(b.kind) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ta = a.taggedAt === undefined ? 1 : 0;
  const tb = b.taggedAt === undefined ? 1 : 0;
  if (ta !== tb) return ta - tb;
  const wa = a.taggedAt ?? a.createdAt;
  const wb = b.taggedAt ?? b.createdAt;
  if (wa !== wb) return wb - wa;
  return a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0;
}

/**
 * The kind rule as SQL (both dialects): the kind of the repository whose id is
 * `repoId` (an SQL expression), a scalar subquery.
 */
export function repositoryKindSql(repoId: string): string {
  const taggedAt = '(SELECT MAX(t.updated_at) FROM tags t WHERE t.repo_id = m.repo_id AND t.digest = m.digest)';
  return `(SELECT m.kind FROM manifests m WHERE m.repo_id = ${repoId} ORDER BY
    CASE WHEN m.kind IN ('signature', 'sbom', 'attestation') THEN 1 ELSE 0 END,
    CASE WHEN ${taggedAt} IS NULL THEN 1 ELSE 0 END,
    COALESCE(${taggedAt}, m.created_at) DESC, m.digest LIMIT 1)`;
}

/** A tag row joined with its manifest, as a driver reads it. */
export interface TagManifestRow {
  name: string;
  digest: string;
  mediaType: string;
  artifactType?: string;
  kind: ArtifactKind;
  manifestSize: number;
  pushedAt: number;
  pulledAt?: number;
  /** Only for indexes: the manifest bytes (its platforms are read from them). */
  content?: Uint8Array;
}

/** What a manifest references (blob or child manifest) and the referenced thing's size. */
export interface ReferenceRow {
  from: string;
  digest: string;
  size: number;
}

/**
 * Tag details from the rows a driver read: `refs` holds the references of every
 * listed manifest and of their child manifests; `signed` the digests that have a signature.
 */
export function assembleTagDetails(
  rows: readonly TagManifestRow[],
  refs: readonly ReferenceRow[],
  signed: ReadonlySet<string>,
): TagDetail[] {
  const byManifest = new Map<string, ReferenceRow[]>();
  for (const r of refs) {
    const list = byManifest.get(r.from);
    if (list) list.push(r);
    else byManifest.set(r.from, [r]);
  }
  return rows.map((row) => {
    // Each digest once: layers shared by an index's platforms are stored once.
    const seen = new Map<string, number>([[row.digest, row.manifestSize]]);
    const walk = (from: string, depth: number) => {
      for (const r of byManifest.get(from) ?? []) {
        if (seen.has(r.digest)) continue;
        seen.set(r.digest, r.size);
        if (depth < 1) walk(r.digest, depth + 1);
      }
    };
    walk(row.digest, 0);
    let size = 0;
    for (const s of seen.values()) size += s;
    return {
      name: row.name,
      digest: row.digest,
      mediaType: row.mediaType,
      ...(row.artifactType !== undefined ? { artifactType: row.artifactType } : {}),
      kind: row.kind,
      size,
      pushedAt: row.pushedAt,
      ...(row.pulledAt !== undefined ? { pulledAt: row.pulledAt } : {}),
      signed: signed.has(row.digest),
      ...(row.content ? { platforms: indexPlatforms(row.content) } : {}),
    };
  });
}

/** cosign's legacy signature tag for a digest (`sha256:abc` → `sha256-abc.sig`). */
export function legacySignatureTag(digest: string): string {
  const i = digest.indexOf(':');
  return `${digest.slice(0, i)}-${digest.slice(i + 1)}.sig`;
}
