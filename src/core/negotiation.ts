import { bareMediaType } from './media-types.js';

/**
 * Splits every `Accept` line into bare media types. Node joins repeated header
 * lines with ", ", and clients send both one-per-line and comma-joined lists.
 */
export function acceptedTypes(accept: string | string[] | undefined): Set<string> {
  const lines = Array.isArray(accept) ? accept : accept === undefined ? [] : [accept];
  const out = new Set<string>();
  for (const line of lines) {
    for (const part of line.split(',')) {
      const t = bareMediaType(part);
      if (t) out.add(t);
    }
  }
  return out;
}

/**
 * Whether a manifest stored as `stored` may be served to a client that accepts
 * `accepted`. We are lenient: manifests are never converted, and every client that
 * names types names all current ones, so only an explicit mismatch with no wildcard
 * is refused (as distribution does), which keeps HEAD and GET in agreement.
 */
export function acceptsManifest(accepted: Set<string>, stored: string): boolean {
  if (accepted.size === 0 || accepted.has('*/*') || accepted.has('application/*') || accepted.has(stored)) return true;
  // Clients that only list legacy/unknown types (e.g. plain application/json) still get the bytes.
  for (const t of accepted) {
    if (
      t.startsWith('application/vnd.oci.') ||
      t.startsWith('application/vnd.docker.distribution.manifest.v2') ||
      t.startsWith('application/vnd.docker.distribution.manifest.list')
    ) {
      return false;
    }
  }
  return true;
}
