import type { Readable } from 'node:stream';
import { RegistryError } from '../core/errors.js';

/**
 * What every blob store answers to a chunk that does not start where its upload
 * ends: RANGE_INVALID with the Range a client resyncs from. The chunk is drained
 * so the connection can carry the answer.
 */
export function wrongOffset(data: Readable, offset: number, size: number): RegistryError {
  data.resume();
  return new RegistryError(
    'RANGE_INVALID',
    `chunk starts at ${offset}, upload has ${size} bytes`,
    { size },
    { Range: `0-${Math.max(0, size - 1)}` },
  );
}
