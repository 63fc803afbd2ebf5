/**
 * The member table of an uncompressed tar file (a docker save archive, an OCI layout
 * tarball): where each member's bytes are, read from the headers alone (the reader
 * seeks over bodies), so members can be streamed in any order without extracting
 * anything. Symlinks and hard links resolve inside the archive; paths that climb out
 * of it are dropped.
 */
import path from 'node:path';
import { TarReader, type TarEntryType } from '../../gocompat/tar/reader.js';

export interface TarMemberInfo {
  /** Normalised path: no "./" or leading "/", no trailing "/" for directories. */
  path: string;
  type: TarEntryType;
  /** Byte offset of the body in the tar file. */
  offset: number;
  size: number;
  linkname: string;
}

/** Normalises a member path; undefined for paths escaping the archive root. */
export function normalizeMemberPath(p: string): string | undefined {
  let n = path.posix.normalize(p.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (n === '.') n = '';
  if (n === '..' || n.startsWith('../')) return undefined;
  return n;
}

/** Reads the member table of an uncompressed tar file without reading member bodies. */
export async function indexTar(file: string): Promise<Map<string, TarMemberInfo>> {
  const tar = await TarReader.fromFile(file);
  const members = new Map<string, TarMemberInfo>();
  try {
    for (let e = await tar.next(); e; e = await tar.next()) {
      const p = normalizeMemberPath(e.name);
      if (p !== undefined && p !== '')
        members.set(p, { path: p, type: e.type, offset: e.offset, size: e.size, linkname: e.linkname });
    }
  } finally {
    await tar.close();
  }
  return members;
}

/** Follows symlinks and hard links inside the archive to a regular file (or undefined). */
export function resolveMember(members: Map<string, TarMemberInfo>, p: string): TarMemberInfo | undefined {
  let current = members.get(normalizeMemberPath(p) ?? '');
  for (let depth = 0; current && depth < 16; depth++) {
    if (current.type === 'file') return current;
    if (current.type === 'symlink') {
      const link = current.linkname;
      const target = normalizeMemberPath(
        link.startsWith('/') ? link : path.posix.join(path.posix.dirname(current.path), link),
      );
      current = target === undefined ? undefined : members.get(target);
    } else if (current.type === 'hardlink') {
      const target = normalizeMemberPath(current.linkname);
      current = target === undefined ? undefined : members.get(target);
    } else {
      return undefined;
    }
  }
  return undefined;
}
