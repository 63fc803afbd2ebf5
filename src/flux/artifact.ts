/**
 * What a Flux OCI artifact is, byte for byte, as `flux push artifact` writes it with
 * go-containerregistry:
 *
 *   manifest  {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 *              "config":{"mediaType":…,"size":…,"digest":…},"layers":[{…}],
 *              "annotations":{…sorted keys…}} — compact, descriptor fields in the order
 *              mediaType, size, digest, Go's HTML-escaping (\u003c \u003e \u0026 \u2028 \u2029)
 *   config    go-containerregistry's empty image config after appending the layer:
 *              {"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":
 *              "0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":
 *              ["sha256:<tar digest>"]},"config":{}} (233 bytes; flux ≤ 2.8 and the RFC's example)
 *   layer     application/vnd.cncf.flux.content.v1.tar+gzip (build.ts)
 *   annotations  org.opencontainers.image.created / .source / .revision, then --annotations
 *              (which may override them)
 *
 * Pure: no I/O.
 */

import { GoStruct, goJsonMarshal, goJsonString } from '../gocompat/json.js';
import { SemverError, parseStrictVersion, type Version } from '../gocompat/semver.js';
import { formatRFC3339, isRFC3339 } from '../gocompat/time.js';

export const FLUX_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.flux.config.v1+json';
export const FLUX_CONTENT_MEDIA_TYPE = 'application/vnd.cncf.flux.content.v1.tar+gzip';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export const ANNOTATION_CREATED = 'org.opencontainers.image.created';
export const ANNOTATION_SOURCE = 'org.opencontainers.image.source';
export const ANNOTATION_REVISION = 'org.opencontainers.image.revision';

/** The created annotation of `--reproducible` (flux pins the Unix epoch, in UTC). */
export const REPRODUCIBLE_CREATED = '1970-01-01T00:00:00Z';

export interface Descriptor {
  mediaType: string;
  size: number;
  digest: string;
}

/** A JSON string as Go's encoding/json writes it (HTML-safe). */
export { goJsonString as goJSONString };

function descriptorJSON(d: Descriptor): string {
  return goJsonMarshal(
    new GoStruct([
      ['mediaType', d.mediaType],
      ['size', d.size],
      ['digest', d.digest],
    ]),
  );
}

/** The config blob go-containerregistry computes for flux's one-layer artifact. */
export function fluxConfigBytes(diffId: string): Buffer {
  return Buffer.from(
    `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":[${goJsonString(diffId)}]},"config":{}}`,
  );
}

/** The manifest bytes for a config and one layer. */
export function fluxManifestBytes(config: Descriptor, layer: Descriptor, annotations: Record<string, string>): Buffer {
  const ann = Object.keys(annotations).length ? `,"annotations":${goJsonMarshal(annotations)}` : '';
  return Buffer.from(
    `{"schemaVersion":2,"mediaType":${goJsonString(OCI_MANIFEST_MEDIA_TYPE)},"config":${descriptorJSON(config)},"layers":[${descriptorJSON(layer)}]${ann}}`,
  );
}

/** A tag as flux reads it for --filter-semver (version.ParseVersion: leading "v"s dropped, then strict SemVer), or undefined when flux skips it. */
export function parseTagVersion(tag: string): Version | undefined {
  try {
    return parseStrictVersion(tag.replace(/^v+/, ''));
  } catch (e) {
    if (e instanceof SemverError) return undefined;
    throw e;
  }
}

export class AnnotationError extends Error {}

/** `--annotations k=v`: exactly one "=" (flux splits on every "=" and wants two parts). */
export function parseAnnotations(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const parts = v.split('=');
    if (parts.length !== 2)
      throw new AnnotationError(`invalid annotation ${JSON.stringify(v)}, must be in the format key=value`);
    out[parts[0]!] = parts[1]!;
  }
  return out;
}

export interface FluxMetadata {
  source: string;
  revision: string;
  /** Default: now (UTC, RFC 3339). */
  created?: string;
  annotations?: Record<string, string>;
}

/** The manifest annotations: created, source, revision, then the custom ones (which win). */
export function fluxAnnotations(meta: FluxMetadata, now = new Date()): Record<string, string> {
  const out: Record<string, string> = {
    [ANNOTATION_CREATED]: meta.created ?? formatRFC3339(now),
    [ANNOTATION_SOURCE]: meta.source,
    [ANNOTATION_REVISION]: meta.revision,
    ...(meta.annotations ?? {}),
  };
  if (!isRFC3339(out[ANNOTATION_CREATED]!))
    throw new AnnotationError(
      `invalid ${ANNOTATION_CREATED} ${JSON.stringify(out[ANNOTATION_CREATED])}: it must be an RFC 3339 time such as 2026-01-01T00:00:00Z`,
    );
  return out;
}

/** flux's revision convention for a Git commit: `<branch|tag>@sha1:<commit>` (or `sha1:<commit>` when detached). */
export function gitRevision(ref: string | undefined, commit: string): string {
  const algo = commit.length === 64 ? 'sha256' : 'sha1';
  return ref ? `${ref}@${algo}:${commit}` : `${algo}:${commit}`;
}

/** flux list's exclusion of cosign tags. */
export function isCosignTag(tag: string): boolean {
  return tag.endsWith('.att') || tag.endsWith('.sbom') || tag.endsWith('.sig');
}

/** Tags as `flux list artifacts` orders them: descending, as plain strings. */
export function sortTagsDescending(tags: readonly string[]): string[] {
  return [...tags].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
}
