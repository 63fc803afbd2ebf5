/**
 * Shared by the chart tests: the real Helm vectors (shared/reference/vectors/helm,
 * beside the repository in CI or under /work/shared), and a way to write a chart
 * directory from a map of files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

function vectorDir(): string {
  for (const base of [
    new URL('../../../../shared/reference/vectors/helm/', import.meta.url).pathname,
    '/work/shared/reference/vectors/helm/',
  ]) {
    if (existsSync(path.join(base, 'signtest-0.1.0.tgz'))) return base;
  }
  throw new Error('Helm vectors not found (expected shared/reference/vectors/helm beside the repository)');
}

export function vector(name: string): Buffer {
  return readFileSync(path.join(vectorDir(), name));
}

export function vectorText(name: string): string {
  return vector(name).toString('utf8');
}

/** The manifest Helm v3.21.4's test suite expects for signtest + prov, created 1977-09-02T22:04:05Z. */
export const SIGNTEST = {
  created: '1977-09-02T22:04:05Z',
  manifestDigest: 'sha256:fbbade96da6050f68f94f122881e3b80051a18f13ab5f4081868dd494538f5c2',
  configDigest: 'sha256:8d17cb6bf6ccd8c29aace9a658495cbd5e2e87fc267876e86117c7db681c9580',
  chartDigest: 'sha256:e5ef611620fb97704d8751c16bab17fedb68883bfb0edc76f78a70e9173f9b55',
  provDigest: 'sha256:b0a02b7412f78ae93324d48df8fcc316d8482e5ad7827b5b238657a29a22f256',
} as const;

/** One raw tar header's fields, as the vectors' *.headers.txt list them. */
export interface TarHeaderFields {
  offset: number;
  name: string;
  mode: string;
  uid: string;
  gid: string;
  size: string;
  mtime: string;
  chksum: string;
  type: string;
  linkname: string;
  magic: string;
  version: string;
  uname: string;
  gname: string;
  devmajor: string;
  devminor: string;
  prefix: string;
}

const field = (h: Buffer, off: number, len: number) => h.subarray(off, off + len).toString('latin1');
const cstr = (h: Buffer, off: number, len: number) => {
  const s = h.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul === -1 ? len : nul).toString('latin1');
};

/** Every header of an uncompressed tar, raw fields as in headers.txt (numeric fields with their NUL). */
export function tarHeaders(tar: Buffer): TarHeaderFields[] {
  const out: TarHeaderFields[] = [];
  let pos = 0;
  while (pos + 512 <= tar.length) {
    const h = tar.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(cstr(h, 124, 12), 8);
    out.push({
      offset: pos,
      name: cstr(h, 0, 100),
      mode: field(h, 100, 8),
      uid: field(h, 108, 8),
      gid: field(h, 116, 8),
      size: field(h, 124, 12),
      mtime: field(h, 136, 12),
      chksum: field(h, 148, 8),
      type: cstr(h, 156, 1),
      linkname: cstr(h, 157, 100),
      magic: field(h, 257, 6),
      version: field(h, 263, 2),
      uname: cstr(h, 265, 32),
      gname: cstr(h, 297, 32),
      devmajor: field(h, 329, 8),
      devminor: field(h, 337, 8),
      prefix: cstr(h, 345, 155),
    });
    pos += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/**
 * Parses a vectors/*.headers.txt listing (Python bytes reprs) into the same shape:
 * `@0: name=b'x' mode=b'0000644\x00' …`.
 */
export function parseHeaderListing(text: string): TarHeaderFields[] {
  const unrepr = (s: string) => s.replace(/\\x([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  const out: TarHeaderFields[] = [];
  for (const line of text.split('\n')) {
    const m = /^@(\d+): (.*)$/.exec(line);
    if (!m || m[2] === 'zero block') continue;
    const fields: Record<string, string> = {};
    for (const f of m[2]!.matchAll(/(\w+)=b'((?:[^'\\]|\\.)*)'/g)) fields[f[1]!] = unrepr(f[2]!);
    out.push({ offset: Number(m[1]), ...(fields as unknown as Omit<TarHeaderFields, 'offset'>) });
  }
  return out;
}

export function gunzip(b: Buffer): Buffer {
  return gunzipSync(b);
}

/** Writes files (path → content) under dir. */
export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    const file = path.join(dir, p);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}
