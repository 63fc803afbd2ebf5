import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** Stowage's version, from its package.json (dist/src/util/ → the package root), read once. */
export function packageVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  }
  return cached;
}
