/**
 * What happened in the registry, as recorded in the outbox (pure): one event per
 * change, written in the same transaction as the change (src/storage/event-store.ts)
 * and delivered to webhook endpoints (src/events/).
 */
export const EVENT_KINDS = [
  'manifest.pushed',
  'manifest.deleted',
  'tag.moved',
  'tag.deleted',
  'blob.mounted',
  'repository.created',
  'signature.added',
  'gc.removed',
  'manifest.pulled',
] as const;

export type EventKind = (typeof EVENT_KINDS)[number];

/** The request behind an event (Distribution's `request` record); never credentials. */
export interface EventRequest {
  id: string;
  addr: string;
  host: string;
  method: string;
  userAgent: string;
}

/** Who did it and through which request. */
export interface EventActor {
  user?: string;
  request?: EventRequest;
}

export interface RegistryEvent {
  id: string;
  kind: EventKind;
  /** Unix ms. */
  at: number;
  repository: string;
  digest?: string;
  tag?: string;
  /** tag.moved: the manifest the tag named before. */
  previousDigest?: string;
  mediaType?: string;
  artifactType?: string;
  size?: number;
  /** signature.added of a referrer: the signed manifest. */
  subject?: string;
  /** blob.mounted: where it came from. */
  fromRepository?: string;
  /** gc.removed: what was removed (tag or manifest) and why. */
  removed?: 'tag' | 'manifest';
  reason?: string;
  user?: string;
  request?: EventRequest;
}

/** What a manifest write found inside its transaction, for the events it records. */
export interface ManifestWriteFacts {
  repositoryCreated: boolean;
  /** The digest the tag named before this write (undefined: the tag is new, or no tag). */
  previousDigest?: string;
}

export interface PushedManifest {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  subject?: string;
  tag?: string;
}

/** cosign's tag-based signature: `sha256-<hex>.sig`. */
const COSIGN_SIG_TAG = /^sha256-[0-9a-f]{64}\.sig$/;

/**
 * The events of one manifest PUT: repository.created first, then manifest.pushed,
 * tag.moved when the tag named another manifest, signature.added for a referrer
 * (a manifest with a subject) or a cosign `.sig` tag.
 */
export function manifestPushEvents(
  m: PushedManifest,
  facts: ManifestWriteFacts,
  actor: EventActor,
  at: number,
  newId: () => string,
): RegistryEvent[] {
  const base = {
    at,
    repository: m.repository,
    ...(actor.user !== undefined ? { user: actor.user } : {}),
    ...(actor.request ? { request: actor.request } : {}),
  };
  const described = {
    digest: m.digest,
    mediaType: m.mediaType,
    size: m.size,
    ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
    ...(m.tag !== undefined ? { tag: m.tag } : {}),
  };
  const out: RegistryEvent[] = [];
  if (facts.repositoryCreated) out.push({ id: newId(), kind: 'repository.created', ...base });
  out.push({ id: newId(), kind: 'manifest.pushed', ...base, ...described });
  if (m.tag !== undefined && facts.previousDigest !== undefined && facts.previousDigest !== m.digest)
    out.push({ id: newId(), kind: 'tag.moved', ...base, ...described, previousDigest: facts.previousDigest });
  const signature = m.subject !== undefined || (m.tag !== undefined && COSIGN_SIG_TAG.test(m.tag));
  if (signature && (m.subject !== undefined || facts.previousDigest !== m.digest))
    out.push({
      id: newId(),
      kind: 'signature.added',
      ...base,
      ...described,
      ...(m.subject !== undefined
        ? { subject: m.subject }
        : { subject: `sha256:${m.tag!.slice('sha256-'.length, -'.sig'.length)}` }),
    });
  return out;
}

/** An endpoint's filters; an absent list matches everything. */
export interface EventFilter {
  /** Repository globs (compiled). */
  repositories?: RegExp[];
  kinds?: EventKind[];
  mediaTypes?: string[];
  artifactTypes?: string[];
  /** Events with a tag must match; events without one pass. */
  tag?: RegExp;
}

export function matchesFilter(f: EventFilter, e: RegistryEvent): boolean {
  if (f.kinds && !f.kinds.includes(e.kind)) return false;
  if (f.repositories && !f.repositories.some((r) => r.test(e.repository))) return false;
  if (f.mediaTypes && (e.mediaType === undefined || !f.mediaTypes.includes(e.mediaType))) return false;
  if (f.artifactTypes && (e.artifactType === undefined || !f.artifactTypes.includes(e.artifactType))) return false;
  if (f.tag && e.tag !== undefined && !f.tag.test(e.tag)) return false;
  return true;
}

/** Retry n (1-based) waits initial·2^(n-1), at most max. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}
