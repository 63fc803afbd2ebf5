/**
 * Chart archives (.tgz) byte for byte as `helm package` writes them
 * (pkg/chartutil/save.go):
 *
 *   helmTarEntry      one member as `writeToTar` writes it: `tar.Header{Name, Mode: 0644,
 *                     Size, ModTime: time.Now()}` through Go's archive/tar (src/gocompat/tar).
 *   helmGzip          Go's gzip.Writer (src/gocompat/gzip) with Helm's header: FLG
 *                     FEXTRA|FCOMMENT, MTIME 0, XFL 0, OS 255, EXTRA =
 *                     "+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=" (41 bytes, not a valid RFC
 *                     1952 subfield — as Helm 3 writes it), COMMENT "Helm"; no name, no mtime.
 *   readChartArchive  the loader's view of a .tgz: regular files with the first path
 *                     component dropped, BOMs stripped, Helm's path checks and size limits.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { goGzip } from '../gocompat/gzip.js';
import { TarError, TarReader } from '../gocompat/tar/reader.js';
import { goTarEntry } from '../gocompat/tar/writer.js';

export const HELM_GZIP_EXTRA = Buffer.from('+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=', 'ascii');
export const HELM_GZIP_COMMENT = 'Helm';
/** Helm's loader limits. */
export const MAX_DECOMPRESSED_CHART_SIZE = 100 * 1024 * 1024;
export const MAX_DECOMPRESSED_FILE_SIZE = 5 * 1024 * 1024;

// ---------------------------------------------------------------------------------
// Writing

/** One member as Helm's writeToTar writes it; `mtimeMs` is rounded to the second as Go rounds ModTime. */
export function helmTarEntry(name: string, body: Buffer, mtimeMs: number): Buffer {
  return goTarEntry({ name, type: 'file', mode: 0o644, mtime: mtimeMs / 1000 }, body);
}

/** A gzip member as Helm's Save writes it around `tar`. */
export function helmGzip(tar: Buffer): Buffer {
  return goGzip(tar, { extra: HELM_GZIP_EXTRA, comment: HELM_GZIP_COMMENT });
}

// ---------------------------------------------------------------------------------
// Reading

export interface ArchiveFile {
  /** Path inside the chart ("templates/x.yaml"), the top directory removed. */
  name: string;
  data: Buffer;
}

/** An archive Helm's loader would refuse. */
export class ChartArchiveError extends Error {}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function stripBom(b: Buffer): Buffer {
  return b.subarray(0, 3).equals(UTF8_BOM) ? b.subarray(3) : b;
}

/** path.Clean for slash paths. */
function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(part);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

/** Is this a gzip stream (what Helm checks before loading a file as a chart)? */
export function looksLikeGzip(b: Buffer): boolean {
  return b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08;
}

/** The files of a chart archive, as Helm's LoadArchiveFiles returns them. */
export async function readChartArchive(tgz: Buffer): Promise<ArchiveFile[]> {
  if (!looksLikeGzip(tgz)) throw new ChartArchiveError('it is not a gzipped archive');
  const tar = TarReader.fromStream(Readable.from([tgz]).pipe(createGunzip()));
  const files: ArchiveFile[] = [];
  let remaining = MAX_DECOMPRESSED_CHART_SIZE;
  try {
    for (let e = await tar.next(); e; e = await tar.next()) {
      const name = e.name;
      if (e.type === 'dir' || name.endsWith('/')) continue;
      const delimiter = name.includes('\\') ? '\\' : '/';
      const parts = name.split(delimiter);
      let n = parts.slice(1).join('/');
      if (n.startsWith('/')) throw new ChartArchiveError('chart illegally contains absolute paths');
      n = cleanPath(n);
      if (n === '.')
        throw new ChartArchiveError(`chart illegally contains content outside the base directory: "${name}"`);
      if (n.startsWith('..')) throw new ChartArchiveError('chart illegally references parent directory');
      if (/^[a-zA-Z]:\//.test(n)) throw new ChartArchiveError('chart contains illegally named files');
      if (parts[0] === 'Chart.yaml') throw new ChartArchiveError('chart yaml not in base directory');
      if (e.size > remaining)
        throw new ChartArchiveError(
          `decompressed chart is larger than the maximum file size ${MAX_DECOMPRESSED_CHART_SIZE}`,
        );
      if (e.size > MAX_DECOMPRESSED_FILE_SIZE)
        throw new ChartArchiveError(
          `decompressed chart file "${name}" is larger than the maximum file size ${MAX_DECOMPRESSED_FILE_SIZE}`,
        );
      remaining -= e.size;
      if (remaining <= 0)
        throw new ChartArchiveError(
          `decompressed chart is larger than the maximum file size ${MAX_DECOMPRESSED_CHART_SIZE}`,
        );
      files.push({ name: n, data: stripBom(await tar.readBody(MAX_DECOMPRESSED_FILE_SIZE)) });
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof TarError) throw new ChartArchiveError(err.message);
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new ChartArchiveError(`it does not decompress: ${(err as Error).message}`);
    throw err;
  }
  if (files.length === 0) throw new ChartArchiveError('no files in chart archive');
  return files;
}

export { stripBom };
