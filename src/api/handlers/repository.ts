import { isReferrerKind } from '../../core/artifact-kind.js';
import { RegistryError } from '../../core/errors.js';
import { MAX_PAGE } from '../../core/pagination.js';
import { compareVersions, parseVersion, type Version } from '../../gocompat/semver.js';
import { planRepository, policyFor } from '../../lifecycle/retention.js';
import { describeImmutableRule, immutableRule } from '../../registry/immutable-tags.js';
import { namespaceOf, quotaFor } from '../../registry/quotas.js';
import type { TagDetail } from '../../storage/browse.js';
import { actorOf } from '../../http/actor.js';
import type { ApiContext, ApiHandler } from '../api-context.js';
import { sendApiEmpty, sendApiJson } from '../api-errors.js';
import { decodeCursor, encodeCursor, parseLimit, time } from '../paging.js';
import { pullCommands } from '../pull-commands.js';
import { registryHost } from '../registry-host.js';

const DEFAULT_TAGS = 100;
const MAX_TAGS = 1000;
/** Recent tags looked at for the one the pull commands name. */
const LATEST_SCAN = 50;

async function summaryOf(ctx: ApiContext, name: string) {
  const [summary] = await ctx.registry.meta.repositorySummaries([name]);
  if (!summary) throw new RegistryError('NAME_UNKNOWN', `repository ${name} not found`);
  return summary;
}

/** `GET …/<name>/-/summary`: counts, size, what the caller may do, the pull commands; quota and retention when configured. */
export const repositorySummary: ApiHandler = async (ctx) => {
  const name = ctx.params.name!;
  const meta = ctx.registry.meta;
  const summary = await summaryOf(ctx, name);
  const recent = await meta.tagDetails(name, { order: 'pushed', limit: LATEST_SCAN });
  // The newest tag of what the repository is (a signature pushed last is not what people pull).
  const latest =
    recent.find((t) => t.kind === summary.kind) ?? recent.find((t) => !isReferrerKind(t.kind)) ?? recent[0];
  const o = ctx.options;
  const quotaRule = o.quotas && quotaFor(o.quotas, name);
  let quota;
  if (quotaRule) {
    const namespace = namespaceOf(name);
    quota = {
      namespace,
      bytes: (await meta.namespaceUsage(namespace)).bytes,
      limitBytes: quotaRule.bytes ?? null,
      tagsLimit: quotaRule.tagsPerRepository ?? null,
      manifestsLimit: quotaRule.manifestsPerRepository ?? null,
    };
  }
  let retention;
  if (o.retention && policyFor(name, o.retention)) {
    // The collector's own dry-run decision (src/lifecycle/retention.ts), as it would run now.
    const plan = planRepository(
      name,
      await meta.repositoryInventory(name),
      o.retention,
      { now: Date.now(), gracePeriodMs: o.gracePeriodMs },
      (tag) => {
        const rule = immutableRule(ctx.registry.immutableTags, name, tag);
        return rule && describeImmutableRule(rule);
      },
    );
    retention = plan.decisions.map((d) => ({ tag: d.tag, keep: d.keep, rule: d.rule }));
  }
  sendApiJson(ctx.res, 200, {
    name,
    kind: summary.kind,
    tags: summary.tags,
    manifests: summary.manifests,
    size: summary.size,
    lastPush: time(summary.lastPush),
    canDelete: ctx.registry.writable(name) && ctx.can(name, 'delete'),
    canPush: ctx.registry.writable(name) && ctx.can(name, 'push'),
    commands: latest ? pullCommands(latest.kind, registryHost(ctx.req, o), name, latest.name) : [],
    ...(quota ? { quota } : {}),
    ...(retention ? { retention } : {}),
  });
};

type TagCursor = { p: number; n: string } | { n: string };
const isTagCursor = (v: unknown): v is TagCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { n?: unknown }).n === 'string' &&
  ((v as { p?: unknown }).p === undefined || Number.isSafeInteger((v as { p?: unknown }).p));

/**
 * `GET …/<name>/-/tags?sort=pushed|semver|name&limit=&cursor=`. Push time and name
 * are walked on the store's indexes; semver order is computed over the tag names
 * (versions highest first, then the other tags by name) and details read for the page.
 */
export const repositoryTags: ApiHandler = async (ctx) => {
  const name = ctx.params.name!;
  const meta = ctx.registry.meta;
  const sort = ctx.query.get('sort') ?? 'pushed';
  if (sort !== 'pushed' && sort !== 'semver' && sort !== 'name')
    throw new RegistryError('BAD_REQUEST', 'sort must be pushed, semver or name');
  const limit = parseLimit(ctx.query.get('limit'), DEFAULT_TAGS, MAX_TAGS);
  const cursor = decodeCursor(ctx.query.get('cursor'), isTagCursor);
  if (!(await meta.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', `repository ${name} not found`);
  let page: TagDetail[];
  let more: boolean;
  if (sort === 'semver') {
    const ordered = semverOrder(await allTags(ctx, name));
    const start = cursor ? ordered.indexOf(cursor.n) + 1 : 0;
    if (cursor && start === 0)
      throw new RegistryError('BAD_REQUEST', 'the cursor names a tag that is gone; start again');
    const names = ordered.slice(start, start + limit);
    page = await meta.tagDetails(name, { names });
    more = start + limit < ordered.length;
  } else {
    const rows =
      sort === 'name'
        ? await meta.tagDetails(name, { order: 'name', limit: limit + 1, ...(cursor ? { after: cursor.n } : {}) })
        : await meta.tagDetails(name, {
            order: 'pushed',
            limit: limit + 1,
            ...(cursor && 'p' in cursor ? { after: { pushedAt: cursor.p, name: cursor.n } } : {}),
          });
    more = rows.length > limit;
    page = rows.slice(0, limit);
  }
  const last = page[page.length - 1];
  const admin = ctx.isAdmin();
  sendApiJson(ctx.res, 200, {
    items: page.map((t) => ({
      name: t.name,
      digest: t.digest,
      mediaType: t.mediaType,
      artifactType: t.artifactType ?? null,
      kind: t.kind,
      size: t.size,
      pushed: time(t.pushedAt),
      pulled: time(t.pulledAt),
      signed: t.signed,
      platforms: t.platforms ?? null,
      immutable: ctx.registry.immutableRuleFor(name, t.name, { admin }) !== undefined,
    })),
    next: more && last ? encodeCursor(sort === 'pushed' ? { p: last.pushedAt, n: last.name } : { n: last.name }) : null,
  });
};

async function allTags(ctx: ApiContext, name: string): Promise<string[]> {
  const out: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await ctx.registry.meta.listTags(name, { n: MAX_PAGE, ...(last !== undefined ? { last } : {}) });
    if (!page) return out;
    out.push(...page.items);
    if (page.next === undefined) return out;
    last = page.next;
  }
}

/** Versions highest first (Helm's `_` read as `+`), then every other tag by name. */
export function semverOrder(tags: readonly string[]): string[] {
  const versions: { tag: string; v: Version }[] = [];
  const others: string[] = [];
  for (const tag of tags) {
    try {
      versions.push({ tag, v: parseVersion(tag.replaceAll('_', '+')) });
    } catch {
      others.push(tag);
    }
  }
  versions.sort((a, b) => compareVersions(b.v, a.v) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return [...versions.map((x) => x.tag), ...others.sort()];
}

/** `DELETE …/<name>/-/tags/<tag>`: the tag only (immutable tags refused with their rule). */
export const deleteTag: ApiHandler = async (ctx) => {
  const name = ctx.params.name!;
  const tag = ctx.params.tag!;
  if (tag.includes(':'))
    throw new RegistryError('BAD_REQUEST', 'a tag cannot contain ":"; delete a digest under manifests/');
  await ctx.registry.deleteManifest(name, tag, callerOf(ctx));
  ctx.audit.deleted = { tag };
  sendApiEmpty(ctx.res);
};

/** `DELETE …/<name>/-/manifests/<digest>`: the manifest and every tag naming it. */
export const deleteManifestByDigest: ApiHandler = async (ctx) => {
  const name = ctx.params.name!;
  const digest = ctx.params.ref!;
  if (!digest.includes(':')) throw new RegistryError('BAD_REQUEST', 'delete a manifest by digest; a tag under tags/');
  await ctx.registry.deleteManifest(name, digest, callerOf(ctx));
  ctx.audit.deleted = { digest };
  sendApiEmpty(ctx.res);
};

function callerOf(ctx: ApiContext) {
  return { admin: ctx.isAdmin(), actor: actorOf({ req: ctx.req, res: ctx.res, principal: () => ctx.caller?.user }) };
}
