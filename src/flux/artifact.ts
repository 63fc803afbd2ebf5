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

import { GoStruct, goJsonMarshal, goJsonString } from '../util/go-json.js';

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
  return goJsonMarshal(new GoStruct([['mediaType', d.mediaType], ['size', d.size], ['digest', d.digest]]));
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
  return Buffer.from(`{"schemaVersion":2,"mediaType":${goJsonString(OCI_MANIFEST_MEDIA_TYPE)},"config":${descriptorJSON(config)},"layers":[${descriptorJSON(layer)}]${ann}}`);
}

/** time.Now().UTC().Format(time.RFC3339): seconds, `Z`. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Does `s` parse with Go's time.RFC3339 layout (the check flux ≥ 2.9 makes on the created value)? */
export function isRFC3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, se, , z] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  const dim = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (day > dim || Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return false;
  if (z !== 'Z' && z !== 'z' && (Number(z!.slice(1, 3)) > 23 || Number(z!.slice(4, 6)) > 59)) return false;
  return true;
}

export class AnnotationError extends Error {}

/** `--annotations k=v`: exactly one "=" (flux splits on every "=" and wants two parts). */
export function parseAnnotations(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const parts = v.split('=');
    if (parts.length !== 2) throw new AnnotationError(`invalid annotation ${JSON.stringify(v)}, must be in the format key=value`);
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
    [ANNOTATION_CREATED]: meta.created ?? rfc3339(now),
    [ANNOTATION_SOURCE]: meta.source,
    [ANNOTATION_REVISION]: meta.revision,
    ...(meta.annotations ?? {}),
  };
  if (!isRFC3339(out[ANNOTATION_CREATED]!)) throw new AnnotationError(`invalid ${ANNOTATION_CREATED} ${JSON.stringify(out[ANNOTATION_CREATED])}: it must be an RFC 3339 time such as 2026-01-01T00:00:00Z`);
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
