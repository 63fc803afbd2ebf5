/**
 * Plumbing for test/api: content pushed through the registry's own /v2 API (raw
 * PUTs, as any client sends them), and calls to /api/v1 as a signed-in browser
 * (cookie + CSRF), a script (Basic/Bearer) or anonymously.
 */
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { PASSWORDS, call, fetchToken, type AuthServer, type Res, type TestUser } from '../auth/helpers.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface Pushed {
  digest: string;
  size: number;
  mediaType: string;
}

/** A bearer token for the admin with push and pull on these repositories. */
export async function adminToken(s: AuthServer, repos: string[]): Promise<string> {
  const t = await fetchToken(
    s,
    { user: 'admin', secret: PASSWORDS.admin },
    repos.map((r) => `repository:${r}:push,pull,delete`),
  );
  return t.token;
}

async function putBlob(s: AuthServer, token: string, repo: string, blob: Buffer): Promise<void> {
  const res = await call(s.url, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha(blob)}`, {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
    body: blob,
  });
  assert.equal(res.status, 201, res.text);
}

export async function putManifest(
  s: AuthServer,
  token: string,
  repo: string,
  ref: string,
  doc: Record<string, unknown>,
  mediaType = String(doc.mediaType ?? 'application/vnd.oci.image.manifest.v1+json'),
): Promise<Pushed> {
  const body = Buffer.from(JSON.stringify(doc));
  const res = await call(s.url, 'PUT', `/v2/${repo}/manifests/${ref}`, {
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': mediaType },
    body,
  });
  assert.equal(res.status, 201, res.text);
  return { digest: sha(body), size: body.length, mediaType };
}

/** An OCI image: a config with the given fields and os/arch, and one layer per string. */
export async function pushImage(
  s: AuthServer,
  token: string,
  repo: string,
  tag: string | undefined,
  o: { arch?: string; variant?: string; config?: Record<string, unknown>; history?: unknown[]; layers?: string[] } = {},
): Promise<Pushed & { config: Pushed; layers: Pushed[] }> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: o.arch ?? 'amd64',
      os: 'linux',
      ...(o.variant ? { variant: o.variant } : {}),
      config: o.config ?? {},
      rootfs: { type: 'layers', diff_ids: [] },
      history: o.history ?? [],
    }),
  );
  const layers = (o.layers ?? [`layer of ${repo}:${tag ?? 'untagged'}:${o.arch ?? 'amd64'}`]).map((l) =>
    Buffer.from(l),
  );
  for (const b of [config, ...layers]) await putBlob(s, token, repo, b);
  const layerDescs = layers.map((l) => ({
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    digest: sha(l),
    size: l.length,
  }));
  const doc = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: layerDescs,
  };
  const pushed = await putManifest(s, token, repo, tag ?? sha(Buffer.from(JSON.stringify(doc))), doc);
  return {
    ...pushed,
    config: { digest: sha(config), size: config.length, mediaType: 'application/vnd.oci.image.config.v1+json' },
    layers: layerDescs,
  };
}

/** A multi-arch index of fresh images for the platforms given (`os/arch[/variant]`). */
export async function pushIndex(s: AuthServer, token: string, repo: string, tag: string, platforms: string[]) {
  const children = [];
  for (const p of platforms) {
    const [, arch, variant] = p.split('/');
    const img = await pushImage(s, token, repo, undefined, {
      arch: arch!,
      ...(variant ? { variant } : {}),
      layers: [`${repo} ${p}`],
    });
    children.push({
      mediaType: img.mediaType,
      digest: img.digest,
      size: img.size,
      platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) },
    });
  }
  const index = await putManifest(s, token, repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: children,
  });
  return { ...index, children };
}

export interface Browser {
  user: string;
  cookie: string;
  csrf: string;
}

/** Signs in as a browser does: POST /api/v1/session with JSON; returns the cookie and the CSRF value. */
export async function signIn(s: AuthServer, user: TestUser | string, password?: string): Promise<Browser> {
  const res = await call(s.url, 'POST', '/api/v1/session', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: password ?? PASSWORDS[user as TestUser] }),
  });
  assert.equal(res.status, 200, res.text);
  return { user, cookie: res.headers['set-cookie']![0]!.split(';')[0]!, csrf: res.json().csrf };
}

/** GET (or another method) on /api/v1 as this browser (cookie; CSRF on mutations unless `csrf: false`), or anonymously. */
export function api(
  s: AuthServer,
  path: string,
  as?: Browser | { authorization: string },
  o: { method?: string; csrf?: boolean } = {},
): Promise<Res> {
  const method = o.method ?? 'GET';
  const headers: Record<string, string> = {};
  if (as && 'cookie' in as) {
    headers.Cookie = as.cookie;
    if (method !== 'GET' && o.csrf !== false) headers['X-Stowage-CSRF'] = as.csrf;
  } else if (as) headers.Authorization = as.authorization;
  return call(s.url, method, `/api/v1${path}`, { headers });
}

/** Every repository name a caller sees, walking the pages with `limit`; checks each page's shape. */
export async function walkRepositories(s: AuthServer, as: Browser | undefined, query: string, limit: number) {
  const names: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 200, 'the walk does not end');
    const res = await api(s, `/repositories?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`, as);
    assert.equal(res.status, 200, res.text);
    const body = res.json();
    assert.ok(body.items.length <= limit);
    names.push(...body.items.map((i: { name: string }) => i.name));
    cursor = body.next;
    if (cursor === null) return names;
  }
}
