/**
 * What the UI shows of a Flux artifact, from its manifest's OCI annotations (as
 * `flux push artifact` writes them): the source, the revision, a link to the commit
 * on a known git host (src/core/links.ts), and when it was created. Its files come
 * through the files endpoints.
 */
import { sourceLink } from '../../core/links.js';
import { ANNOTATION_CREATED, ANNOTATION_REVISION, ANNOTATION_SOURCE } from '../../flux/artifact.js';
import { formatRFC3339, isRFC3339 } from '../../gocompat/time.js';

export interface FluxDetails {
  source: string | null;
  revision: string | null;
  sourceUrl: string | null;
  /** RFC 3339 UTC; null when the annotation is missing or not a time. */
  created: string | null;
}

export function fluxDetails(annotations: Readonly<Record<string, string>>): FluxDetails {
  const source = annotations[ANNOTATION_SOURCE] || null;
  const revision = annotations[ANNOTATION_REVISION] || null;
  const created = annotations[ANNOTATION_CREATED];
  return {
    source,
    revision,
    sourceUrl: sourceLink(source ?? undefined, revision ?? undefined) ?? null,
    created: created && isRFC3339(created) ? formatRFC3339(new Date(created)) : null,
  };
}
