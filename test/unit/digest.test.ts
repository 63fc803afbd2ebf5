import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALGORITHMS, digestBytes, digestOf, isDigestLike, parseDigest, tryParseDigest } from '../../src/core/digest.js';
import { throwsCode } from '../helpers/registry-error.js';
import { ALPINE_AMD64, EMPTY_JSON_SHA256, EMPTY_SHA256, EMPTY_SHA512, HELM_SIGNTEST, OPA_SIGNED } from './vectors.js';

const HEX64 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const HEX128 = EMPTY_SHA512.slice('sha512:'.length);

describe('digest grammar', () => {
  it('parses sha256 and sha512 into algorithm, hex and canonical value', () => {
    assert.deepEqual(parseDigest(EMPTY_SHA256), { algorithm: 'sha256', hex: HEX64, value: EMPTY_SHA256 });
    assert.deepEqual(parseDigest(EMPTY_SHA512), { algorithm: 'sha512', hex: HEX128, value: EMPTY_SHA512 });
    assert.equal(ALGORITHMS.sha256, 64);
    assert.equal(ALGORITHMS.sha512, 128);
  });

  it('rejects uppercase hex for both algorithms (the grammar allows it, the registered algorithms do not)', () => {
    assert.equal(isDigestLike(`sha256:${HEX64.toUpperCase()}`), true);
    throwsCode(() => parseDigest(`sha256:${HEX64.toUpperCase()}`), 'DIGEST_INVALID');
    throwsCode(() => parseDigest(`sha256:${HEX64.slice(0, 63)}E`), 'DIGEST_INVALID');
    throwsCode(() => parseDigest(`sha512:${HEX128.toUpperCase()}`), 'DIGEST_INVALID');
  });

  it('rejects wrong lengths, including a sha256-length sha512 and vice versa', () => {
    for (const bad of [
      `sha256:${HEX64.slice(1)}`,
      `sha256:${HEX64}0`,
      `sha256:${HEX128}`,
      `sha512:${HEX64}`,
      `sha512:${HEX128.slice(1)}`,
      `sha512:${HEX128}a`,
    ]) {
      throwsCode(() => parseDigest(bad), 'DIGEST_INVALID');
    }
  });

  it('rejects non-hex characters that the generic grammar allows', () => {
    for (const bad of [
      `sha256:${HEX64.slice(0, 63)}g`,
      `sha256:${HEX64.slice(0, 63)}=`,
      `sha256:${HEX64.slice(0, 63)}_`,
      `sha256:${HEX64.slice(0, 63)}-`,
    ]) {
      assert.equal(isDigestLike(bad), true, bad);
      throwsCode(() => parseDigest(bad), 'DIGEST_INVALID');
    }
  });

  it('answers well-formed digests of unknown algorithms with DIGEST_INVALID', () => {
    for (const unknown of [
      `md5:d41d8cd98f00b204e9800998ecf8427e`,
      `sha384:${'a'.repeat(96)}`,
      `blake3:${HEX64}`,
      `sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564`,
      `multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8`,
    ]) {
      assert.equal(isDigestLike(unknown), true, unknown);
      throwsCode(
        () => parseDigest(unknown),
        'DIGEST_INVALID',
        (e) => assert.match(e.message, /unsupported digest algorithm/),
      );
    }
  });

  it('rejects an empty digest value, an empty algorithm and other malformed strings', () => {
    for (const bad of [
      '',
      'sha256',
      'sha256:',
      ':',
      `:${HEX64}`,
      `SHA256:${HEX64}`,
      `sha256::${HEX64}`,
      `sha256 :${HEX64}`,
      `sha256:${HEX64} `,
      ` sha256:${HEX64}`,
      `sha256:${HEX64}\n`,
      `sha256-${HEX64}`,
      `sha256+:${HEX64}`,
      `+sha256:${HEX64}`,
      `sha256:${HEX64.slice(0, 32)}/${HEX64.slice(33)}`,
      `sha256:../../${HEX64.slice(6)}`,
    ]) {
      assert.equal(tryParseDigest(bad), undefined, JSON.stringify(bad));
      throwsCode(() => parseDigest(bad), 'DIGEST_INVALID');
    }
    for (const bad of ['', 'sha256', 'sha256:', `:${HEX64}`, `SHA256:${HEX64}`, `sha256:${HEX64}\n`]) {
      assert.equal(isDigestLike(bad), false, JSON.stringify(bad));
    }
  });

  it('caps what it echoes back for absurdly long input', () => {
    const long = `sha256:${'a'.repeat(5000)}`;
    throwsCode(
      () => parseDigest(long),
      'DIGEST_INVALID',
      (e) => {
        assert.equal((e.detail as { digest: string }).digest.length, 200);
      },
    );
  });

  it('is a 400 on the wire', () => {
    throwsCode(
      () => parseDigest('nope'),
      'DIGEST_INVALID',
      (e) => {
        assert.equal(e.status, 400);
        assert.equal(e.wireCode, 'DIGEST_INVALID');
      },
    );
  });

  it('tryParseDigest returns the digest or undefined, never throws', () => {
    assert.equal(tryParseDigest(EMPTY_SHA256)?.hex, HEX64);
    assert.equal(tryParseDigest('sha256:nope'), undefined);
  });
});

describe('digest computation over exact bytes', () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);

  it('knows the well-known empty digests', () => {
    assert.equal(digestBytes(new Uint8Array()).value, EMPTY_SHA256);
    assert.equal(digestBytes(new Uint8Array(), 'sha512').value, EMPTY_SHA512);
    assert.equal(digestBytes(utf8('{}')).value, EMPTY_JSON_SHA256);
  });

  it('reproduces real manifests\u2019 digests (no canonicalisation)', () => {
    const alpine = utf8(ALPINE_AMD64.text);
    assert.equal(alpine.length, ALPINE_AMD64.size);
    assert.equal(digestBytes(alpine).value, ALPINE_AMD64.digest);

    const helm = utf8(HELM_SIGNTEST.manifest);
    assert.equal(helm.length, HELM_SIGNTEST.manifestSize);
    assert.equal(digestBytes(helm).value, HELM_SIGNTEST.manifestDigest);
    assert.equal(digestBytes(utf8(HELM_SIGNTEST.config)).value, HELM_SIGNTEST.configDigest);
    assert.equal(digestBytes(Buffer.from(HELM_SIGNTEST.chartBase64, 'base64')).value, HELM_SIGNTEST.chartDigest);
    assert.equal(digestBytes(Buffer.from(HELM_SIGNTEST.provBase64, 'base64')).value, HELM_SIGNTEST.provDigest);

    const opa = utf8(OPA_SIGNED.text);
    assert.equal(opa.length, OPA_SIGNED.size);
    assert.equal(digestBytes(opa).value, OPA_SIGNED.digest);

    // One byte of whitespace more is another manifest.
    assert.notEqual(digestBytes(utf8(`${ALPINE_AMD64.text}\n`)).value, ALPINE_AMD64.digest);
  });

  it('digestOf builds the canonical value', () => {
    assert.deepEqual(digestOf('sha256', HEX64), { algorithm: 'sha256', hex: HEX64, value: EMPTY_SHA256 });
  });

  it('computed digests always parse', () => {
    for (const alg of ['sha256', 'sha512'] as const) {
      const d = digestBytes(utf8('stowage'), alg);
      assert.deepEqual(parseDigest(d.value), d);
    }
  });
});
