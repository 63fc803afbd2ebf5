import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  apiHost,
  familiarName,
  formatReference,
  isLoopback,
  parseReference,
  parseRegistryHost,
  parseRepository,
  type ClientError,
} from '../../src/client/index.js';

const D = `sha256:${'a'.repeat(64)}`;

function fails(input: string, pattern: RegExp, opts?: Parameters<typeof parseReference>[1]): void {
  assert.throws(
    () => parseReference(input, opts),
    (e: ClientError) => e.code === 'INVALID_REFERENCE' && e.usage === true && pattern.test(e.message),
    input,
  );
}

describe('references', () => {
  it('reads host:port, path, tag and digest in the plain form', () => {
    assert.deepEqual(parseReference('localhost:5000/team/app:v1'), {
      registry: 'localhost:5000',
      repository: 'team/app',
      tag: 'v1',
    });
    assert.deepEqual(parseReference(`ghcr.io/org/a/b@${D}`), { registry: 'ghcr.io', repository: 'org/a/b', digest: D });
    assert.deepEqual(parseReference(`reg.example.com:443/x:1.0@${D}`), {
      registry: 'reg.example.com:443',
      repository: 'x',
      tag: '1.0',
      digest: D,
    });
    assert.deepEqual(parseReference('127.0.0.1:5000/app'), {
      registry: '127.0.0.1:5000',
      repository: 'app',
      tag: 'latest',
    });
    assert.deepEqual(parseReference('[::1]:5000/app:v2'), { registry: '[::1]:5000', repository: 'app', tag: 'v2' });
  });

  it('reads the oci:// form, where the first component is always the host', () => {
    assert.deepEqual(parseReference('oci://localhost:5000/charts/nginx:1.2.3'), {
      registry: 'localhost:5000',
      repository: 'charts/nginx',
      tag: '1.2.3',
    });
    assert.deepEqual(parseReference('oci://myregistry/charts'), {
      registry: 'myregistry',
      repository: 'charts',
      tag: 'latest',
    });
    assert.deepEqual(parseReference('OCI://Registry.Example.com/a'), {
      registry: 'registry.example.com',
      repository: 'a',
      tag: 'latest',
    });
    fails('oci://localhost:5000', /no repository/);
    fails('https://localhost:5000/app', /unknown scheme/);
  });

  it('applies docker’s defaults: Docker Hub, library/, latest', () => {
    assert.deepEqual(parseReference('alpine'), { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' });
    assert.deepEqual(parseReference('alpine:3.19'), {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: '3.19',
    });
    assert.deepEqual(parseReference('bitnami/nginx'), {
      registry: 'docker.io',
      repository: 'bitnami/nginx',
      tag: 'latest',
    });
    assert.deepEqual(parseReference('docker.io/alpine'), {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: 'latest',
    });
    assert.deepEqual(parseReference('index.docker.io/library/alpine'), {
      registry: 'docker.io',
      repository: 'library/alpine',
      tag: 'latest',
    });
    assert.deepEqual(parseReference('registry-1.docker.io/user/app:v1'), {
      registry: 'docker.io',
      repository: 'user/app',
      tag: 'v1',
    });
    assert.deepEqual(parseReference(`alpine@${D}`), { registry: 'docker.io', repository: 'library/alpine', digest: D });
    assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(apiHost('localhost:5000'), 'localhost:5000');
  });

  it('detects hosts like docker: a dot, a colon, localhost, or uppercase in the first component', () => {
    assert.equal(parseReference('localhost/app').registry, 'localhost');
    assert.equal(parseReference('myhost:5000/app').registry, 'myhost:5000');
    assert.equal(parseReference('my.host/app').registry, 'my.host');
    assert.equal(parseReference('team/app').registry, 'docker.io');
    assert.equal(parseReference('MyHost/app').registry, 'myhost');
  });

  it('leaves the tag unset on request (copy destinations, tags listings)', () => {
    assert.deepEqual(parseReference('localhost:5000/app', { defaultTag: null }), {
      registry: 'localhost:5000',
      repository: 'app',
    });
    assert.deepEqual(parseRepository('localhost:5000/team/app'), {
      registry: 'localhost:5000',
      repository: 'team/app',
    });
    assert.throws(() => parseRepository('localhost:5000/team/app:v1'), /without :tag/);
  });

  it('refuses what the grammars refuse, saying why', () => {
    fails('', /empty/);
    fails('localhost:5000/Team/App:v1', /must be lowercase/);
    fails('localhost:5000/team/app:-bad', /not a valid tag/);
    fails(`localhost:5000/app:${'t'.repeat(129)}`, /not a valid tag/);
    fails('localhost:5000/app@sha256:abc', /not a valid sha256/);
    fails('localhost:5000/app@md5:d41d8cd98f00b204e9800998ecf8427e', /not a valid/);
    fails('localhost:5000/team//app', /not a valid repository/);
    fails('localhost:5000/', /no repository/);
    fails('bad_host:5000/app', /not a valid host/);
  });

  it('formats long and familiar names', () => {
    assert.equal(formatReference(parseReference('alpine')), 'docker.io/library/alpine:latest');
    assert.equal(familiarName(parseReference('alpine:3')), 'alpine:3');
    assert.equal(familiarName(parseReference('user/app:v1')), 'user/app:v1');
    assert.equal(familiarName(parseReference('localhost:5000/team/app:v1')), 'localhost:5000/team/app:v1');
    assert.equal(familiarName(parseReference('docker.io/library/a/b')), 'library/a/b:latest');
  });

  it('reads registry hosts for login, logout and catalog', () => {
    assert.equal(parseRegistryHost('localhost:5000'), 'localhost:5000');
    assert.equal(parseRegistryHost('https://ghcr.io/'), 'ghcr.io');
    assert.equal(parseRegistryHost('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(parseRegistryHost('Registry.Example.com:8443'), 'registry.example.com:8443');
    assert.throws(
      () => parseRegistryHost('not a host'),
      (e: ClientError) => e.usage,
    );
  });

  it('knows which hosts get plain HTTP without being asked', () => {
    for (const h of [
      'localhost',
      'localhost:5000',
      '127.0.0.1:5000',
      '127.1.2.3',
      '[::1]:5000',
      'registry.localhost:80',
    ])
      assert.equal(isLoopback(h), true, h);
    for (const h of ['ghcr.io', '10.0.0.1:5000', '128.0.0.1', 'localhost.example.com', 'docker.io'])
      assert.equal(isLoopback(h), false, h);
  });
});
