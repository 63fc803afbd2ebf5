/**
 * The htpasswd file on disk: read by the server (re-read when it changes, so
 * `stowage user add|remove|passwd` take effect without a restart) and rewritten
 * atomically by the CLI.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatHtpasswd, parseHtpasswd, type ParsedHtpasswd } from './htpasswd.js';
import { DEFAULT_COST, dummyHash, hashCost } from './password.js';

/** How often the server looks at the file's mtime, at most. */
const CHECK_EVERY_MS = 1000;

export class UserFile {
  private users = new Map<string, string>();
  private dummy = dummyHash(DEFAULT_COST);
  private stamp = '';
  private checkedAt = 0;

  constructor(
    readonly path: string,
    private readonly onLoad: (result: ParsedHtpasswd | { missing: true }) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.refresh(true);
  }

  /** The stored bcrypt hash of `user`, or undefined if there is no such user. */
  lookup(user: string): string | undefined {
    this.refresh(false);
    return this.users.get(user);
  }

  has(user: string): boolean {
    return this.lookup(user) !== undefined;
  }

  /** What an unknown user's password is checked against: a hash at the cost most users have. */
  dummyHash(): string {
    this.refresh(false);
    return this.dummy;
  }

  private setUsers(users: Map<string, string>): void {
    this.users = users;
    this.dummy = dummyHash(typicalCost(users.values()));
  }

  private refresh(force: boolean): void {
    const now = this.now();
    if (!force && now - this.checkedAt < CHECK_EVERY_MS) return;
    this.checkedAt = now;
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    if (stamp === 'missing') {
      this.setUsers(new Map());
      this.onLoad({ missing: true });
      return;
    }
    try {
      const parsed = parseHtpasswd(readFileSync(this.path, 'utf8'));
      this.setUsers(parsed.users);
      this.onLoad(parsed);
    } catch {
      this.stamp = ''; // unreadable right now: keep the last good users, retry next time
    }
  }
}

/** The most common bcrypt cost among `hashes` (the higher one on a tie); DEFAULT_COST when there are none. */
export function typicalCost(hashes: Iterable<string>): number {
  const counts = new Map<number, number>();
  for (const h of hashes) {
    const c = hashCost(h);
    if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = DEFAULT_COST;
  let bestCount = 0;
  for (const [c, n] of counts) if (n > bestCount || (n === bestCount && c > best)) [best, bestCount] = [c, n];
  return best;
}

/** For the CLI: all entries (an absent file is an empty one). */
export async function readUsers(path: string): Promise<Map<string, string>> {
  try {
    return parseHtpasswd(await readFile(path, 'utf8')).users;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
}

/** Writes the whole file atomically (temp file + rename), readable by its owner only. */
export async function writeUsers(path: string, users: ReadonlyMap<string, string>): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, formatHtpasswd(users), { mode: 0o600 });
  await rename(tmp, path);
}
