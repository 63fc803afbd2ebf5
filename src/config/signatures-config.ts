/**
 * The `require_signatures:` section (pure): which repositories may be pulled only
 * when a cosign signature verifies, and with which public keys. A mapping from a
 * repository glob (src/auth/glob.ts: `*` within a component, `**` across) to a key
 * file or a list of them; the first glob that matches a repository (in file order)
 * decides. Key paths are taken as written (relative to the working directory).
 *
 *   require_signatures:
 *     "prod/**": /etc/stowage/keys/release.pub
 *     "team/app": [./keys/alice.pub, ./keys/bob.pub]
 *
 * The list form `[{ repositories: "prod/**", keys: [...] }]` is accepted too.
 */
import { GlobError, compileGlob } from '../auth/glob.js';

export interface SignatureRequirement {
  /** The repository glob as written. */
  repositories: string;
  /** Public key files (cosign.pub); a signature by any of them satisfies the rule. */
  keys: string[];
}

export class SignaturesConfigError extends Error {}

export function parseSignatureRequirements(raw: unknown): SignatureRequirement[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  let entries: [unknown, unknown][];
  if (Array.isArray(raw)) {
    entries = raw.map((r: unknown) => {
      if (typeof r !== 'object' || r === null) throw new SignaturesConfigError('require_signatures entries need repositories and keys');
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
    if (typeof glob !== 'string') throw new SignaturesConfigError('require_signatures: a repository glob must be a string');
    try {
      compileGlob(glob);
    } catch (e) {
      if (e instanceof GlobError) throw new SignaturesConfigError(`require_signatures: ${e.message}`);
      throw e;
    }
    const keys = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'string' && k !== '')) {
      throw new SignaturesConfigError(`require_signatures: "${glob}" needs a public key file or a list of them`);
    }
    out.push({ repositories: glob, keys: keys as string[] });
  }
  return out.length > 0 ? out : undefined;
}
