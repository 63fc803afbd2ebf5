/** The client of Stowage's JSON API (/api/v1, docs in the contract); same-origin, cookie session. */

export type Kind =
  'image' | 'index' | 'helm-chart' | 'flux-artifact' | 'opa-bundle' | 'signature' | 'sbom' | 'attestation' | 'artifact';

export const KIND_LABELS: Record<Kind, string> = {
  image: 'Container image',
  index: 'Multi-arch index',
  'helm-chart': 'Helm chart',
  'flux-artifact': 'Flux artifact',
  'opa-bundle': 'OPA policy bundle',
  signature: 'Signature',
  sbom: 'SBOM',
  attestation: 'Attestation',
  artifact: 'OCI artifact',
};

export function kindLabel(kind: string): string {
  return (KIND_LABELS as Record<string, string>)[kind] ?? kind;
}

export interface Session {
  user: string | null;
  admin: boolean;
  csrf: string | null;
  authEnabled: boolean;
}

export interface Info {
  version: string;
  registryHost: string;
  features: { lifecycle: boolean; quotas: boolean };
}

export interface RepositoryItem {
  name: string;
  kind: Kind;
  tags: number;
  size: number;
  lastPush: string | null;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface Summary {
  name: string;
  kind: Kind;
  tags: number;
  manifests: number;
  size: number;
  lastPush: string | null;
  canDelete: boolean;
  canPush: boolean;
  commands: { tool: string; command: string }[];
  quota?: {
    namespace: string;
    bytes: number;
    limitBytes: number | null;
    tagsLimit: number | null;
    manifestsLimit: number | null;
  };
  retention?: { tag: string; keep: boolean; rule: string }[];
}

export interface TagItem {
  name: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  kind: Kind;
  size: number;
  pushed: string;
  pulled: string | null;
  signed: boolean;
  platforms: string[] | null;
  immutable: boolean;
}

export interface Descriptor {
  digest: string;
  mediaType: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  kind: Kind;
  size: number;
  tags: string[];
  pushed: string | null;
  /** The digest of the manifest this one refers to (docs/api.md). */
  subject: string | null;
  annotations: Record<string, string>;
  manifest: unknown;
  config: Descriptor | null;
  layers: Descriptor[];
  referrers: number;
  image?: {
    platform: string | null;
    entrypoint: string[] | null;
    cmd: string[] | null;
    env: string[] | null;
    labels: Record<string, string> | null;
    exposedPorts: string[] | Record<string, unknown> | null;
    workingDir: string | null;
    user: string | null;
    history: { created: string | null; createdBy: string | null; emptyLayer: boolean; comment: string | null }[];
  };
  index?: { manifests: { digest: string; mediaType: string; size: number; platform: string | null; kind: Kind }[] };
  chart?: {
    metadata: Record<string, unknown>;
    readmeHtml: string | null;
    values: string | null;
    valuesTruncated: boolean;
    dependencies: { name: string; version: string; repository: string; condition?: string }[];
    versions: { tag: string; digest: string; pushed: string | null }[];
  };
  flux?: { source: string | null; revision: string | null; sourceUrl: string | null; created: string | null };
  opa?: { roots: string[]; revision: string | null; rego: string[]; data: string[] };
}

export interface FileEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
}

export interface Files {
  layer: string;
  entries: FileEntry[];
  truncated: boolean;
}

export interface FileContent {
  path: string;
  size: number;
  binary: boolean;
  text: string | null;
  truncated: boolean;
  html: string | null;
}

export interface Referrer {
  digest: string;
  kind: Kind;
  artifactType: string | null;
  mediaType: string;
  size: number;
  created: string | null;
  annotations: Record<string, string>;
  legacyTag: string | null;
  verification: {
    status: 'verified' | 'failed' | 'unverified' | 'no-keys';
    signer: string | null;
    message: string;
  } | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BASE = '/api/v1';
let csrf: string | null = null;

/** The CSRF token of the signed-in session, sent with every mutation. */
export function setCsrf(token: string | null): void {
  csrf = token;
}

async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-Stowage-CSRF'] = csrf;
  const res = await fetch(BASE + path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(signal ? { signal } : {}),
  });
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'UNAVAILABLE', err?.message ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

/** `/repositories/<name>/-` : names are plain OCI names (no encoding needed, none allowed). */
export function repoPath(name: string): string {
  return `/repositories/${name.split('/').map(encodeURIComponent).join('/')}/-`;
}

/** Tags and digests have only URL-safe characters (the colon of a digest is fine in a path). */
function encRef(ref: string): string {
  return /^[A-Za-z0-9_.:=+-]+$/.test(ref) ? ref : encodeURIComponent(ref);
}

function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  session: (signal?: AbortSignal) => call<Session>('GET', '/session', undefined, signal),
  signIn: (username: string, password: string) => call<Session>('POST', '/session', { username, password }),
  signOut: () => call<void>('DELETE', '/session'),
  info: (signal?: AbortSignal) => call<Info>('GET', '/info', undefined, signal),
  repositories: (p: { q?: string; kind?: string; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
    call<Page<RepositoryItem>>('GET', `/repositories${query(p)}`, undefined, signal),
  summary: (name: string, signal?: AbortSignal) => call<Summary>('GET', `${repoPath(name)}/summary`, undefined, signal),
  tags: (name: string, p: { sort: string; cursor?: string | null; limit?: number }, signal?: AbortSignal) =>
    call<Page<TagItem>>('GET', `${repoPath(name)}/tags${query(p)}`, undefined, signal),
  deleteTag: (name: string, tag: string) => call<void>('DELETE', `${repoPath(name)}/tags/${encRef(tag)}`),
  deleteManifest: (name: string, digest: string) =>
    call<void>('DELETE', `${repoPath(name)}/manifests/${encRef(digest)}`),
  manifest: (name: string, ref: string, signal?: AbortSignal) =>
    call<Manifest>('GET', `${repoPath(name)}/manifests/${encRef(ref)}`, undefined, signal),
  config: (name: string, digest: string, signal?: AbortSignal) =>
    call<unknown>('GET', `${repoPath(name)}/manifests/${encRef(digest)}/config`, undefined, signal),
  files: (name: string, digest: string, layer: string | null, signal?: AbortSignal) =>
    call<Files>('GET', `${repoPath(name)}/manifests/${encRef(digest)}/files${query({ layer })}`, undefined, signal),
  file: (name: string, digest: string, path: string, layer: string | null, signal?: AbortSignal) =>
    call<FileContent>(
      'GET',
      `${repoPath(name)}/manifests/${encRef(digest)}/file${query({ path, layer })}`,
      undefined,
      signal,
    ),
  referrers: (name: string, digest: string, signal?: AbortSignal) =>
    call<{ items: Referrer[] }>('GET', `${repoPath(name)}/manifests/${encRef(digest)}/referrers`, undefined, signal),
};
