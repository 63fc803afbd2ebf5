import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessGrants, formatScope, parseResourceScope, parseScopes, readAccessClaim } from '../../src/core/scope.js';
import {
  accessDetail,
  basicChallenge,
  bearerChallenge,
  defaultRealm,
  requiredScopes,
} from '../../src/auth/challenge.js';
import { readAuthorization } from '../../src/auth/credentials.js';

describe('scope parsing', () => {
  it('splits type, name and actions; the name may hold host:port', () => {
    assert.deepEqual(parseResourceScope('repository:samalba/my-app:pull,push'), {
      type: 'repository',
      name: 'samalba/my-app',
      actions: ['pull', 'push'],
    });
    assert.deepEqual(parseResourceScope('repository:localhost:5000/app:pull'), {
      type: 'repository',
      name: 'localhost:5000/app',
      actions: ['pull'],
    });
    assert.deepEqual(parseResourceScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseResourceScope('repository(plugin):vieux/sshfs:pull'), {
      type: 'repository',
      name: 'vieux/sshfs',
      actions: ['pull'],
    });
  });

  it('drops malformed scopes instead of failing', () => {
    for (const bad of [
      '',
      'repository',
      'repository:app',
      ':app:pull',
      'Repo:app:pull',
      'repository::pull',
      'repository:app:',
      'repository:app:PULL',
      'repository:app:pu ll',
    ]) {
      assert.equal(parseResourceScope(bad), undefined, bad);
    }
  });

  it('accepts repeated params and space-separated scopes in one value, merging per resource', () => {
    const scopes = parseScopes([
      'repository:a/b:pull repository:c/d:pull',
      'repository:a/b:push',
      'junk',
      'repository:a/b:pull',
    ]);
    assert.deepEqual(scopes, [
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'repository', name: 'c/d', actions: ['pull'] },
    ]);
    assert.equal(formatScope(scopes[0]!), 'repository:a/b:pull,push');
  });

  it('caps the number of resources', () => {
    const many = Array.from({ length: 200 }, (_, i) => `repository:r${i}:pull`);
    assert.equal(parseScopes(many, 64).length, 64);
  });

  it('checks access claims, with * granting every action and bad entries granting nothing', () => {
    const access = readAccessClaim([
      { type: 'repository', name: 'a', actions: ['pull'] },
      { type: 'repository', name: 'b', actions: ['*'] },
      { type: 'repository(plugin)', name: 'c', actions: ['pull'] },
      { type: 'repository', name: 'd', actions: 'pull' },
      null,
      'x',
    ]);
    assert.equal(accessGrants(access, 'repository', 'a', 'pull'), true);
    assert.equal(accessGrants(access, 'repository', 'a', 'push'), false);
    assert.equal(accessGrants(access, 'repository', 'b', 'delete'), true);
    assert.equal(accessGrants(access, 'repository', 'c', 'pull'), true);
    assert.equal(accessGrants(access, 'repository', 'd', 'pull'), false);
    assert.deepEqual(readAccessClaim('nope'), []);
  });
});

describe('challenges', () => {
  it('formats Bearer challenges with quoted parameters and the needed scope', () => {
    assert.equal(
      bearerChallenge({
        realm: 'https://r.example/token',
        service: 'r.example',
        scopes: requiredScopes('push', 'a/b', 'c/d'),
        error: 'insufficient_scope',
      }),
      'Bearer realm="https://r.example/token",service="r.example",scope="repository:a/b:pull,push repository:c/d:pull",error="insufficient_scope"',
    );
    assert.equal(
      bearerChallenge({ realm: 'http://h/token', service: 's' }),
      'Bearer realm="http://h/token",service="s"',
    );
    assert.equal(basicChallenge('Stowage'), 'Basic realm="Stowage",charset="UTF-8"');
  });

  it('maps route access to scopes', () => {
    assert.deepEqual(requiredScopes('ping', undefined), []);
    assert.deepEqual(requiredScopes('catalog', undefined), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.deepEqual(requiredScopes('pull', 'x'), [{ type: 'repository', name: 'x', actions: ['pull'] }]);
    assert.deepEqual(requiredScopes('delete', 'x'), [{ type: 'repository', name: 'x', actions: ['delete'] }]);
    assert.deepEqual(accessDetail(requiredScopes('push', 'x')), [
      { Type: 'repository', Name: 'x', Action: 'pull' },
      { Type: 'repository', Name: 'x', Action: 'push' },
    ]);
  });

  it('derives the realm from a well-formed Host only', () => {
    assert.equal(defaultRealm('127.0.0.1:5000', false), 'http://127.0.0.1:5000/token');
    assert.equal(defaultRealm('reg.example', true), 'https://reg.example/token');
    assert.equal(defaultRealm('[::1]:5000', false), 'http://[::1]:5000/token');
    assert.equal(defaultRealm('evil.example/x?', true), 'https://localhost/token');
    assert.equal(defaultRealm(undefined, false), 'http://localhost/token');
  });
});

describe('Authorization header', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  it('reads Basic and Bearer, case-insensitively', () => {
    assert.deepEqual(readAuthorization(`Basic ${b64('alice:pa:ss')}`), {
      kind: 'basic',
      user: 'alice',
      secret: 'pa:ss',
    });
    assert.deepEqual(readAuthorization(`basic ${b64('alice:x')}`), { kind: 'basic', user: 'alice', secret: 'x' });
    assert.deepEqual(readAuthorization('BEARER abc.def.ghi'), { kind: 'bearer', token: 'abc.def.ghi' });
  });
  it("treats no header and podman's empty `Basic Og==` as anonymous", () => {
    assert.deepEqual(readAuthorization(undefined), { kind: 'none' });
    assert.deepEqual(readAuthorization('Basic Og=='), { kind: 'none' });
  });
  it('flags anything else as malformed', () => {
    for (const h of ['Basic', 'Basic !!!', `Basic ${b64('nocolon')}`, 'Digest x', 'Bearer a b'])
      assert.equal(readAuthorization(h).kind, 'malformed', h);
  });
});
