import { RegistryError } from './errors.js';
import { parseDigest } from './digest.js';
import {
  MT,
  bareMediaType,
  isImageManifestType,
  isIndexType,
  isManifestType,
  isValidMediaType,
} from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: unknown;
  data?: string;
}

/** What a blob or child manifest reference means to the manifest holding it. */
export type ReferenceRole = 'config' | 'layer' | 'manifest';

export interface ManifestReference {
  digest: string;
  size: number;
  mediaType: string;
  role: ReferenceRole;
}

export interface ParsedManifest {
  mediaType: string;
  /** Blobs and child manifests that must exist in the repository. */
  references: ManifestReference[];
  subject?: Descriptor;
  /** artifactType as the referrers API reports it (config type fallback for images). */
  artifactType?: string;
  annotations?: Record<string, string>;
}

const GENERIC_TYPES = new Set(['', MT.json, MT.octetStream, 'text/plain']);

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, detail);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseDescriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw invalid(`${where}: descriptor must be an object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || !isValidMediaType(mediaType)) {
    throw invalid(`${where}: invalid mediaType`);
  }
  if (typeof digest !== 'string') throw invalid(`${where}: digest must be a string`);
  try {
    parseDigest(digest);
  } catch {
    throw invalid(`${where}: invalid digest ${JSON.stringify(digest.slice(0, 150))}`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}: size must be a non-negative integer`);
  }
  if (v.urls !== undefined && (!Array.isArray(v.urls) || v.urls.some((u) => typeof u !== 'string'))) {
    throw invalid(`${where}: urls must be an array of strings`);
  }
  if (v.annotations !== undefined && !isStringMap(v.annotations)) {
    throw invalid(`${where}: annotations must map strings to strings`);
  }
  if (v.artifactType !== undefined && typeof v.artifactType !== 'string') {
    throw invalid(`${where}: artifactType must be a string`);
  }
  return v as unknown as Descriptor;
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * Decides which manifest type a PUT body is: the Content-Type header when it names a
 * manifest type, else the body's mediaType, else the structure (containers/image's
 * heuristic). A header and body that disagree are refused.
 */
export function resolveManifestMediaType(contentType: string | undefined, doc: Record<string, unknown>): string {
  const header = bareMediaType(contentType);
  const bodyType = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  if (doc.mediaType !== undefined && typeof doc.mediaType !== 'string') throw invalid('mediaType must be a string');
  if (header === MT.dockerSchema1 || header === MT.dockerSchema1Signed || doc.schemaVersion === 1) {
    throw invalid('Docker schema 1 manifests are not supported');
  }
  if (!GENERIC_TYPES.has(header)) {
    if (!isManifestType(header)) {
      throw invalid(`unsupported manifest media type ${JSON.stringify(header)}`);
    }
    if (bodyType !== undefined && bodyType !== header) {
      throw invalid(`mediaType in manifest (${bodyType}) does not match Content-Type (${header})`);
    }
    return header;
  }
  if (bodyType !== undefined) {
    if (!isManifestType(bodyType)) throw invalid(`unsupported manifest media type ${JSON.stringify(bodyType)}`);
    return bodyType;
  }
  if (isObject(doc.config)) {
    return doc.config.mediaType === MT.dockerConfig ? MT.dockerManifest : MT.ociManifest;
  }
  if (Array.isArray(doc.manifests)) return MT.ociIndex;
  throw invalid('cannot determine the manifest media type');
}

/**
 * Parses and validates manifest bytes. Pure: existence of what the manifest
 * references is the registry's job; this only checks the document itself.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    // ignoreBOM keeps a BOM in the text so JSON.parse refuses it, as Go clients would.
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    throw invalid('manifest is not valid UTF-8 JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  const mediaType = resolveManifestMediaType(contentType, doc);
  if (doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  if (doc.annotations !== undefined && !isStringMap(doc.annotations)) {
    throw invalid('annotations must map strings to strings');
  }
  if (
    doc.artifactType !== undefined &&
    (typeof doc.artifactType !== 'string' || (doc.artifactType !== '' && !isValidMediaType(doc.artifactType)))
  ) {
    throw invalid('artifactType must be a media type');
  }
  const subject = doc.subject === undefined ? undefined : parseDescriptor(doc.subject, 'subject');
  const annotations = doc.annotations as Record<string, string> | undefined;
  const references: ManifestReference[] = [];

  if (isImageManifestType(mediaType)) {
    if (doc.manifests !== undefined) throw invalid('an image manifest must not have "manifests"');
    const config = parseDescriptor(doc.config, 'config');
    references.push({ digest: config.digest, size: config.size, mediaType: config.mediaType, role: 'config' });
    if (doc.layers !== undefined && !Array.isArray(doc.layers)) throw invalid('layers must be an array');
    if (doc.layers === undefined && mediaType === MT.dockerManifest) throw invalid('layers is required');
    const layers = (doc.layers ?? []) as unknown[];
    layers.forEach((l, i) => {
      const d = parseDescriptor(l, `layers[${i}]`);
      // Foreign layers live elsewhere by design; distribution does not check them either.
      if (d.urls && d.urls.length > 0) return;
      references.push({
        digest: d.digest,
        size: d.size,
        mediaType: d.mediaType,
        role: isManifestType(d.mediaType) ? 'manifest' : 'layer',
      });
    });
    const artifactType =
      typeof doc.artifactType === 'string' && doc.artifactType !== '' ? doc.artifactType : config.mediaType;
    return { mediaType, references, subject, artifactType, annotations };
  }

  if (isIndexType(mediaType)) {
    if (doc.config !== undefined || doc.layers !== undefined)
      throw invalid('an index must not have "config" or "layers"');
    if (!Array.isArray(doc.manifests)) throw invalid('manifests must be an array');
    doc.manifests.forEach((m, i) => {
      const d = parseDescriptor(m, `manifests[${i}]`);
      // BuildKit cache indexes list layer blobs here, so only manifest types are manifests.
      references.push({
        digest: d.digest,
        size: d.size,
        mediaType: d.mediaType,
        role: isManifestType(d.mediaType) ? 'manifest' : 'layer',
      });
    });
    const artifactType = typeof doc.artifactType === 'string' && doc.artifactType !== '' ? doc.artifactType : undefined;
    return { mediaType, references, subject, artifactType, annotations };
  }
  throw invalid(`unsupported manifest media type ${mediaType}`);
}

/** A manifest may list one digest twice (a layer reused); the stores take each reference once. */
export function uniqueReferences(refs: ManifestReference[]): ManifestReference[] {
  const seen = new Map<string, ManifestReference>();
  for (const r of refs) if (!seen.has(r.digest)) seen.set(r.digest, r);
  return [...seen.values()];
}
