/**
 * Reads the upstream credentials `proxy:` entries name (env variables, password files)
 * once, at start-up, with the shared reader (credential-source.ts): a missing variable
 * or an unreadable file fails the start with a message naming it, never the secret.
 */
import type { ProxyRule, UpstreamCredentials } from '../proxy/proxy-rule.js';
import { CredentialSourceError, loadCredentialSource } from './credential-source.js';
import { ProxyConfigError } from './proxy-config.js';

export async function loadUpstreamCredentials(
  rule: ProxyRule,
  env: NodeJS.ProcessEnv = process.env,
): Promise<UpstreamCredentials | undefined> {
  if (!rule.credentials) return undefined;
  try {
    return await loadCredentialSource(rule.credentials, `proxy (prefix ${rule.prefix})`, env);
  } catch (e) {
    if (e instanceof CredentialSourceError) throw new ProxyConfigError(e.message);
    throw e;
  }
}
