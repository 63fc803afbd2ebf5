import { matchTable, type TableMatch } from '../http/routes.js';
import type { ApiHandler } from './api-context.js';
import { info } from './handlers/info.js';
import { endSession, getSession, startSession } from './handlers/session.js';
import { listRepositories } from './handlers/repositories.js';
import { deleteManifestByDigest, deleteTag, repositorySummary, repositoryTags } from './handlers/repository.js';
import { manifestConfig, manifestDetails } from './handlers/manifest.js';
import { listFiles, listReferrers, showFile } from './handlers/content.js';

/**
 * What a request needs before its handler runs: `pull` on the route's repository
 * (else 404, so invisible repositories cannot be told from absent ones), or
 * `delete` (404 when not even pullable, else 403 DENIED).
 */
export type ApiAccess = 'none' | 'pull' | 'delete';

export interface ApiRoute {
  /** The `handler` label of the request metrics (prefixed `api_`). */
  name: string;
  /** Matched against the raw path. Groups: name, tag, ref. */
  pattern: RegExp;
  methods: Partial<Record<string, { handler: ApiHandler; access: ApiAccess }>>;
}

// A repository's own resources sit after `/-/`, which no OCI name can contain, so
// the name is everything before it.
export const REPO = '^/api/v1/repositories/(?<name>.+?)/-';

/** The whole `/api/v1` at a glance (docs/api.md). HEAD is served by the GET handler. */
export const API_ROUTES: readonly ApiRoute[] = [
  { name: 'api_info', pattern: /^\/api\/v1\/info$/, methods: { GET: { handler: info, access: 'none' } } },
  {
    name: 'api_session',
    pattern: /^\/api\/v1\/session$/,
    methods: {
      GET: { handler: getSession, access: 'none' },
      POST: { handler: startSession, access: 'none' },
      DELETE: { handler: endSession, access: 'none' },
    },
  },
  {
    name: 'api_repositories',
    pattern: /^\/api\/v1\/repositories$/,
    methods: { GET: { handler: listRepositories, access: 'none' } },
  },
  {
    name: 'api_repository_summary',
    pattern: new RegExp(`${REPO}/summary$`),
    methods: { GET: { handler: repositorySummary, access: 'pull' } },
  },
  {
    name: 'api_repository_tags',
    pattern: new RegExp(`${REPO}/tags$`),
    methods: { GET: { handler: repositoryTags, access: 'pull' } },
  },
  {
    name: 'api_tag',
    pattern: new RegExp(`${REPO}/tags/(?<tag>[^/]+)$`),
    methods: { DELETE: { handler: deleteTag, access: 'delete' } },
  },
  {
    name: 'api_manifest',
    pattern: new RegExp(`${REPO}/manifests/(?<ref>[^/]+)$`),
    methods: {
      GET: { handler: manifestDetails, access: 'pull' },
      DELETE: { handler: deleteManifestByDigest, access: 'delete' },
    },
  },
  {
    name: 'api_manifest_config',
    pattern: new RegExp(`${REPO}/manifests/(?<ref>[^/]+)/config$`),
    methods: { GET: { handler: manifestConfig, access: 'pull' } },
  },
  {
    name: 'api_files',
    pattern: new RegExp(`${REPO}/manifests/(?<ref>[^/]+)/files$`),
    methods: { GET: { handler: listFiles, access: 'pull' } },
  },
  {
    name: 'api_file',
    pattern: new RegExp(`${REPO}/manifests/(?<ref>[^/]+)/file$`),
    methods: { GET: { handler: showFile, access: 'pull' } },
  },
  {
    name: 'api_referrers',
    pattern: new RegExp(`${REPO}/manifests/(?<ref>[^/]+)/referrers$`),
    methods: { GET: { handler: listReferrers, access: 'pull' } },
  },
];

export type ApiRouteMatch = TableMatch<ApiHandler, ApiAccess>;

export function matchApiRoute(method: string, path: string): ApiRouteMatch {
  return matchTable(API_ROUTES, method, path);
}
