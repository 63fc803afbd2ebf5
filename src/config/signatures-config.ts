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

const KEYLESS_FIELDS: Record<string, 'trustedRoot' | 'identity' | 'identityRegexp' | 'issuer' | 'issuerRegexp'> = {
  trusted_root: 'trustedRoot',
  certificate_identity: 'identity',
  certificate_identity_regexp: 'identityRegexp',
  certificate_oidc_issuer: 'issuer',
  certificate_oidc_issuer_regexp: 'issuerRegexp',
};

function keylessRule(glob: string, value: Record<string, unknown>): SignatureRequirement {
  const keyless: Record<string, string> = {};
  let keys: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const snake = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (snake === 'keys' || snake === 'key') {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x !== ''))
        throw new SignaturesConfigError(`require_signatures: "${glob}".keys must be key files`);
      keys = list as string[];
      continue;
    }
    const field = KEYLESS_FIELDS[snake];
    if (!field)
      throw new SignaturesConfigError(
        `require_signatures: "${glob}" has an unknown setting ${k} (keys, ${Object.keys(KEYLESS_FIELDS).join(', ')})`,
      );
    if (typeof v !== 'string' || v === '')
      throw new SignaturesConfigError(`require_signatures: "${glob}".${k} must be a non-empty string`);
    if (field.endsWith('Regexp')) {
      try {
        new RegExp(v);
      } catch {
        throw new SignaturesConfigError(`require_signatures: "${glob}".${k} is not a valid regular expression`);
      }
    }
    keyless[field] = v;
  }
  const named = Object.keys(keyless).length > 0;
  if (
    named &&
    (!keyless.trustedRoot || !(keyless.identity || keyless.identityRegexp) || !(keyless.issuer || keyless.issuerRegexp))
  ) {
    throw new SignaturesConfigError(
      `require_signatures: "${glob}" keyless needs trusted_root, certificate_identity[_regexp] and certificate_oidc_issuer[_regexp]`,
    );
  }
  if (!named && keys.length === 0)
    throw new SignaturesConfigError(`require_signatures: "${glob}" needs keys or a keyless identity`);
  return {
    repositories: glob,
    keys,
    ...(named ? { keyless: keyless as NonNullable<SignatureRequirement['keyless']> } : {}),
  };
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
