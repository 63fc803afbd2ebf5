import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileGlob } from '../../src/core/repository-glob.js';
import { grantScopes } from '../../src/auth/grant.js';
import { Policy, PolicyError } from '../../src/auth/policy.js';
import { POLICY } from './helpers.js';

const policy = Policy.compile(POLICY);
const acts = (
  user: string | undefined,
  repo: string,
  limit?: { glob: string; actions: ('pull' | 'push' | 'delete')[] }[],
) => [...policy.actions({ ...(user ? { user } : {}), ...(limit ? { limit } : {}) }, repo)].sort();

describe('globs', () => {
  it('* stays within a component, ** crosses them, ? is one character', () => {
    assert.ok(compileGlob('team/*').test('team/app'));
    assert.ok(!compileGlob('team/*').test('team/app/sub'));
    assert.ok(compileGlob('team/**').test('team/app/sub'));
    assert.ok(!compileGlob('team/**').test('teamx/app'));
    assert.ok(compileGlob('**').test('any/thing'));
    assert.ok(compileGlob('v?/x').test('v1/x'));
    assert.ok(!compileGlob('v?/x').test('v/x'));
    assert.ok(compileGlob('a.b/c').test('a.b/c'));
    assert.ok(!compileGlob('a.b/c').test('axb/c'), 'dots are literal');
  });
  it('refuses characters a repository name cannot have', () => {
    assert.throws(() => compileGlob('Team/*'));
    assert.throws(() => compileGlob('a/(b|c)'));
    assert.throws(() => compileGlob('a/[bc]'));
  });
});

describe('policy', () => {
  it('owners: every user owns NAME and NAME/… (pull, push, delete), like ghcr.io', () => {
    assert.deepEqual(acts('alice', 'alice/app'), ['delete', 'pull', 'push']);
    assert.deepEqual(acts('alice', 'alice'), ['delete', 'pull', 'push']);
    assert.deepEqual(acts('alice', 'alice/deep/er'), ['delete', 'pull', 'push']);
  });
  it("nobody reads another user's private repositories", () => {
    assert.deepEqual(acts('bob', 'alice/app'), []);
    assert.deepEqual(acts('alice', 'bob/app'), []);
    assert.deepEqual(acts('alice', 'alicex/app'), [], 'a longer name is not the owner');
    assert.deepEqual(acts(undefined, 'alice/app'), []);
  });
  it('public repositories are anonymously pullable, and only pullable', () => {
    assert.deepEqual(acts(undefined, 'public/base'), ['pull']);
    assert.deepEqual(acts('bob', 'public/base'), ['pull']);
  });
  it('groups and "authenticated"', () => {
    assert.deepEqual(acts('alice', 'team/x'), ['pull', 'push']);
    assert.deepEqual(acts('carol', 'team/x'), ['pull', 'push']);
    assert.deepEqual(acts('bob', 'team/x'), []);
    assert.deepEqual(acts('bob', 'shared/x'), ['pull']);
    assert.deepEqual(acts(undefined, 'shared/x'), []);
  });
  it('admins may do everything', () => {
    assert.deepEqual(acts('admin', 'alice/app'), ['delete', 'pull', 'push']);
    assert.ok(policy.isAdmin('admin'));
    assert.ok(!policy.isAdmin(undefined));
  });
  it('one admin check for callers: an admin as themselves, never through a PAT or another issuer', () => {
    assert.ok(policy.isAdminCaller({ user: 'admin', viaPat: false, local: true }));
    assert.ok(!policy.isAdminCaller({ user: 'admin', viaPat: true, local: true }), 'a PAT carries no admin rights');
    assert.ok(!policy.isAdminCaller({ user: 'admin', viaPat: false, local: false }), 'an external subject named admin');
    assert.ok(!policy.isAdminCaller({ user: 'alice', viaPat: false, local: true }));
    assert.ok(!policy.isAdminCaller(undefined));
  });
  it('a limit (PAT scopes) narrows, never widens', () => {
    assert.deepEqual(acts('alice', 'alice/app', [{ glob: 'alice/**', actions: ['pull'] }]), ['pull']);
    assert.deepEqual(acts('alice', 'alice/other', [{ glob: 'alice/app', actions: ['pull', 'push'] }]), []);
    assert.deepEqual(
      acts('alice', 'bob/app', [{ glob: '**', actions: ['pull', 'push', 'delete'] }]),
      [],
      'no more than the policy',
    );
    assert.deepEqual(acts('admin', 'x/y', [{ glob: 'x/**', actions: ['pull'] }]), ['pull']);
    assert.deepEqual(acts('alice', 'alice/app', []), [], 'an empty limit allows nothing');
  });
  it('{user} never matches names that cannot be a path component, or anonymous callers', () => {
    const p = Policy.compile({ rules: [{ repositories: ['{user}/**'], who: ['{user}'], actions: ['*'] }] });
    assert.deepEqual([...p.actions({ user: 'Alice' }, 'alice/x')], []);
    assert.deepEqual([...p.actions({ user: '**' }, 'alice/x')], []);
    assert.deepEqual([...p.actions({}, 'alice/x')], []);
  });
  it('is closed by default', () => {
    assert.deepEqual([...Policy.compile({}).actions({ user: 'alice' }, 'alice/x')], []);
  });
  it('rejects broken rules with a message naming them', () => {
    const bad: [unknown, RegExp][] = [
      [
        { rules: [{ repositories: ['a/**'], who: ['alice'], actions: ['write'] }] },
        /rules\[0\].*unknown action "write"/,
      ],
      [{ rules: [{ repositories: [], who: ['alice'], actions: ['pull'] }] }, /repository glob/],
      [{ rules: [{ repositories: ['a'], who: ['group:nope'], actions: ['pull'] }] }, /unknown group "nope"/],
      [
        { rules: [{ repositories: ['a'], who: ['{user}'], actions: ['pull'] }] },
        /needs "\{user\}" in a repository glob/,
      ],
      [{ rules: [{ repositories: ['A/**'], who: ['x'], actions: ['pull'] }] }, /invalid repository glob/],
    ];
    for (const [spec, msg] of bad)
      assert.throws(
        () => Policy.compile(spec as never),
        (e: unknown) => e instanceof PolicyError && msg.test((e as Error).message),
      );
  });
});

describe('token grants (requested ∩ allowed)', () => {
  it('grants the intersection and drops what is not allowed, without failing', () => {
    const granted = grantScopes(policy, { user: 'alice' }, [
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'bob/app', actions: ['pull'] },
      { type: 'repository', name: 'public/base', actions: ['pull', 'push'] },
      { type: 'repository', name: 'alice/x', actions: ['*'] },
      { type: 'repository', name: 'INVALID', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'other', name: 'x', actions: ['pull'] },
    ]);
    assert.deepEqual(granted, [
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'public/base', actions: ['pull'] },
      { type: 'repository', name: 'alice/x', actions: ['pull', 'push', 'delete'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });
  it('anonymous gets public pulls only', () => {
    assert.deepEqual(grantScopes(policy, {}, [{ type: 'repository', name: 'alice/app', actions: ['pull'] }]), []);
    assert.deepEqual(grantScopes(policy, {}, [{ type: 'repository', name: 'public/a', actions: ['pull', 'push'] }]), [
      { type: 'repository', name: 'public/a', actions: ['pull'] },
    ]);
  });
});
