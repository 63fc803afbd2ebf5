/**
 * What the UI shows of an OPA bundle: the bundle layer OPA itself would load (the
 * first layer of the bundle type), streamed within CONTENT_LIMITS: its .manifest's
 * roots and revision (read by src/policy's rules), its .rego modules and its data
 * documents. Each file opens through the files endpoints.
 */
import path from 'node:path';
import { CONTENT_LIMITS, type ContentLimits } from '../../core/file-view.js';
import { BundleError, OPA_BUNDLE_LAYER_MEDIA_TYPE, parseManifest } from '../../policy/bundle.js';
import type { Registry } from '../../registry/registry.js';
import { ContentError } from './content-error.js';
import { InflateLimitError, eachEntry, entryPath, layerTar, readHead } from './layer-tar.js';

/** The layer type newer tools (conftest, Trivy) push bundles as. */
export const OPA_CNCF_LAYER_MEDIA_TYPE = 'application/vnd.cncf.openpolicyagent.layer.v1.tar+gzip';

export interface OpaDetails {
  roots: string[];
  revision: string | null;
  rego: string[];
  data: string[];
  /** The bundle layer, for the files endpoints. */
  layer: string;
  /** More members than CONTENT_LIMITS allow: the lists are partial. */
  truncated: boolean;
  /** Why the .manifest could not be read, when it could not. */
  manifestError?: string;
}

const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);

/** The bundle layer of an OPA bundle manifest (as OPA picks it), or undefined. */
export function bundleLayer(layers: readonly { mediaType: string; digest: string }[]): { digest: string } | undefined {
  return (
    layers.find((l) => l.mediaType === OPA_BUNDLE_LAYER_MEDIA_TYPE) ??
    layers.find((l) => l.mediaType === OPA_CNCF_LAYER_MEDIA_TYPE)
  );
}

export async function opaDetails(
  registry: Registry,
  repository: string,
  layers: readonly { mediaType: string; digest: string }[],
  limits: ContentLimits = CONTENT_LIMITS,
): Promise<OpaDetails> {
  const layer = bundleLayer(layers);
  if (!layer) throw new ContentError('BAD_REQUEST', `no layer of type ${OPA_BUNDLE_LAYER_MEDIA_TYPE}`);
  const out: OpaDetails = { roots: [], revision: null, rego: [], data: [], layer: layer.digest, truncated: false };
  let seen = 0;
  try {
    await eachEntry(
      layerTar(await registry.readBlob(repository, layer.digest), limits.inflatedBytes),
      async (e, tar) => {
        if (seen++ >= limits.entries) {
          out.truncated = true;
          return false;
        }
        if (e.type !== 'file') return true;
        const p = entryPath(e.name);
        if (p === '.manifest') {
          if (e.size > limits.textBytes) out.manifestError = `.manifest is larger than ${limits.textBytes} bytes`;
          else
            try {
              const m = parseManifest(await readHead(tar, e.size));
              out.roots = m.roots ?? [];
              out.revision = m.revision ?? null;
            } catch (err) {
              if (!(err instanceof BundleError)) throw err;
              out.manifestError = err.message;
            }
        } else if (p.endsWith('.rego')) out.rego.push(p);
        else if (DATA_FILES.has(path.posix.basename(p))) out.data.push(p);
        return true;
      },
    );
  } catch (e) {
    if (!(e instanceof InflateLimitError)) throw e;
    out.truncated = true;
  }
  return out;
}
