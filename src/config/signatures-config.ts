/**
 * The `require_signatures:` section (pure): which repositories may be pulled only
 * when a cosign signature verifies, and with which public keys. A mapping from a
 * repository glob (src/core/repository-glob.ts: `*` within a component, `**` across) to a key
 * file or a list of them; the first glob that matches a repository (in file order)
 * decides. Key paths are taken as written (relative to the working directory).
 *
 *   require_signatures:
 *     "prod/**": /etc/stowage/keys/release.pub
 *     "team/app": [./keys/alice.pub, ./keys/bob.pub]
 *
 * The list form `[{ repositories: "prod/**", keys: [...] }]` is accepted too. A keyless
 * rule names a Sigstore trusted root and the signer, with cosign's flag names (and keys
 * may be given beside it; either satisfies the rule):
 *
 *     "release/**":
 *       trusted_root: /etc/stowage/trusted_root.json
 *       certificate_identity_regexp: ^https://github.com/acme/
 *       certificate_oidc_issuer: https://token.actions.githubusercontent.com
 */
import { GlobError, compileGlob } from '../core/repository-glob.js';

export interface SignatureRequirement {
  /** The repository glob as written. */
  repositories: string;
  /** Public key files (cosign.pub); a signature by any of them satisfies the rule. */
  keys: string[];
  /** Keyless: a trusted_root.json and the identity a certificate must carry. */
  keyless?: { trustedRoot: string; identity?: string; identityRegexp?: string; issuer?: string; issuerRegexp?: string };
}

export type KeylessIdentity = NonNullable<SignatureRequirement['keyless']>;

/** cosign's flag names as settings, snake_case (camelCase is accepted too). */
export const KEYLESS_FIELDS: Record<string, keyof KeylessIdentity> = {
  trusted_root: 'trustedRoot',
  certificate_identity: 'identity',
  certificate_identity_regexp: 'identityRegexp',
  certificate_oidc_issuer: 'issuer',
  certificate_oidc_issuer_regexp: 'issuerRegexp',
};

const snakeCase = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * The keyless settings among `m`'s (others are ignored; the caller checks those):
 * undefined when none is set, else all three of trusted root, identity and issuer.
 * Shared by require_signatures and mirrors; `at` names the entry in messages.
 */
export function parseKeyless(m: Record<string, unknown>, at: string): KeylessIdentity | undefined {
  const keyless: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    const field = KEYLESS_FIELDS[snakeCase(k)];
    if (!field) continue;
    if (typeof v !== 'string' || v === '') throw new SignaturesConfigError(`${at}.${k} must be a non-empty string`);
    if (field.endsWith('Regexp')) {
      try {
        new RegExp(v);
      } catch {
        throw new SignaturesConfigError(`${at}.${k} is not a valid regular expression`);
      }
    }
    keyless[field] = v;
  }
  if (Object.keys(keyless).length === 0) return undefined;
  if (
    !keyless.trustedRoot ||
    !(keyless.identity || keyless.identityRegexp) ||
    !(keyless.issuer || keyless.issuerRegexp)
  )
    throw new SignaturesConfigError(
      `${at} keyless needs trusted_root, certificate_identity[_regexp] and certificate_oidc_issuer[_regexp]`,
    );
  return keyless as KeylessIdentity;
}

function keylessRule(glob: string, value: Record<string, unknown>): SignatureRequirement {
  const at = `require_signatures: "${glob}"`;
  let keys: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const snake = snakeCase(k);
    if (snake === 'keys' || snake === 'key') {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x !== ''))
        throw new SignaturesConfigError(`${at}.keys must be key files`);
      keys = list as string[];
    } else if (!KEYLESS_FIELDS[snake])
      throw new SignaturesConfigError(
        `${at} has an unknown setting ${k} (keys, ${Object.keys(KEYLESS_FIELDS).join(', ')})`,
      );
  }
  const keyless = parseKeyless(value, at);
  if (!keyless && keys.length === 0) throw new SignaturesConfigError(`${at} needs keys or a keyless identity`);
  return { repositories: glob, keys, ...(keyless ? { keyless } : {}) };
}

export class SignaturesConfigError extends Error {}

export function parseSignatureRequirements(raw: unknown): SignatureRequirement[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  let entries: [unknown, unknown][];
  if (Array.isArray(raw)) {
    entries = raw.map((r: unknown) => {
      if (typeof r !== 'object' || r === null)
        throw new SignaturesConfigError('require_signatures entries need repositories and keys');
      const e = r as { repositories?: unknown; keys?: unknown };
      return [e.repositories, e.keys];
    });
  } else if (typeof raw === 'object') {
    entries = Object.entries(raw as Record<string, unknown>);
  } else {
    throw new SignaturesConfigError('require_signatures must map repository globs to public key files');
  }
  const out: SignatureRequirement[] = [];
  for (const [glob, value] of entries) {
    if (typeof glob !== 'string')
      throw new SignaturesConfigError('require_signatures: a repository glob must be a string');
    try {
      compileGlob(glob);
    } catch (e) {
      if (e instanceof GlobError) throw new SignaturesConfigError(`require_signatures: ${e.message}`);
      throw e;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      out.push(keylessRule(glob, value as Record<string, unknown>));
      continue;
    }
    const keys = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' && k !== '')) {
      throw new SignaturesConfigError(`require_signatures: "${glob}" needs a public key file or a list of them`);
    }
    out.push({ repositories: glob, keys: keys as string[] });
  }
  return out.length > 0 ? out : undefined;
}
