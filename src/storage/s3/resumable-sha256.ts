import { createRequire } from 'node:module';
import { createSHA256, type IHasher } from 'hash-wasm';

/**
 * A SHA-256 whose state can be saved with an upload session and resumed on any
 * replica (node:crypto's Hash cannot export its state).
 *
 * The saved form is hash-wasm's (`save()`: 4 bytes naming its build, then its
 * 112-byte state). Hashing runs in OpenSSL through native/sha256.c when the addon
 * is built — about 8x hash-wasm's speed here, with the SHA extensions — which
 * converts its state to and from that form, so replicas with and without the
 * addon continue each other's sessions. Without it, hash-wasm hashes.
 */
export interface ResumableSha256 {
  update(bytes: Uint8Array): void;
  /** The state after the bytes so far (base64), for `resumeSha256`. */
  save(): string;
  /** The digest of the bytes so far, hex; the state stays usable. */
  hex(): string;
}

interface NativeSha256 {
  ctxBytes: number;
  init(ctx: Buffer): void;
  update(ctx: Buffer, bytes: Uint8Array): void;
  digest(ctx: Buffer): Buffer;
  exportState(ctx: Buffer): Buffer;
  importState(ctx: Buffer, state: Uint8Array): void;
}

/** hash-wasm's prefix before its state: 4 bytes identifying its build. */
const PREFIX_BYTES = 4;

export type Sha256Implementation = 'openssl' | 'hash-wasm';

/** Why the addon did not load (undefined when it did, or was turned off). */
let loadProblem: string | undefined;
const addon: NativeSha256 | undefined = loadAddon();
// STOWAGE_NATIVE_SHA256=off: hash with hash-wasm, to compare or to rule the addon out.
const preferred: Sha256Implementation = addon && process.env.STOWAGE_NATIVE_SHA256 !== 'off' ? 'openssl' : 'hash-wasm';

function loadAddon(): NativeSha256 | undefined {
  try {
    // dist/src/storage/s3/ → native/build/Release/ at the package root.
    return createRequire(import.meta.url)('../../../../native/build/Release/stowage_sha256.node') as NativeSha256;
  } catch (e) {
    loadProblem = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return undefined;
  }
}

/** Which implementation hashes in this process, and why not OpenSSL when it is not. */
export function sha256Implementation(): { name: Sha256Implementation; problem?: string } {
  return { name: preferred, ...(loadProblem ? { problem: loadProblem } : {}) };
}

let prefix: Promise<Buffer> | undefined;
/** hash-wasm's build prefix, taken from a real save() so the saved form stays exactly its own. */
function wasmPrefix(): Promise<Buffer> {
  return (prefix ??= createSHA256().then((h) => {
    h.init();
    return Buffer.from(h.save().subarray(0, PREFIX_BYTES));
  }));
}

/**
 * A fresh hash (`saved` undefined) or one resumed from `save()`'s output, with
 * this process's implementation (or the one named: tests compare them).
 */
export async function resumeSha256(
  saved?: string,
  implementation: Sha256Implementation = preferred,
): Promise<ResumableSha256> {
  if (implementation === 'openssl') {
    if (!addon) throw new Error(`native/build/Release/stowage_sha256.node is not loaded: ${loadProblem}`);
    return nativeHash(addon, await wasmPrefix(), saved);
  }
  const h = await createSHA256();
  if (saved === undefined) h.init();
  else h.load(Buffer.from(saved, 'base64'));
  return wasmHash(h);
}

function nativeHash(n: NativeSha256, pre: Buffer, saved: string | undefined): ResumableSha256 {
  const ctx = Buffer.alloc(n.ctxBytes);
  if (saved === undefined) n.init(ctx);
  else {
    const bytes = Buffer.from(saved, 'base64');
    if (!bytes.subarray(0, PREFIX_BYTES).equals(pre))
      throw new Error('the saved SHA-256 state was written by an incompatible hash-wasm');
    n.importState(ctx, bytes.subarray(PREFIX_BYTES));
  }
  return {
    update: (bytes) => n.update(ctx, bytes),
    save: () => Buffer.concat([pre, n.exportState(ctx)]).toString('base64'),
    hex: () => n.digest(ctx).toString('hex'),
  };
}

function wasmHash(h: IHasher): ResumableSha256 {
  return {
    update: (bytes) => void h.update(bytes),
    save: () => Buffer.from(h.save()).toString('base64'),
    hex: () => {
      // digest() ends the hash: finish a copy.
      const saved = h.save();
      const hex = h.digest('hex');
      h.load(saved);
      return hex;
    },
  };
}
