import { resumeSha256 } from './resumable-sha256.js';

/**
 * An S3 upload session's state, stored as one small JSON object next to its
 * bytes, so that any replica can take the next chunk or the commit. Writing it is
 * the commit point of an append: parts and tails written by an append that fails
 * before that are simply not named here.
 */
export interface UploadState {
  v: 1;
  /** Bytes received (parts + tail). */
  size: number;
  /** The S3 multipart upload, once the first part was written. */
  multipartId?: string;
  parts: Array<{ n: number; etag: string; size: number }>;
  /** Bytes after the last part, and the object holding them (absent when 0). */
  tailSize: number;
  tailKey?: string;
  /** The SHA-256 state after `size` bytes, in hash-wasm's saved form (base64; resumable-sha256.ts). */
  sha256: string;
}

export async function initialState(): Promise<UploadState> {
  const h = await resumeSha256();
  return { v: 1, size: 0, parts: [], tailSize: 0, sha256: h.save() };
}

export function parseState(text: string): UploadState {
  const s = JSON.parse(text) as UploadState;
  if (s.v !== 1 || typeof s.size !== 'number' || !Array.isArray(s.parts) || typeof s.sha256 !== 'string')
    throw new Error('unrecognised upload state');
  return s;
}
