/**
 * `_catalog` with a policy: walking it page by page (n=1) shows each caller
 * exactly the repositories it may pull, and no page, cursor or Link header
 * carries a name it may not see. Token mode and Basic mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  PASSWORDS,
  basic,
  bearer,
  call,
  fetchToken,
  pushTinyImage,
  startAuthInProcess,
  type AuthServer,
  type TestUser,
} from './helpers.js';

type Caller = TestUser | undefined;
const CALLERS: Caller[] = [undefined, 'alice', 'bob', 'carol', 'admin'];
/** Interleaved in byte order so private names sit between visible ones. */
const REPOS = [
  'alice/a-secret',
  'alice/b-secret',
  'bob/private',
  'bob/zz',
  'carol/x',
  'public/base',
  'public/zz',
  'shared/docs',
  'team/app',
];

interface Walk {
  names: string[];
  links: string[];
  emptyPagesWithLink: number;
}

async function walk(
  get: (path: string) => Promise<{ status: number; headers: Record<string, unknown>; json(): any }>,
  n: number,
): Promise<Walk> {
  const out: Walk = { names: [], links: [], emptyPagesWithLink: 0 };
  let path: string | undefined = `/v2/_catalog?n=${n}`;
  for (let pages = 0; path; pages++) {
    assert.ok(pages < 50, 'catalog walk does not end');
    const res = await get(path);
    assert.equal(res.status, 200);
    const repos = res.json().repositories as string[];
    assert.ok(repos.length <= n);
    out.names.push(...repos);
    const link = res.headers.link as string | undefined;
    if (link) {
      out.links.push(decodeURIComponent(link));
      if (repos.length === 0) out.emptyPagesWithLink++;
      // The cursor is the last name shown on this page.
      assert.equal(new URLSearchParams(/\?([^>]*)>/.exec(link)![1]).get('last'), repos[repos.length - 1]);
    }
    path = link ? /^<([^>]+)>/.exec(link)![1] : undefined;
  }
  return out;
}

function check(w: Walk, pullable: string[], who: string): void {
  assert.deepEqual(w.names, pullable, `${who}: the walk lists exactly what it may pull`);
  assert.equal(w.emptyPagesWithLink, 0, `${who}: an empty page has no Link`);
  const hidden = REPOS.filter((r) => !pullable.includes(r));
  for (const link of w.links) for (const h of hidden) assert.ok(!link.includes(h), `${who}: Link ${link} names ${h}`);
}

describe('catalog paging shows only what the caller may pull (token auth)', () => {
  let s: AuthServer;
  const token = async (who: Caller, ...scopes: string[]) =>
    (await fetchToken(s, who ? { user: who, secret: PASSWORDS[who] } : undefined, scopes)).token;

  before(async () => {
    s = await startAuthInProcess();
    const admin = await token('admin', ...REPOS.map((r) => `repository:${r}:pull,push`));
    for (const r of REPOS) assert.equal(await pushTinyImage(s, r, 'v1', bearer(admin)), 201, r);
  });
  after(async () => {
    await s?.stop();
  });

  /** What `who` may pull, asked repository by repository through the API itself. */
  async function pullable(who: Caller): Promise<string[]> {
    const out: string[] = [];
    for (const r of REPOS) {
      const t = await token(who, `repository:${r}:pull`);
      if ((await call(s.url, 'GET', `/v2/${r}/tags/list`, { headers: bearer(t) })).status === 200) out.push(r);
    }
    return out;
  }

  for (const who of CALLERS) {
    for (const n of [1, 2]) {
      it(`${who ?? 'anonymous'}, n=${n}`, async () => {
        const expected = await pullable(who);
        assert.ok(expected.length < REPOS.length || who === 'admin');
        const t = await token(who, 'registry:catalog:*');
        const w = await walk((p) => call(s.url, 'GET', p, { headers: bearer(t) }), n);
        check(w, expected, who ?? 'anonymous');
      });
    }
  }

  it('a cursor past every visible name answers an empty page without Link', async () => {
    const t = await token(undefined, 'registry:catalog:*');
    const res = await call(s.url, 'GET', '/v2/_catalog?n=1&last=public/zz', { headers: bearer(t) });
    assert.deepEqual(res.json(), { repositories: [] });
    assert.equal(res.headers.link, undefined);
  });
});

describe('catalog paging shows only what the caller may pull (Basic auth)', () => {
  let s: AuthServer;
  before(async () => {
    s = await startAuthInProcess({ mode: 'basic' });
    const h = { Authorization: basic('admin', PASSWORDS.admin) };
    for (const r of REPOS) assert.equal(await pushTinyImage(s, r, 'v1', h), 201, r);
  });
  after(async () => {
    await s?.stop();
  });

  for (const who of CALLERS) {
    it(`${who ?? 'anonymous'}, n=1`, async () => {
      const headers = who ? { Authorization: basic(who, PASSWORDS[who]) } : {};
      const expected: string[] = [];
      for (const r of REPOS)
        if ((await call(s.url, 'GET', `/v2/${r}/tags/list`, { headers })).status === 200) expected.push(r);
      check(await walk((p) => call(s.url, 'GET', p, { headers }), 1), expected, who ?? 'anonymous');
    });
  }
});
