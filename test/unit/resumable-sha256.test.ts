import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  resumeSha256,
  sha256Implementation,
  type Sha256Implementation,
} from '../../src/storage/s3/resumable-sha256.js';

// Deterministic bytes: a failure reproduces.
const data = Buffer.alloc(300_007);
for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 7)) & 0xff;
const want = createHash('sha256').update(data).digest('hex');
// Block boundaries (64 bytes) and their neighbours, the empty prefix, the whole input.
const cuts = [0, 1, 55, 56, 63, 64, 65, 127, 128, 4096, 299_999, data.length];
const both: Sha256Implementation[] = ['openssl', 'hash-wasm'];

describe('resumable SHA-256', () => {
  it('OpenSSL through the addon on Linux (native/sha256.c is built)', { skip: process.platform !== 'linux' }, () => {
    const impl = sha256Implementation();
    assert.equal(impl.name, 'openssl', `the addon did not load (${impl.problem}): run \`npm run build:native\``);
  });

  for (const first of both)
    for (const second of both)
      it(`state saved by ${first} resumes in ${second} at every cut`, async () => {
        for (const cut of cuts) {
          const a = await resumeSha256(undefined, first);
          // Two updates before the save: a partial block carried across update calls.
          a.update(data.subarray(0, cut >> 1));
          a.update(data.subarray(cut >> 1, cut));
          const saved = a.save();
          const b = await resumeSha256(saved, second);
          b.update(data.subarray(cut));
          assert.equal(b.hex(), want, `cut at ${cut}`);
          // hex() leaves the hash usable, and the first one is unchanged by the save.
          assert.equal(b.hex(), want);
          a.update(data.subarray(cut));
          assert.equal(a.hex(), want, `cut at ${cut}, first hash`);
        }
      });

  it('both save the same state after the same bytes (the saved form is hash-wasm’s)', async () => {
    for (const cut of cuts) {
      const [o, w] = await Promise.all(both.map((i) => resumeSha256(undefined, i)));
      o!.update(data.subarray(0, cut));
      w!.update(data.subarray(0, cut));
      const [so, sw] = [Buffer.from(o!.save(), 'base64'), Buffer.from(w!.save(), 'base64')];
      // Pending bytes past the partial block are whatever was there before: compare the rest.
      const pending = 4 + (cut % 64);
      assert.deepEqual(so.subarray(0, pending), sw.subarray(0, pending), `cut at ${cut}`);
      assert.deepEqual(so.subarray(4 + 64, 4 + 108), sw.subarray(4 + 64, 4 + 108), `cut at ${cut}`);
    }
  });

  it('refuses a state that is not hash-wasm’s SHA-256', async () => {
    const saved = Buffer.from((await resumeSha256()).save(), 'base64');
    saved[0] = saved[0]! ^ 0xff;
    for (const i of both) await assert.rejects(resumeSha256(saved.toString('base64'), i), /incompatible|state/i);
  });
});
