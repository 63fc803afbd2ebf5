/**
 * Everything attached to a manifest, recursively — what `stowage tree` shows and what
 * `stowage copy` carries along: its OCI referrers (the referrers API, else the
 * `sha256-<hex>` referrers tag), cosign's `sha256-<hex>.sig|.att|.sbom` tags, and for an
 * index (when asked) its child manifests; each of those again with everything attached
 * to it (the signature of an attestation, the SBOM of a platform image, …).
 *
 *   const tree = await attachedTree(repo, await repo.resolve('v1'), { children: true });
 *   // { descriptor, attached: [{ relation: 'referrer', descriptor, attached: [...] }, ...] }
 *
 * Bounded: at most MAX_REFERRERS referrers per manifest, MAX_NODES nodes and MAX_DEPTH
 * levels in all; a manifest met twice (a cycle through tags) is not walked again.
 */
import { isIndexType } from '../../core/media-types.js';
import type { Repository } from '../client.js';
import { MAX_MANIFEST_BYTES, type Descriptor } from '../content.js';
import { clientError, isClientError } from '../errors.js';
import { formatPlatform, type Platform } from '../platform.js';

/** cosign's legacy tags beside a digest: signatures, attestations, SBOMs. */
export const COSIGN_TAG_SUFFIXES = ['.sig', '.att', '.sbom'] as const;
/** Referrers read at most per subject (a registry could list thousands). */
export const MAX_REFERRERS = 100;
const MAX_NODES = 1000;
const MAX_DEPTH = 16;

export interface AttachedNode {
  descriptor: Descriptor;
  /**
   * How it hangs on its parent: a referrer (its `subject` is the parent), one of cosign's
   * tags named after the parent's digest, or an entry of the parent index.
   */
  relation: 'root' | 'referrer' | 'cosign-tag' | 'child';
  /** Referrers: found through the referrers API or the referrers tag. */
  via?: 'api' | 'tag-schema';
  /** cosign tags: the tag (`sha256-<hex>.sig`). */
  tag?: string;
  /** Index entries: their platform (`linux/amd64`). */
  platform?: string;
  /** From the manifest itself: its artifactType (or config media type) and its layers' media types. */
  artifactType?: string;
  layers?: { mediaType: string; digest: string; size: number; predicateType?: string }[];
  annotations?: Record<string, string>;
  attached: AttachedNode[];
}

export interface AttachedOptions {
  /** Also walk an index's child manifests (and what is attached to them). Default false. */
  children?: boolean;
}

interface ManifestDoc {
  artifactType?: unknown;
  config?: { mediaType?: unknown };
  layers?: unknown;
  manifests?: unknown;
  annotations?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringMap = (v: unknown): Record<string, string> | undefined =>
  isObject(v) && Object.values(v).every((x) => typeof x === 'string') ? (v as Record<string, string>) : undefined;

function describe(node: AttachedNode, doc: ManifestDoc): void {
  const artifactType =
    typeof doc.artifactType === 'string'
      ? doc.artifactType
      : isIndexType(node.descriptor.mediaType)
        ? undefined
        : typeof doc.config?.mediaType === 'string'
          ? doc.config.mediaType
          : undefined;
  if (artifactType) node.artifactType = artifactType;
  if (Array.isArray(doc.layers)) {
    node.layers = doc.layers.filter(isObject).map((l) => {
      const predicateType = stringMap(l.annotations)?.predicateType;
      return {
        mediaType: String(l.mediaType),
        digest: String(l.digest),
        size: Number(l.size),
        ...(predicateType ? { predicateType } : {}),
      };
    });
  }
  const annotations = stringMap(doc.annotations);
  if (annotations && Object.keys(annotations).length > 0) node.annotations = annotations;
}

/** The child manifests an index lists, with their platforms. */
function indexEntries(doc: ManifestDoc): { descriptor: Descriptor; platform?: string }[] {
  if (!Array.isArray(doc.manifests)) return [];
  return doc.manifests.filter(isObject).flatMap((m) => {
    if (typeof m.mediaType !== 'string' || typeof m.digest !== 'string' || typeof m.size !== 'number') return [];
    const descriptor: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.size };
    if (typeof m.artifactType === 'string') descriptor.artifactType = m.artifactType;
    const platform = isObject(m.platform) ? formatPlatform(m.platform as Partial<Platform>) : undefined;
    return [{ descriptor, ...(platform ? { platform } : {}) }];
  });
}

async function fetchDoc(repo: Repository, digest: string): Promise<ManifestDoc | undefined> {
  try {
    const { bytes } = await repo.fetchManifest(digest);
    if (bytes.length > MAX_MANIFEST_BYTES) return {};
    const doc: unknown = JSON.parse(bytes.toString('utf8'));
    return isObject(doc) ? doc : {};
  } catch (e) {
    if (isClientError(e, 'MANIFEST_NOT_FOUND')) return undefined; // listed but gone
    if (e instanceof SyntaxError) return {};
    throw e;
  }
}

/** The tree of everything attached to `root` in `repo` (see the module comment). */
export async function attachedTree(
  repo: Repository,
  root: Descriptor,
  opts: AttachedOptions = {},
): Promise<AttachedNode> {
  const seen = new Set<string>([root.digest]);
  let nodes = 1;
  const top: AttachedNode = { descriptor: root, relation: 'root', attached: [] };

  const expand = async (node: AttachedNode, depth: number): Promise<void> => {
    const doc = await fetchDoc(repo, node.descriptor.digest);
    if (doc) describe(node, doc);
    if (depth >= MAX_DEPTH) return;
    const found: AttachedNode[] = [];
    const add = (n: Omit<AttachedNode, 'attached'>): void => {
      if (seen.has(n.descriptor.digest)) return;
      if (++nodes > MAX_NODES)
        throw clientError('INVALID_ARGUMENT', {
          message: `more than ${MAX_NODES} manifests are attached to ${root.digest}`,
        });
      seen.add(n.descriptor.digest);
      found.push({ ...n, attached: [] });
    };
    if (opts.children && doc && isIndexType(node.descriptor.mediaType)) {
      for (const e of indexEntries(doc)) add({ ...e, relation: 'child' });
    }
    const referrers = await repo.referrers(node.descriptor.digest);
    for (const r of referrers.manifests.slice(0, MAX_REFERRERS)) {
      add({
        descriptor: {
          mediaType: r.mediaType,
          digest: r.digest,
          size: r.size,
          ...(r.artifactType ? { artifactType: r.artifactType } : {}),
        },
        relation: 'referrer',
        via: referrers.via,
      });
    }
    const base = node.descriptor.digest.replace(':', '-');
    for (const suffix of COSIGN_TAG_SUFFIXES) {
      const tag = `${base}${suffix}`;
      const d = await repo.manifestExists(tag);
      if (d) add({ descriptor: d, relation: 'cosign-tag', tag });
    }
    node.attached = found;
    for (const child of found) await expand(child, depth + 1);
  };

  await expand(top, 0);
  return top;
}

/** Every node below the root, parents before what hangs on them. */
export function attachedNodes(tree: AttachedNode): { node: AttachedNode; parent: AttachedNode }[] {
  const out: { node: AttachedNode; parent: AttachedNode }[] = [];
  const walk = (parent: AttachedNode) => {
    for (const node of parent.attached) {
      out.push({ node, parent });
      walk(node);
    }
  };
  walk(tree);
  return out;
}
