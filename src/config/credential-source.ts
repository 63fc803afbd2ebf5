/**
 * Credentials for another registry, as config sections name them — `username` or
 * `username_env`, and `password`, `password_env` or `password_file` — parsed (pure)
 * and then read once at start-up: a missing variable or an unreadable file fails the
 * start with a message naming it, never the secret. Used by `mirrors:` and `proxy:`.
 */
import { readFile } from 'node:fs/promises';

export interface CredentialSource {
  username?: string;
  usernameEnv?: string;
  password?: string;
  passwordEnv?: string;
  passwordFile?: string;
}

export const CREDENTIAL_KEYS = ['username', 'username_env', 'password', 'password_env', 'password_file'];

export class CredentialSourceError extends Error {}

/** The credential keys of a config mapping; undefined when it has none. `at` names the entry in errors. */
export function parseCredentialSource(m: Record<string, unknown>, at: string): CredentialSource | undefined {
  const pick = (key: string) => {
    const v = m[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new CredentialSourceError(`${at}: ${key} must be a non-empty string`);
    return v;
  };
  const username = pick('username');
  const usernameEnv = pick('username_env');
  const password = pick('password');
  const passwordEnv = pick('password_env');
  const passwordFile = pick('password_file');
  const users = [username, usernameEnv].filter((x) => x !== undefined).length;
  const passwords = [password, passwordEnv, passwordFile].filter((x) => x !== undefined).length;
  if (users === 0 && passwords === 0) return undefined;
  if (users !== 1) throw new CredentialSourceError(`${at}: give exactly one of username, username_env`);
  if (passwords !== 1)
    throw new CredentialSourceError(`${at}: give exactly one of password, password_env, password_file`);
  return {
    ...(username !== undefined ? { username } : {}),
    ...(usernameEnv !== undefined ? { usernameEnv } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(passwordEnv !== undefined ? { passwordEnv } : {}),
    ...(passwordFile !== undefined ? { passwordFile } : {}),
  };
}

/** Reads what `c` names (env variables, the password file, one trailing newline dropped). */
export async function loadCredentialSource(
  c: CredentialSource,
  at: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ username: string; password: string }> {
  const fromEnv = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '')
      throw new CredentialSourceError(`${at}: the environment variable ${name} is not set`);
    return v;
  };
  const username = c.username ?? fromEnv(c.usernameEnv!);
  let password: string;
  if (c.password !== undefined) password = c.password;
  else if (c.passwordEnv !== undefined) password = fromEnv(c.passwordEnv);
  else {
    try {
      password = (await readFile(c.passwordFile!, 'utf8')).trim();
    } catch (e) {
      throw new CredentialSourceError(
        `${at}: cannot read password_file ${c.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    if (password === '') throw new CredentialSourceError(`${at}: password_file ${c.passwordFile} is empty`);
  }
  return { username, password };
}
