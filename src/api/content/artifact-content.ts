/**
 * The kind-specific part of an artifact's details (GET …/-/manifests/<ref>): a Helm
 * chart's, a Flux artifact's or an OPA bundle's, read by the readers beside this file.
 * A chart or bundle whose content cannot be read still has its other details: its part
 * is left out rather than failing the whole answer, and so is the content of a manifest
 * the pull check refuses.
 */
import { RegistryError } from '../../core/errors.js';
import type { Registry } from '../../registry/registry.js';
import { chartDetails, type ChartDetails } from './chart-details.js';
import { ContentError } from './content-error.js';
import { fluxDetails, type FluxDetails } from './flux-details.js';
import { opaDetails, type OpaDetails } from './opa-details.js';

export interface ArtifactContent {
  chart?: ChartDetails;
  flux?: FluxDetails;
  opa?: OpaDetails;
}

interface ManifestDoc {
  annotations?: Record<string, string>;
  layers?: { mediaType: string; digest: string }[];
}

export async function artifactContent(
  registry: Registry,
  repository: string,
  manifest: { digest: string; mediaType: string; content: Buffer },
  kind: string,
): Promise<ArtifactContent> {
  if (kind !== 'helm-chart' && kind !== 'flux-artifact' && kind !== 'opa-bundle') return {};
  const doc = JSON.parse(manifest.content.toString('utf8')) as ManifestDoc;
  try {
    // Content the pull check (require_signatures) would not serve on /v2/ is not shown either.
    await registry.assertPullable(repository, manifest);
    switch (kind) {
      case 'helm-chart':
        return { chart: await chartDetails(registry, repository, manifest.content) };
      case 'flux-artifact':
        return { flux: fluxDetails(doc.annotations ?? {}) };
      case 'opa-bundle':
        return { opa: await opaDetails(registry, repository, doc.layers ?? []) };
      default:
        return {};
    }
  } catch (e) {
    if (e instanceof ContentError || (e instanceof RegistryError && e.code === 'DENIED')) return {};
    throw e;
  }
}
