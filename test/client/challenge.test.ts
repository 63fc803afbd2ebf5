import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges, pickChallenge } from '../../src/client/index.js';

describe('WWW-Authenticate challenges', () => {
  it('parses Docker Hub’s and ghcr’s Bearer challenges', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:samalba/my-app:pull,push',
          },
        },
      ],
    );
    const [c] = parseChallenges(
      'Bearer realm="https://reg.example/token",service="reg.example",scope="repository:a/b:pull,push repository:c/d:pull",error="insufficient_scope"',
    );
    assert.equal(c?.params.scope, 'repository:a/b:pull,push repository:c/d:pull');
    assert.equal(c?.params.error, 'insufficient_scope');
  });

  it('parses Basic, unquoted values, spaces, odd case and escapes', () => {
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
    assert.deepEqual(parseChallenges('BEARER Realm=http://127.0.0.1:5000/token , Service = stowage'), [
      { scheme: 'bearer', params: { realm: 'http://127.0.0.1:5000/token', service: 'stowage' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="say \\"hi\\", please"'), [
      { scheme: 'basic', params: { realm: 'say "hi", please' } },
    ]);
  });

  it('splits several challenges in one header and across headers', () => {
    const all = parseChallenges([
      'Basic realm="x", Bearer realm="https://a/token",service="s"',
      'Negotiate abc123==, Digest realm="d", nonce="n"',
    ]);
    assert.deepEqual(
      all.map((c) => c.scheme),
      ['basic', 'bearer', 'negotiate', 'digest'],
    );
    assert.equal(all[2]?.token68, 'abc123==');
    assert.deepEqual(all[3]?.params, { realm: 'd', nonce: 'n' });
  });

  it('prefers Bearer with a realm, then Basic', () => {
    assert.equal(pickChallenge(parseChallenges('Basic realm="x", Bearer realm="https://a/token"'))?.scheme, 'bearer');
    assert.equal(pickChallenge(parseChallenges('Bearer service="no realm", Basic realm="x"'))?.scheme, 'basic');
    assert.equal(pickChallenge(parseChallenges('Negotiate')), undefined);
    assert.deepEqual(parseChallenges(undefined), []);
    assert.deepEqual(parseChallenges(''), []);
  });
});
