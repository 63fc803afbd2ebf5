import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import {
  JwtVerifier,
  algorithmFor,
  jwkThumbprint,
  libtrustKeyId,
  signToken,
  type SigningKey,
  type TrustedIssuer,
} from '../../src/auth/jwt.js';
import { loadOrCreateSigningKey, readJwks, readPemPublicKeys, trustedKey } from '../../src/auth/keys.js';

// The example key of distribution's docs/spec/auth/jwt.md (public part only) and the ids it documents.
const EXAMPLE_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'm7zUpx3b-zmVE5cymSs64POG9QcyEpJaYCD82-549_Q',
  y: 'dU3biz8sZ_8GPB-odm8Wxz3lNDr1xcAQQPQaOcr1fmc',
};

function newKey(type: 'ec' | 'rsa' | 'ed25519' = 'ec'): SigningKey {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return { privateKey, publicKey, alg: algorithmFor(privateKey), kid: libtrustKeyId(publicKey) };
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const NOW = 1_800_000_000_000;

describe('key ids', () => {
  it("derives docker/distribution 2.x's libtrust kid (vector from distribution's jwt.md)", () => {
    const key = createPublicKey({ key: EXAMPLE_JWK, format: 'jwk' });
    assert.equal(libtrustKeyId(key), 'PYYO:TEWU:V7JH:26JV:AQTZ:LJC3:SXVJ:XGHA:34F2:2LAQ:ZRMK:Z7Q6');
  });
  it('derives the RFC 7638 thumbprint distribution 3.x matches on', async () => {
    assert.equal(
      await jwkThumbprint(createPublicKey({ key: EXAMPLE_JWK, format: 'jwk' })),
      '8qjioA3ZA7ti2JIE7c-U8smBFuZolQZvhSHDPU3hhB8',
    );
  });
  it('picks the algorithm from the key', () => {
    assert.equal(newKey('ec').alg, 'ES256');
    assert.equal(newKey('rsa').alg, 'RS256');
    assert.equal(newKey('ed25519').alg, 'EdDSA');
    assert.equal(algorithmFor(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey), 'ES384');
  });
});

describe('signing and verifying', () => {
  const key = newKey();
  const other = newKey();
  let local: TrustedIssuer;
  let clock = NOW;
  let verifier: JwtVerifier;
  const sign = (o: Partial<Parameters<typeof signToken>[1]> = {}, at = NOW / 1000, k = key) =>
    signToken(
      k,
      {
        iss: 'stowage',
        sub: 'alice',
        aud: 'svc',
        access: [{ type: 'repository', name: 'a', actions: ['pull'] }],
        ttl: 300,
        ...o,
      },
      at,
    );

  before(async () => {
    local = { issuer: 'stowage', local: true, keys: [await trustedKey(key.publicKey)] };
    verifier = new JwtVerifier([local], () => clock);
  });

  it('issues distribution-format tokens that verify', async () => {
    const t = await sign();
    const header = JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString());
    assert.deepEqual(header, { typ: 'JWT', alg: 'ES256', kid: key.kid });
    const v = await verifier.verify(t, 'svc');
    assert.ok(v);
    assert.equal(v.subject, 'alice');
    assert.equal(v.local, true);
    assert.deepEqual(v.access, [{ type: 'repository', name: 'a', actions: ['pull'] }]);
    assert.equal(v.claims.exp! - v.claims.iat!, 300);
    assert.equal(v.claims.nbf, v.claims.iat);
    assert.equal(typeof v.claims.jti, 'string');
  });

  it('refuses a tampered payload', async () => {
    const [h, p, s] = (await sign()).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.access[0].actions = ['pull', 'push', 'delete'];
    assert.equal(await verifier.verify(`${h}.${b64(claims)}.${s}`, 'svc'), undefined);
  });

  it('refuses a token signed by another key under the trusted kid', async () => {
    const forged = await sign({}, NOW / 1000, { ...other, kid: key.kid });
    assert.equal(await verifier.verify(forged, 'svc'), undefined);
  });

  it('refuses alg "none" and HMAC tokens keyed with the public key (algorithm confusion)', async () => {
    const claims = {
      iss: 'stowage',
      sub: 'alice',
      aud: 'svc',
      exp: NOW / 1000 + 300,
      access: [{ type: 'repository', name: 'a', actions: ['*'] }],
    };
    assert.equal(
      await verifier.verify(`${b64({ alg: 'none', typ: 'JWT', kid: key.kid })}.${b64(claims)}.`, 'svc'),
      undefined,
    );
    assert.equal(await verifier.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'svc'), undefined);
    const secret = new Uint8Array(key.publicKey.export({ type: 'spki', format: 'der' }));
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(secret);
    assert.equal(await verifier.verify(hs, 'svc'), undefined);
  });

  it('refuses another audience (service) and unknown issuers', async () => {
    assert.equal(await verifier.verify(await sign({ aud: 'other-registry' }), 'svc'), undefined);
    assert.equal(await verifier.verify(await sign({ iss: 'someone-else' }), 'svc'), undefined);
    assert.equal(await verifier.verify(await sign(), 'svc#refresh'), undefined);
  });

  it('honours exp and nbf with 60 s of leeway', async () => {
    const issuedAt = NOW / 1000 - 400; // expired 100 s ago
    assert.equal(await verifier.verify(await sign({}, issuedAt), 'svc'), undefined);
    assert.ok(await verifier.verify(await sign({}, NOW / 1000 - 330), 'svc'), 'expired 30 s ago: within leeway');
    assert.equal(await verifier.verify(await sign({}, NOW / 1000 + 120), 'svc'), undefined, 'not yet valid');
  });

  it('remembers verified tokens only until they expire', async () => {
    const t = await sign();
    assert.ok(await verifier.verify(t, 'svc'));
    assert.ok(await verifier.verify(t, 'svc'));
    clock = NOW + 361_000;
    try {
      assert.equal(await verifier.verify(t, 'svc'), undefined);
    } finally {
      clock = NOW;
    }
  });

  it('refuses garbage and oversized tokens without throwing', async () => {
    for (const t of ['', 'a', 'a.b', 'a.b.c', `${b64({ alg: 'ES256' })}.e30.`, 'x'.repeat(9_000)])
      assert.equal(await verifier.verify(t, 'svc'), undefined);
  });
});

describe('external token services', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stowage-jwt-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts tokens from a JWKS-configured issuer, by kid, and keeps issuers apart', async () => {
    const idp = newKey('rsa');
    const jwk = { ...(idp.publicKey.export({ format: 'jwk' }) as object), kid: 'idp-key-1', alg: 'RS256', use: 'sig' };
    await writeFile(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
    const keys = await readJwks(join(dir, 'jwks.json'));
    const localKey = newKey();
    const verifier = new JwtVerifier(
      [
        { issuer: 'stowage', local: true, keys: [await trustedKey(localKey.publicKey)] },
        { issuer: 'https://idp.example', local: false, keys },
      ],
      () => NOW,
    );
    const claims = {
      iss: 'https://idp.example',
      sub: 'ci',
      aud: 'svc',
      access: [{ type: 'repository', name: 'x', actions: ['pull'] }],
      ttl: 300,
    };
    const good = await signToken({ ...idp, kid: 'idp-key-1' }, claims, NOW / 1000);
    const v = await verifier.verify(good, 'svc');
    assert.ok(v);
    assert.equal(v.local, false);
    assert.equal(
      await verifier.verify(await signToken({ ...idp, kid: 'unknown' }, claims, NOW / 1000), 'svc'),
      undefined,
      'unknown kid',
    );
    // The IdP's key cannot mint tokens in Stowage's own name.
    assert.equal(
      await verifier.verify(
        await signToken({ ...idp, kid: 'idp-key-1' }, { ...claims, iss: 'stowage' }, NOW / 1000),
        'svc',
      ),
      undefined,
    );
  });

  it('reads PEM public keys and certificate bundles', async () => {
    const k = newKey();
    await writeFile(join(dir, 'pub.pem'), k.publicKey.export({ type: 'spki', format: 'pem' }));
    const [trusted] = await readPemPublicKeys(join(dir, 'pub.pem'));
    assert.ok(trusted!.kids.includes(k.kid), 'trusted under its libtrust kid');
    const verifier = new JwtVerifier([{ issuer: 'ext', local: false, keys: [trusted!] }], () => NOW);
    const t = await signToken(k, { iss: 'ext', sub: 's', aud: 'svc', access: [], ttl: 60 }, NOW / 1000);
    assert.ok(await verifier.verify(t, 'svc'));
    await writeFile(join(dir, 'empty.pem'), 'nothing here');
    await assert.rejects(readPemPublicKeys(join(dir, 'empty.pem')), /no PEM public key/);
  });

  it('creates the signing key once (mode 0600) and reloads the same one', async () => {
    const path = join(dir, 'auth', 'signing.pem');
    const first = await loadOrCreateSigningKey(path);
    assert.equal(first.created, true);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const second = await loadOrCreateSigningKey(path);
    assert.equal(second.created, false);
    assert.equal(second.key.kid, first.key.kid);
    assert.equal(second.key.alg, 'ES256');
    assert.match(await readFile(path, 'utf8'), /BEGIN PRIVATE KEY/);
  });
});
