/** Media types the registry itself must understand. Everything else is opaque. */
export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociArtifactManifest: 'application/vnd.oci.artifact.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  octetStream: 'application/octet-stream',
  json: 'application/json',
} as const;

export const MANIFEST_MEDIA_TYPES: readonly string[] = [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerList];

export function isImageManifestType(mt: string): boolean {
  return mt === MT.ociManifest || mt === MT.dockerManifest;
}

export function isIndexType(mt: string): boolean {
  return mt === MT.ociIndex || mt === MT.dockerList;
}

export function isManifestType(mt: string): boolean {
  return isImageManifestType(mt) || isIndexType(mt);
}

/** `type/subtype; param=x` → `type/subtype`, lowercased and trimmed. */
export function bareMediaType(value: string | undefined): string {
  if (!value) return '';
  const semi = value.indexOf(';');
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

// RFC 6838 restricted-name, loosely: what a descriptor's mediaType must look like.
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
export function isValidMediaType(mt: string): boolean {
  return MEDIA_TYPE.test(mt);
}
