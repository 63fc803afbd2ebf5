/**
 * Where the Sigstore test vectors live: shared/reference/vectors/sigstore beside the
 * repository (CI) or under /work/shared (see its README for each file's origin).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function sigstoreVectors(): string {
  for (const base of [
    new URL('../../../../shared/reference/vectors/sigstore/', import.meta.url).pathname,
    '/work/shared/reference/vectors/sigstore/',
  ]) {
    if (existsSync(join(base, 'README.md'))) return base;
  }
  throw new Error('Sigstore vectors not found (expected shared/reference/vectors/sigstore beside the repository)');
}
