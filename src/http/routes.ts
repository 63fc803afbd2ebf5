import type { Handler } from './context.js';
import { base, catalog, health, ready } from './handlers/base.js';
import { metrics } from './handlers/metrics.js';
import { deleteBlob, getBlob } from './handlers/blobs.js';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './handlers/uploads.js';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.js';
import { listTags } from './handlers/tags.js';
import { listReferrers } from './handlers/referrers.js';
import { token } from './handlers/token.js';

/**
 * What a request needs to be allowed, checked before its handler runs. `ping`
 * (`GET /v2/`) is open without auth; with auth on it needs a logged-in caller
 * (or any valid token), because clients learn how to authenticate only there.
 */
export type Access = 'none' | 'ping' | 'pull' | 'push' | 'delete' | 'catalog';

export interface Route {
  /** Distribution's route name, the `handler` label of the request metrics. */
  name: string;
  /** Matched against the raw (still percent-encoded) path. Groups: name, ref, id. */
  pattern: RegExp;
  methods: Partial<Record<string, { handler: Handler; access: Access }>>;
}

// A repository name may contain "blobs", "manifests"…: the greedy name group makes
// every pattern match its known suffix at the end of the path. Upload routes come
// before blob routes so "…/blobs/uploads" is never read as a digest.
const NAME = '(?<name>.+)';

/** The whole registry API at a glance. HEAD is served by the GET handler. */
export const ROUTES: readonly Route[] = [
  { name: 'base', pattern: /^\/v2\/?$/, methods: { GET: { handler: base, access: 'ping' } } },
  { name: 'catalog', pattern: /^\/v2\/_catalog$/, methods: { GET: { handler: catalog, access: 'catalog' } } },
  {
    name: 'tags',
    pattern: new RegExp(`^/v2/${NAME}/tags/list$`),
    methods: { GET: { handler: listTags, access: 'pull' } },
  },
  {
    name: 'manifest',
    pattern: new RegExp(`^/v2/${NAME}/manifests/(?<ref>[^/]+)$`),
    methods: {
      GET: { handler: getManifest, access: 'pull' },
      PUT: { handler: putManifest, access: 'push' },
      DELETE: { handler: deleteManifest, access: 'delete' },
    },
  },
  {
    name: 'blob_upload',
    pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/?$`),
    methods: { POST: { handler: startUpload, access: 'push' } },
  },
  {
    name: 'blob_upload_chunk',
    pattern: new RegExp(`^/v2/${NAME}/blobs/uploads/(?<id>[^/]+)$`),
    methods: {
      GET: { handler: uploadStatus, access: 'push' },
      PATCH: { handler: patchUpload, access: 'push' },
      PUT: { handler: finishUpload, access: 'push' },
      DELETE: { handler: cancelUpload, access: 'push' },
    },
  },
  {
    name: 'blob',
    pattern: new RegExp(`^/v2/${NAME}/blobs/(?<ref>[^/]+)$`),
    methods: {
      GET: { handler: getBlob, access: 'pull' },
      DELETE: { handler: deleteBlob, access: 'delete' },
    },
  },
  {
    name: 'referrers',
    pattern: new RegExp(`^/v2/${NAME}/referrers/(?<ref>[^/]+)$`),
    methods: { GET: { handler: listReferrers, access: 'pull' } },
  },
  // Docker token auth's token endpoint, on the registry's own origin (404 unless token auth is on).
  {
    name: 'token',
    pattern: /^\/token\/?$/,
    methods: { GET: { handler: token, access: 'none' }, POST: { handler: token, access: 'none' } },
  },
  { name: 'healthz', pattern: /^\/healthz$/, methods: { GET: { handler: health, access: 'none' } } },
  { name: 'readyz', pattern: /^\/readyz$/, methods: { GET: { handler: ready, access: 'none' } } },
  // Prometheus scrapes (404 unless metrics are on and served on this address; own bearer token).
  { name: 'metrics', pattern: /^\/metrics$/, methods: { GET: { handler: metrics, access: 'none' } } },
];

/** What a route table answers for a request, whatever its handlers (also /api/v1's, src/api/api-routes.ts). */
export type TableMatch<H, A> =
  | { kind: 'found'; name: string; handler: H; access: A; params: Record<string, string> }
  | { kind: 'method-not-allowed'; name: string; allowed: string[] }
  | { kind: 'not-found' };

export type RouteMatch = TableMatch<Handler, Access>;

/** The first route whose pattern matches; HEAD is served by GET's entry. */
export function matchTable<H, A>(
  routes: readonly { name: string; pattern: RegExp; methods: Partial<Record<string, { handler: H; access: A }>> }[],
  method: string,
  path: string,
): TableMatch<H, A> {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    const entry = route.methods[method === 'HEAD' ? 'GET' : method];
    if (!entry) {
      const allowed = Object.keys(route.methods);
      if (allowed.includes('GET')) allowed.push('HEAD');
      return { kind: 'method-not-allowed', name: route.name, allowed };
    }
    return { kind: 'found', name: route.name, handler: entry.handler, access: entry.access, params: { ...m.groups } };
  }
  return { kind: 'not-found' };
}

export function matchRoute(method: string, path: string): RouteMatch {
  return matchTable(ROUTES, method, path);
}
