/**
 * A layer's file tree and one file of it, read from the blob as a stream and within
 * CONTENT_LIMITS: at most 10,000 members listed or looked through, at most 1 MiB of a
 * file's text read, at most 256 MiB inflated. Reading stops as soon as the answer is
 * known or a limit is reached.
 */
import type { Readable } from 'node:stream';
import { CONTENT_LIMITS, textView, type ContentLimits } from '../../core/file-view.js';
import type { TarEntry } from '../../gocompat/tar/reader.js';
import { ContentError } from './content-error.js';
import { InflateLimitError, eachEntry, entryPath, layerTar, readHead } from './layer-tar.js';
import { renderMarkdown } from './markdown.js';

export interface FileEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  /** A symlink's (or hard link's) target. */
  link?: string;
}

export interface FileListing {
  entries: FileEntry[];
  /** More members follow than were listed (or the layer inflates past the budget). */
  truncated: boolean;
}

export interface FileView {
  path: string;
  size: number;
  binary: boolean;
  text: string | null;
  truncated: boolean;
  /** Sanitised HTML of a Markdown file. */
  html: string | null;
}

function listed(e: TarEntry): FileEntry | undefined {
  const path = entryPath(e.name);
  if (path === '' || e.type === 'other') return undefined;
  // A hard link is a file whose bytes are another member's.
  const type = e.type === 'hardlink' ? 'file' : e.type;
  return {
    path,
    type,
    size: e.size,
    mode: e.mode,
    ...(e.type === 'symlink' || e.type === 'hardlink' ? { link: e.linkname } : {}),
  };
}

/** The members of the layer, in archive order. */
export async function listLayerFiles(blob: Readable, limits: ContentLimits = CONTENT_LIMITS): Promise<FileListing> {
  const entries: FileEntry[] = [];
  let truncated = false;
  let seen = 0;
  try {
    await eachEntry(layerTar(blob, limits.inflatedBytes), (e) => {
      if (seen++ >= limits.entries) {
        truncated = true;
        return false;
      }
      const f = listed(e);
      if (f) entries.push(f);
      return true;
    });
  } catch (e) {
    if (!(e instanceof InflateLimitError)) throw e;
    truncated = true;
  }
  return { entries, truncated };
}

const isMarkdown = (path: string) => /\.(md|markdown)$/i.test(path);

/** The text (or the fact that it is binary) of the first member named `path`. */
export async function readLayerFile(
  blob: Readable,
  path: string,
  limits: ContentLimits = CONTENT_LIMITS,
): Promise<FileView> {
  const wanted = entryPath(path);
  let view: FileView | undefined;
  let problem: ContentError | undefined;
  let seen = 0;
  try {
    await eachEntry(layerTar(blob, limits.inflatedBytes), async (e, tar) => {
      if (seen++ >= limits.entries) {
        problem = new ContentError(
          'TOO_LARGE',
          `${wanted} is not among the first ${limits.entries} entries of the layer`,
        );
        return false;
      }
      if (entryPath(e.name) !== wanted) return true;
      if (e.type !== 'file') {
        problem = new ContentError(
          'BAD_REQUEST',
          `${wanted} is a ${e.type === 'dir' ? 'directory' : e.type}, not a file`,
        );
        return false;
      }
      const head = await readHead(tar, Math.min(e.size, limits.textBytes));
      const t = textView(head, e.size, limits.textBytes);
      view = {
        path: wanted,
        size: e.size,
        ...t,
        html: t.text !== null && isMarkdown(wanted) ? renderMarkdown(t.text) : null,
      };
      return false;
    });
  } catch (e) {
    if (!(e instanceof InflateLimitError)) throw e;
    problem = new ContentError('TOO_LARGE', `${wanted} lies past the first ${limits.inflatedBytes} bytes of the layer`);
  }
  if (view) return view;
  throw problem ?? new ContentError('NOT_FOUND', `${wanted} is not in the layer`);
}
