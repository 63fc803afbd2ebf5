/**
 * The Go gzip port against output recorded from Go's own compress/gzip
 * (test/flux/fixtures/golden.json, made by make-golden.mjs there with gz.go).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { GoGzipWriter, goGzip } from '../../src/gocompat/gzip.js';
import { GZIP_INPUTS, fixtureBytes } from '../flux/fixtures.js';

const golden = JSON.parse(
  readFileSync(new URL('../../../test/flux/fixtures/golden.json', import.meta.url), 'utf8'),
) as {
  gzip: Record<string, { size: number; sha256: string; base64?: string }>;
};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Go gzip port', () => {
  for (const [name, input] of Object.entries(GZIP_INPUTS)) {
    it(`matches Go byte for byte: ${name}`, () => {
      const want = golden.gzip[name]!;
      const got = goGzip(input());
      if (want.base64) assert.equal(got.toString('base64'), want.base64);
      assert.equal(got.length, want.size);
      assert.equal(sha(got), want.sha256);
    });
  }

  it('writes the Go header (no name, mtime 0, OS 255) and ends with an empty final stored block', () => {
    const out = goGzip(Buffer.from('hello'));
    assert.deepEqual([...out.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    // A final stored block of length 0 (LEN 00 00, NLEN ff ff), then CRC-32 and ISIZE.
    assert.deepEqual([...out.subarray(out.length - 12, out.length - 8)], [0x00, 0x00, 0xff, 0xff]);
    assert.equal(out.readUInt32LE(out.length - 4), 5);
  });

  it('does not depend on how the input is split into writes', () => {
    const input = Buffer.concat([fixtureBytes(90_000, 21, true), fixtureBytes(30_000, 22)]);
    const whole = goGzip(input);
    for (const step of [1, 511, 512, 4096, 32 * 1024 + 7]) {
      const chunks: Buffer[] = [];
      const gz = new GoGzipWriter((c) => chunks.push(c));
      for (let i = 0; i < input.length; i += step) gz.write(input.subarray(i, i + step));
      gz.close();
      assert.ok(Buffer.concat(chunks).equals(whole), `split every ${step} bytes`);
    }
    assert.ok(gunzipSync(whole).equals(input));
  });

  it('round-trips through zlib for awkward inputs', () => {
    for (const input of [
      Buffer.alloc(1),
      Buffer.alloc(258 * 300, 7),
      fixtureBytes(1 << 17, 5),
      Buffer.from('ab'.repeat(70_000)),
    ]) {
      assert.ok(gunzipSync(goGzip(input)).equals(input));
    }
  });
});
