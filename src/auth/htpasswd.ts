/**
 * The htpasswd file format (pure): one `user:hash` per line, as `htpasswd -B`
 * writes it. Only bcrypt hashes (`$2y$`, `$2a$`, `$2b$`) are accepted; entries
 * in weaker formats (MD5 `$apr1$`, `{SHA}`, crypt, plain) are skipped and reported.
 */

export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** User names Stowage creates: usable as a repository path component (for `{user}/…`). */
export const USERNAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
export const MAX_USERNAME = 64;

export function isValidUsername(name: string): boolean {
  return name.length <= MAX_USERNAME && USERNAME.test(name);
}

export interface ParsedHtpasswd {
  users: Map<string, string>;
  /** Lines that were not usable, with why (never the hash itself). */
  skipped: { line: number; user?: string; reason: string }[];
}

export function parseHtpasswd(text: string): ParsedHtpasswd {
  const users = new Map<string, string>();
  const skipped: ParsedHtpasswd['skipped'] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      skipped.push({ line: i + 1, reason: 'not user:hash' });
      return;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT_HASH.test(hash)) {
      skipped.push({ line: i + 1, user, reason: 'not a bcrypt hash (use htpasswd -B or stowage user add)' });
      return;
    }
    if (users.has(user)) {
      skipped.push({ line: i + 1, user, reason: 'duplicate user (first entry wins)' });
      return;
    }
    users.set(user, hash);
  });
  return { users, skipped };
}

export function formatHtpasswd(users: ReadonlyMap<string, string>): string {
  return [...users].map(([u, h]) => `${u}:${h}\n`).join('');
}
