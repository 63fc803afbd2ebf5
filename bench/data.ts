/**
 * Deterministic test data: every run sends the same bytes to both registries,
 * so results are comparable between runs and between targets. Bytes come from
 * AES-256-CTR over zeros with a key derived from a seed string (fast, and
 * incompressible like real layers).
 */
import { createCipheriv, createHash, type Hash } from 'node:crypto';

const SLICE = 16 * 1024 * 1024;

/** `size` pseudo-random bytes, always the same for the same seed. */
export function deterministicBytes(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const out = Buffer.allocUnsafe(size);
  const zeros = Buffer.alloc(Math.min(SLICE, Math.max(size, 1)));
  for (let off = 0; off < size; off += zeros.length) {
    const n = Math.min(zeros.length, size - off);
    cipher.update(zeros.subarray(0, n)).copy(out, off);
  }
  return out;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * A large body that can be made unique per push without re-hashing it: the
 * last STAMP bytes change, the hash of everything before them is kept.
 */
export class StampedBody {
  static readonly STAMP = 32;
  readonly bytes: Buffer;
  private readonly prefixHash: Hash;

  constructor(size: number, seed: string) {
    if (size < StampedBody.STAMP) throw new Error(`body too small: ${size}`);
    this.bytes = deterministicBytes(size, seed);
    this.prefixHash = createHash('sha256').update(this.bytes.subarray(0, size - StampedBody.STAMP));
  }

  /** Rewrites the tail with `label` (padded) and returns the new digest. */
  stamp(label: string): string {
    const tail = Buffer.alloc(StampedBody.STAMP, 0x20);
    tail.write(label.slice(0, StampedBody.STAMP), 'latin1');
    tail.copy(this.bytes, this.bytes.length - StampedBody.STAMP);
    return `sha256:${this.prefixHash.copy().update(tail).digest('hex')}`;
  }
}

export const MiB = 1024 * 1024;
export const KiB = 1024;

export function formatSize(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB}MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB}KiB`;
  return `${bytes}B`;
}
