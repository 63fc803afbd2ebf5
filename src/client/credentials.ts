/**
 * Registry credentials, kept where docker keeps them so `docker login` works for
 * stowage and `stowage login` for docker (and crane, oras, flux, podman, which read
 * the same file):
 *
 *   $DOCKER_CONFIG/config.json, else ~/.docker/config.json
 *     auths.<host>      {auth: base64(user:password)} | {auth: base64(user:), identitytoken}
 *                       | {registrytoken} | {} (a marker: the secret lives in a helper)
 *     credHelpers.<host> per-registry helper  →  docker-credential-<name>
 *     credsStore         default helper for every registry
 *   $DOCKER_AUTH_CONFIG  (newer docker CLIs) {"auths": …} read before the file
 *   helm's registry config ($HELM_REGISTRY_CONFIG, else <helm config home>/registry/config.json):
 *                       same format, read-only fallback
 *
 * Helper protocol (docker-credential-helpers): `get` (stdin: server URL; stdout:
 * {ServerURL, Username, Secret}), `store` (stdin: that JSON), `erase` (stdin: URL).
 * An identity token is stored with Username "<token>".
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { clientError, isClientError } from './errors.js';
import { DOCKER_HUB_CONFIG_KEY, isDockerHub, normalizeRegistry } from './reference.js';

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's "identity token"): exchanged with POST grant_type=refresh_token. */
  identityToken?: string;
  /** A bearer token sent as is. */
  registryToken?: string;
}

/** What the client needs: credentials for a registry, if any. */
export interface CredentialProvider {
  get(registry: string): Promise<Credential | undefined>;
}

export interface StoreResult {
  /** The file written (the entry is a marker when a helper holds the secret). */
  file: string;
  /** The helper holding the secret, if one is configured. */
  helper?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  [k: string]: unknown;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

export interface CredentialStoreOptions {
  /** The docker config.json path (default from $DOCKER_CONFIG or ~/.docker). */
  dockerConfig?: string;
  /** Helm's registry config.json (default from $HELM_REGISTRY_CONFIG etc.); `null` disables it. */
  helmConfig?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Called for problems that do not stop a read (a missing credential helper). */
  onWarning?: (message: string) => void;
}

export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

export function defaultHelmConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HELM_REGISTRY_CONFIG) return env.HELM_REGISTRY_CONFIG;
  const home = env.HOME || homedir();
  const base = env.HELM_CONFIG_HOME || join(env.XDG_CONFIG_HOME || join(home, '.config'), 'helm');
  return join(base, 'registry', 'config.json');
}

/** The host part of a config.json key: "https://host:5000/v1/" → "host:5000". */
function keyHost(key: string): string {
  let h = key.trim().replace(/^[a-z]+:\/\//i, '');
  const slash = h.indexOf('/');
  if (slash !== -1) h = h.slice(0, slash);
  return normalizeRegistry(h);
}

/** The key docker writes for a registry (and passes to helpers as ServerURL). */
export function configKey(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_CONFIG_KEY : normalizeRegistry(registry);
}

function decodeEntry(e: AuthEntry): Credential | undefined {
  const cred: Credential = {};
  if (typeof e.auth === 'string' && e.auth !== '') {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) throw new Error('an "auth" value is not base64 of user:password');
    cred.username = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (password !== '') cred.password = password;
  }
  if (typeof e.username === 'string' && e.username !== '') cred.username = e.username;
  if (typeof e.password === 'string' && e.password !== '') cred.password = e.password;
  if (typeof e.identitytoken === 'string' && e.identitytoken !== '') cred.identityToken = e.identitytoken;
  if (typeof e.registrytoken === 'string' && e.registrytoken !== '') cred.registryToken = e.registrytoken;
  return cred.password !== undefined || cred.identityToken !== undefined || cred.registryToken !== undefined
    ? cred
    : undefined;
}

/** Entries of `auths` whose key names `registry`, exact key first. */
function matchingKeys(auths: Record<string, AuthEntry>, registry: string): string[] {
  const want = normalizeRegistry(registry);
  const exact = configKey(registry);
  const keys = Object.keys(auths).filter((k) => keyHost(k) === want);
  return keys.sort((a, b) => Number(b === exact) - Number(a === exact));
}

function helperFor(config: ConfigFile, registry: string): string | undefined {
  const want = normalizeRegistry(registry);
  for (const [k, helper] of Object.entries(config.credHelpers ?? {})) {
    if (keyHost(k) === want && typeof helper === 'string' && helper !== '') return helper;
  }
  return typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined;
}

async function readConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw clientError('CREDENTIALS_INVALID', { path, detail: (e as Error).message }, { cause: e });
  }
  if (text.trim() === '') return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    return doc as ConfigFile;
  } catch (e) {
    throw clientError('CREDENTIALS_INVALID', { path, detail: (e as Error).message }, { cause: e });
  }
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin. */
export function runCredentialHelper(
  helper: string,
  action: 'get' | 'store' | 'erase' | 'list',
  input: string,
  env?: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; stdout: string; stderr: string; missing: boolean }> {
  return new Promise((resolve) => {
    const child = execFile(
      `docker-credential-${helper}`,
      [action],
      { timeout: 60_000, env: env ?? process.env, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        const missing = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
        resolve({
          ok: !err,
          stdout: String(stdout),
          stderr: missing ? `docker-credential-${helper} not found on PATH` : String(stderr),
          missing,
        });
      },
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

function notFound(out: { stdout: string; stderr: string }): boolean {
  return /credentials not found/i.test(`${out.stdout} ${out.stderr}`);
}

/** Reads and writes credentials in docker's config.json (and helpers), with helm's file as read fallback. */
export class DockerCredentialStore implements CredentialProvider {
  readonly dockerConfig: string;
  readonly helmConfig: string | null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly onWarning: (m: string) => void;

  constructor(opts: CredentialStoreOptions = {}) {
    this.env = opts.env ?? process.env;
    this.dockerConfig = opts.dockerConfig ?? defaultDockerConfigPath(this.env);
    this.helmConfig = opts.helmConfig === undefined ? defaultHelmConfigPath(this.env) : opts.helmConfig;
    this.onWarning = opts.onWarning ?? (() => undefined);
  }

  async get(registry: string): Promise<Credential | undefined> {
    const fromEnv = this.fromEnvironment(registry);
    if (fromEnv) return fromEnv;
    const found = await this.lookup(this.dockerConfig, registry);
    if (found) return found;
    return this.helmConfig ? this.lookup(this.helmConfig, registry) : undefined;
  }

  /** Where `store` would put a secret for this registry. */
  async describe(registry: string): Promise<StoreResult> {
    const helper = helperFor(await readConfig(this.dockerConfig), registry);
    return { file: this.dockerConfig, ...(helper ? { helper } : {}) };
  }

  /** Saves credentials the way docker does: through the configured helper, else in `auths`. */
  async store(
    registry: string,
    cred: { username: string; password?: string; identityToken?: string },
  ): Promise<StoreResult> {
    const config = await readConfig(this.dockerConfig);
    const key = configKey(registry);
    const helper = helperFor(config, registry);
    const auths = { ...(config.auths ?? {}) };
    for (const k of matchingKeys(auths, registry)) delete auths[k];
    if (helper) {
      const payload = cred.identityToken
        ? { ServerURL: key, Username: '<token>', Secret: cred.identityToken }
        : { ServerURL: key, Username: cred.username, Secret: cred.password ?? '' };
      const out = await runCredentialHelper(helper, 'store', JSON.stringify(payload), this.env);
      if (!out.ok)
        throw clientError('CREDENTIAL_HELPER_FAILED', {
          helper,
          action: 'store credentials',
          detail: (out.stderr || out.stdout).trim() || 'it failed',
        });
      auths[key] = {};
    } else {
      const entry: AuthEntry = {
        auth: Buffer.from(`${cred.username}:${cred.identityToken ? '' : (cred.password ?? '')}`).toString('base64'),
      };
      if (cred.identityToken) entry.identitytoken = cred.identityToken;
      auths[key] = entry;
    }
    await this.write({ ...config, auths });
    return { file: this.dockerConfig, ...(helper ? { helper } : {}) };
  }

  /** Removes the registry's credentials (helper and file). False when there were none. */
  async erase(registry: string): Promise<{ removed: boolean; file: string; helper?: string }> {
    const config = await readConfig(this.dockerConfig);
    const helper = helperFor(config, registry);
    let removed = false;
    if (helper) {
      const out = await runCredentialHelper(helper, 'erase', configKey(registry), this.env);
      if (out.ok) removed = true;
      else if (!notFound(out))
        throw clientError('CREDENTIAL_HELPER_FAILED', {
          helper,
          action: 'erase credentials',
          detail: (out.stderr || out.stdout).trim() || 'it failed',
        });
    }
    const auths = { ...(config.auths ?? {}) };
    const keys = matchingKeys(auths, registry);
    for (const k of keys) delete auths[k];
    if (keys.length > 0) {
      removed = true;
      await this.write({ ...config, auths });
    }
    return { removed, file: this.dockerConfig, ...(helper ? { helper } : {}) };
  }

  private fromEnvironment(registry: string): Credential | undefined {
    const raw = this.env.DOCKER_AUTH_CONFIG;
    if (!raw) return undefined;
    try {
      const doc = JSON.parse(raw) as ConfigFile;
      const auths = doc.auths ?? {};
      for (const k of matchingKeys(auths, registry)) {
        const c = decodeEntry(auths[k]!);
        if (c) return c;
      }
    } catch (e) {
      throw clientError(
        'CREDENTIALS_INVALID',
        { path: '$DOCKER_AUTH_CONFIG', detail: (e as Error).message },
        { cause: e },
      );
    }
    return undefined;
  }

  private async lookup(path: string, registry: string): Promise<Credential | undefined> {
    const config = await readConfig(path);
    const helper = helperFor(config, registry);
    if (helper) {
      const out = await runCredentialHelper(helper, 'get', configKey(registry), this.env);
      if (out.ok) {
        try {
          const doc = JSON.parse(out.stdout) as { Username?: string; Secret?: string };
          if (doc.Secret)
            return doc.Username === '<token>'
              ? { identityToken: doc.Secret }
              : { username: doc.Username ?? '', password: doc.Secret };
        } catch (e) {
          throw clientError('CREDENTIAL_HELPER_FAILED', {
            helper,
            action: 'get credentials',
            detail: `unreadable answer (${(e as Error).message})`,
          });
        }
      } else if (!notFound(out)) {
        // docker fails here; we warn and fall back to the file, so anonymous pulls keep working.
        this.onWarning(
          `credential helper docker-credential-${helper} failed (${(out.stderr || out.stdout).trim() || 'no output'}); using ${path} only`,
        );
      }
    }
    const auths = config.auths ?? {};
    for (const k of matchingKeys(auths, registry)) {
      try {
        const c = decodeEntry(auths[k]!);
        if (c) return c;
      } catch (e) {
        throw clientError('CREDENTIALS_INVALID', { path, detail: `${k}: ${(e as Error).message}` }, { cause: e });
      }
    }
    return undefined;
  }

  /** Atomic replace (temp file + rename), 0600, following a symlinked config.json. */
  private async write(config: ConfigFile): Promise<void> {
    let target = this.dockerConfig;
    try {
      target = await realpath(target);
    } catch {
      /* does not exist yet */
    }
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true });
      if (isClientError(e)) throw e;
      throw clientError('OUTPUT_FAILED', { path: target, detail: (e as Error).message }, { cause: e });
    }
  }
}

/** Fixed credentials for every registry (tests, or a library user with its own secret source). */
export class StaticCredentials implements CredentialProvider {
  constructor(private readonly byRegistry: Record<string, Credential>) {}
  async get(registry: string): Promise<Credential | undefined> {
    return this.byRegistry[normalizeRegistry(registry)];
  }
}
