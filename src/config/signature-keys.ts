/**
 * Reads the files `require_signatures` names — public keys and Sigstore trusted
 * roots — once, at start-up, and hands the registry's SignaturePolicy parsed rules
 * (and the UI the same rules plus the keys of `ui.signature_keys`).
 * An unreadable or unusable file fails the start with a message naming it.
 */
import { readFile } from 'node:fs/promises';
import type { SignatureRule } from '../registry/signature-policy.js';
import { KeyFormatError } from '../sign/encrypted-key.js';
import { parsePublicKey, type TrustedKey } from '../sign/keys.js';
import { TrustedRootError, parseTrustedRoot, type TrustedRoot } from '../sign/trusted-root.js';
import { SignaturesConfigError, type SignatureRequirement } from './signatures-config.js';

/** Public key files read and parsed; `what` names the setting in messages. Throws SignaturesConfigError. */
export async function loadPublicKeys(files: readonly string[], what: string): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  for (const file of files) {
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (e) {
      throw new SignaturesConfigError(`${what}: cannot read the key ${file}: ${(e as Error).message}`);
    }
    try {
      keys.push(parsePublicKey(pem, file));
    } catch (e) {
      if (e instanceof KeyFormatError)
        throw new SignaturesConfigError(`${what}: ${file} is not a usable public key: ${e.message}`);
      throw e;
    }
  }
  return keys;
}

/** The rules with their files loaded; throws SignaturesConfigError on any unusable file. */
export async function loadSignatureRules(requirements: readonly SignatureRequirement[]): Promise<SignatureRule[]> {
  const rules: SignatureRule[] = [];
  for (const r of requirements) {
    const keys = await loadPublicKeys(r.keys, `require_signatures: "${r.repositories}"`);
    let keyless: SignatureRule['keyless'];
    if (r.keyless) {
      const { trustedRoot: file, ...identity } = r.keyless;
      let trustedRoot: TrustedRoot;
      try {
        trustedRoot = parseTrustedRoot(await readFile(file));
      } catch (e) {
        if (e instanceof TrustedRootError || (e as NodeJS.ErrnoException).code)
          throw new SignaturesConfigError(
            `require_signatures: the trusted root ${file} for "${r.repositories}" is not usable: ${(e as Error).message}`,
          );
        throw e;
      }
      keyless = { trustedRoot, identity };
    }
    rules.push({ repositories: r.repositories, keys, ...(keyless ? { keyless } : {}) });
  }
  return rules;
}
