/**
 * OPA policy bundles over OCI, in the shape OPA's OCI downloader loads
 * (`services.<name>.type: oci`): an image manifest whose first
 * `application/vnd.oci.image.layer.v1.tar+gzip` layer is the bundle tarball, with
 * the `{}` config typed `application/vnd.oci.image.config.v1+json` — what OPA's docs
 * push with `oras push --config config.json:…` (layer titled `bundle.tar.gz`,
 * manifest annotated with the creation time).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isImageManifestType } from '../../core/media-types.js';
import { formatRFC3339 } from '../../gocompat/time.js';
import { TarError, cleanName, extractTar, openTarStream } from '../../flux/untar.js';
import {
  BundleError,
  OPA_BUNDLE_LAYER_MEDIA_TYPE,
  OPA_CONFIG_MEDIA_TYPE,
  bundleFromFiles,
  bundleTarball,
  readPolicyDir,
  type BundleFile,
  type BundleManifest,
} from '../../policy/bundle.js';
import type { RegistryClient } from '../client.js';
import type { Descriptor } from '../content.js';
import { clientError } from '../errors.js';
import { formatReference, manifestRef, type Reference } from '../reference.js';
import { ANNOTATION_TITLE, pushArtifact } from './artifact.js';
import type { PushStats } from '../graph.js';

const ANNOTATION_CREATED = 'org.opencontainers.image.created';
/** OPA's bundle reader limit per file (DefaultSizeLimitBytes, against gzip bombs). */
const OPA_MAX_FILE_BYTES = 1024 * 1024 * 1024;

function bundleFailure(e: unknown, label?: string): never {
  if (e instanceof BundleError) {
    if (label)
      throw clientError('ARTIFACT_INVALID', {
        reference: label,
        detail: `not a loadable OPA bundle: ${e.message}`,
        ...(e.hint ? { hint: e.hint } : {}),
      });
    throw clientError('INVALID_ARGUMENT', { message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
  }
  throw e;
}

/** Every regular file of a (gzipped) bundle tarball, names without the leading "/". */
async function tarballFiles(stream: Readable, label: string): Promise<BundleFile[]> {
  const files: BundleFile[] = [];
  try {
    const tar = openTarStream(stream);
    for (let m = await tar.next(); m; m = await tar.next()) {
      if (m.type === 'file')
        files.push({ path: cleanName(m.name.replace(/^\/+/, '')), bytes: await tar.readBody(OPA_MAX_FILE_BYTES) });
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof TarError || code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR')
      throw clientError('ARTIFACT_INVALID', {
        reference: label,
        detail: `not a gzipped tar bundle: ${(e as Error).message}`,
      });
    throw e;
  }
  return files;
}

export interface PolicyPushOptions {
  /** A bundle directory, or an existing bundle tarball (`opa build` output). */
  path: string;
  /** Sets the .manifest revision (like `opa build --revision`). */
  revision?: string;
  annotations?: Record<string, string>;
  now?: Date;
}

export interface PolicyPushResult {
  reference: string;
  digest: string;
  layer: Descriptor;
  modules: { path: string; package: string }[];
  files: string[];
  manifest?: BundleManifest;
  /** directory: built here; tarball: pushed as given. */
  source: 'directory' | 'tarball';
  stats: PushStats;
}

export async function pushPolicy(
  client: RegistryClient,
  ref: Reference,
  opts: PolicyPushOptions,
): Promise<PolicyPushResult> {
  let st;
  try {
    st = await stat(opts.path);
  } catch {
    throw clientError('INVALID_ARGUMENT', {
      message: `${opts.path} does not exist`,
      hint: 'give --path a bundle directory (with .rego files) or an `opa build` bundle.tar.gz',
    });
  }
  let tarball: Buffer;
  let files: BundleFile[];
  let bundle;
  if (st.isDirectory()) {
    bundle = await readPolicyDir(opts.path, opts.revision !== undefined ? { revision: opts.revision } : {}).catch((e) =>
      bundleFailure(e),
    );
    files = bundle.files;
    tarball = bundleTarball(files);
  } else {
    if (opts.revision !== undefined)
      throw clientError('OPTIONS_CONFLICT', {
        options: ['--revision', 'a bundle tarball'],
        why: 'the revision of a built bundle is in its .manifest; rebuild it with `opa build --revision`',
      });
    tarball = await readFile(opts.path);
    files = await tarballFiles(Readable.from([tarball]), opts.path);
    try {
      bundle = bundleFromFiles(files, opts.path);
    } catch (e) {
      bundleFailure(e);
    }
  }
  const r = await pushArtifact(client, ref, {
    config: { mediaType: OPA_CONFIG_MEDIA_TYPE, bytes: Buffer.from('{}') },
    layers: [
      { mediaType: OPA_BUNDLE_LAYER_MEDIA_TYPE, bytes: tarball, annotations: { [ANNOTATION_TITLE]: 'bundle.tar.gz' } },
    ],
    annotations: { [ANNOTATION_CREATED]: formatRFC3339(opts.now ?? new Date()), ...(opts.annotations ?? {}) },
  });
  const layer = JSON.parse(r.manifest.toString('utf8')).layers[0] as Descriptor;
  return {
    reference: r.reference,
    digest: r.descriptor.digest,
    layer,
    modules: bundle.modules,
    files: files.map((f) => `/${f.path}`),
    ...(bundle.manifest ? { manifest: bundle.manifest } : {}),
    source: st.isDirectory() ? 'directory' : 'tarball',
    stats: r.stats,
  };
}

export interface PolicyPullResult {
  reference: string;
  digest: string;
  layer: Descriptor;
  modules: { path: string; package: string }[];
  files: string[];
  manifest?: BundleManifest;
  /** Where the tarball was written (with `bundleFile`). */
  bundleFile?: string;
  /** Where it was extracted (with `outDir`). */
  outDir?: string;
}

/** Pulls the bundle OPA would load (first tar+gzip layer), checks it, writes the tarball and/or extracts it. */
export async function pullPolicy(
  client: RegistryClient,
  ref: Reference,
  opts: { outDir?: string; bundleFile?: string },
): Promise<PolicyPullResult> {
  const repo = client.repository(ref);
  const { descriptor, bytes } = await repo.fetchManifest(manifestRef(ref));
  const label = formatReference({ ...ref, digest: descriptor.digest });
  if (!isImageManifestType(descriptor.mediaType))
    throw clientError('ARTIFACT_INVALID', {
      reference: label,
      detail: `it is a ${descriptor.mediaType}; OPA loads bundles from image manifests only (“no layers in manifest”)`,
    });
  const manifest = JSON.parse(bytes.toString('utf8')) as { layers?: Descriptor[] };
  const layer = (manifest.layers ?? []).find((l) => l.mediaType === OPA_BUNDLE_LAYER_MEDIA_TYPE);
  if (!layer) {
    const types = [...new Set((manifest.layers ?? []).map((l) => l.mediaType))];
    throw clientError('ARTIFACT_INVALID', {
      reference: label,
      detail: `no tarball descriptor found in the layers (OPA needs a ${OPA_BUNDLE_LAYER_MEDIA_TYPE} layer${types.length ? `; this artifact has ${types.join(', ')}` : ''})`,
      hint: 'push the bundle with `stowage policy push`; Flux artifacts and conftest/Trivy policy images are not loadable by OPA',
    });
  }
  const work = await mkdtemp(path.join(tmpdir(), 'stowage-policy-'));
  try {
    const tmp = path.join(work, 'bundle.tar.gz');
    await pipeline(repo.fetchBlob(layer), createWriteStream(tmp));
    const tarball = await readFile(tmp);
    const files = await tarballFiles(Readable.from([tarball]), label);
    let bundle;
    try {
      bundle = bundleFromFiles(files, label);
    } catch (e) {
      bundleFailure(e, label);
    }
    const out: PolicyPullResult = {
      reference: label,
      digest: descriptor.digest,
      layer: { mediaType: layer.mediaType, digest: layer.digest, size: layer.size },
      modules: bundle.modules,
      files: files.map((f) => `/${f.path}`),
      ...(bundle.manifest ? { manifest: bundle.manifest } : {}),
    };
    if (opts.bundleFile) {
      try {
        await mkdir(path.dirname(path.resolve(opts.bundleFile)), { recursive: true });
        await writeFile(`${opts.bundleFile}.partial`, tarball);
        await rename(`${opts.bundleFile}.partial`, opts.bundleFile);
      } catch (e) {
        throw clientError('OUTPUT_FAILED', { path: opts.bundleFile, detail: (e as Error).message });
      }
      out.bundleFile = opts.bundleFile;
    }
    if (opts.outDir) {
      try {
        await extractTar(Readable.from([tarball]), opts.outDir, { rooted: true });
      } catch (e) {
        if (e instanceof TarError) throw clientError('ARTIFACT_INVALID', { reference: label, detail: e.message });
        throw e;
      }
      out.outDir = opts.outDir;
    }
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
