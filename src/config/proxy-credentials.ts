/**
 * Reads the upstream credentials `proxy:` entries name (env variables, password files)
 * once, at start-up: a missing variable or an unreadable file fails the start with a
 * message naming it, never the secret.
 */
import { readFile } from 'node:fs/promises';
import type { ProxyRule, UpstreamCredentials } from '../proxy/proxy-rule.js';
import { ProxyConfigError } from './proxy-config.js';

export async function loadUpstreamCredentials(
  rule: ProxyRule,
  env: NodeJS.ProcessEnv = process.env,
): Promise<UpstreamCredentials | undefined> {
  const c = rule.credentials;
  if (!c) return undefined;
  const at = `proxy (prefix ${rule.prefix})`;
  const fromEnv = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '') throw new ProxyConfigError(`${at}: the environment variable ${name} is not set`);
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
      throw new ProxyConfigError(
        `${at}: cannot read password_file ${c.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    if (password === '') throw new ProxyConfigError(`${at}: password_file ${c.passwordFile} is empty`);
  }
  return { username, password };
}
