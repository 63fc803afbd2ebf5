/**
 * Every case of the Sigstore conformance suite (sigstore-conformance test/assets/bundle-verify,
 * in shared/reference/vectors/sigstore/conformance): a directory ending in `_fail` must be
 * refused, every other must verify — with the case's artifact, key or identity, and trusted
 * root (the production root when it has none), as the suite's client runs them.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { artifactFromBytes, verifyBundle } from '../../src/sign/bundle-verify.js';
import { parseBundle } from '../../src/sign/bundle.js';
import { parsePublicKey } from '../../src/sign/keys.js';
import { parseTrustedRoot } from '../../src/sign/trusted-root.js';
import { sigstoreVectors } from './sigstore-vectors.js';

const base = sigstoreVectors();
const cases = join(base, 'conformance/bundle-verify');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

/** Runs one case as the conformance client would; returns why it was refused, or undefined. */
export function runCase(dir: string): string | undefined {
  const file = (name: string) => join(dir, name);
  const text = (name: string, fallback: string) =>
    existsSync(file(name)) ? readFileSync(file(name), 'utf8').trim() : fallback;
  try {
    const bundle = parseBundle(readFileSync(file('bundle.sigstore.json')));
    const trustedRoot = parseTrustedRoot(
      readFileSync(
        existsSync(file('trusted_root.json')) ? file('trusted_root.json') : join(base, 'public-good/trusted_root.json'),
      ),
    );
    const artifact = artifactFromBytes(
      readFileSync(existsSync(file('artifact')) ? file('artifact') : join(cases, 'a.txt')),
    );
    const policy = existsSync(file('key.pub'))
      ? { trustedRoot, keys: [parsePublicKey(readFileSync(file('key.pub'), 'utf8'), 'key.pub')] }
      : {
          trustedRoot,
          identity: { identity: text('identity', DEFAULT_IDENTITY), issuer: text('issuer', DEFAULT_ISSUER) },
        };
    verifyBundle(bundle, artifact, policy);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const names = readdirSync(cases, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('the conformance suite has its 70 cases', () => {
  assert.equal(names.length, 70);
});

for (const name of names) {
  test(`conformance ${name}`, () => {
    const refused = runCase(join(cases, name));
    if (name.endsWith('_fail')) assert.ok(refused !== undefined, `${name} must be refused but verified`);
    else assert.equal(refused, undefined, `${name} must verify: ${refused}`);
  });
}
