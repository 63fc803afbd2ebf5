/**
 * Verification flags, defined once for `verify`, `verify-blob` and every pull (image,
 * chart, artifact, policy), named as cosign names them:
 *
 *   --key FILE (--verify-key FILE on pulls)         key-signed: cosign.pub, repeatable
 *   --trusted-root trusted_root.json                keyless: the Sigstore trust material
 *   --certificate-identity[-regexp] X               keyless: the certificate's SAN
 *   --certificate-oidc-issuer[-regexp] X            keyless: the OIDC issuer
 *   --insecure-ignore-tlog / --insecure-ignore-sct  as cosign's
 *
 * On pulls: the reference is resolved once, verified, and the command pulls the
 * returned reference — pinned to the verified digest — so nothing is written unless
 * that exact content verifies.
 *
 *   addPullVerifyOptions(cmd);                                  // when declaring the command
 *   const pinned = await verifyForPull(ctx, client, ref, opts); // before pulling; then pull `pinned`
 */
import type { Command } from 'commander';
import {
  clientError,
  formatReference,
  type Reference,
  type RegistryClient,
  readTrustedKeys,
  readTrustedRoot,
  resolveVerified,
} from '../client/index.js';
import { describeSigner, type VerificationPolicy } from '../sign/index.js';
import type { CommandContext } from './client-common.js';

/** Repeatable options: every value, in order (undefined when never given: no "(default: [])" in help). */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The options; `keyFlag` is `key` (verify, verify-blob) or `verify-key` (pulls). */
export function addVerifyOptions(cmd: Command, keyFlag: 'key' | 'verify-key'): Command {
  const refuse = keyFlag === 'verify-key' ? '; nothing is written unless a signature verifies' : '';
  return cmd
    .option(
      `--${keyFlag} <file>`,
      `a public key (cosign.pub) a signature must verify with (repeat for several)${refuse}`,
      collect,
    )
    .option(
      '--trusted-root <file>',
      'keyless: the Sigstore trusted_root.json (Fulcio CAs, Rekor and CT log keys, timestamp authorities)',
    )
    .option(
      '--certificate-identity <san>',
      "keyless: the signing certificate's identity (SAN: email, URI) must be exactly this",
    )
    .option('--certificate-identity-regexp <re>', 'keyless: … or match this regular expression')
    .option('--certificate-oidc-issuer <url>', "keyless: the certificate's OIDC issuer must be exactly this")
    .option('--certificate-oidc-issuer-regexp <re>', 'keyless: … or match this regular expression')
    .option('--insecure-ignore-tlog', 'do not require (or check) transparency log entries')
    .option('--insecure-ignore-sct', 'keyless: do not require an SCT in the certificate');
}

export const addPullVerifyOptions = (cmd: Command): Command => addVerifyOptions(cmd, 'verify-key');

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The policy the flags describe; undefined when no verification flag was given. */
export async function verificationPolicy(
  opts: Record<string, unknown>,
  keyFlag: 'key' | 'verify-key',
): Promise<VerificationPolicy | undefined> {
  const keyFiles = (keyFlag === 'key' ? opts.key : opts.verifyKey) as string[] | undefined;
  const identity = {
    ...(str(opts.certificateIdentity) !== undefined ? { identity: str(opts.certificateIdentity)! } : {}),
    ...(str(opts.certificateIdentityRegexp) !== undefined
      ? { identityRegexp: str(opts.certificateIdentityRegexp)! }
      : {}),
    ...(str(opts.certificateOidcIssuer) !== undefined ? { issuer: str(opts.certificateOidcIssuer)! } : {}),
    ...(str(opts.certificateOidcIssuerRegexp) !== undefined
      ? { issuerRegexp: str(opts.certificateOidcIssuerRegexp)! }
      : {}),
  };
  const rootFile = str(opts.trustedRoot);
  const keyless = Object.keys(identity).length > 0;
  if (!keyFiles?.length && !keyless && !rootFile) return undefined;
  if (keyless || (rootFile && !keyFiles?.length)) {
    // As cosign: keyless verification names both who and which issuer.
    if (identity.identity === undefined && identity.identityRegexp === undefined)
      throw clientError('INVALID_ARGUMENT', {
        message: 'keyless verification needs --certificate-identity or --certificate-identity-regexp',
      });
    if (identity.issuer === undefined && identity.issuerRegexp === undefined)
      throw clientError('INVALID_ARGUMENT', {
        message: 'keyless verification needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp',
      });
    if (!rootFile)
      throw clientError('INVALID_ARGUMENT', {
        message: 'keyless verification needs --trusted-root trusted_root.json (verification is offline)',
      });
  }
  return {
    ...(keyFiles?.length ? { keys: await readTrustedKeys(keyFiles) } : {}),
    ...(rootFile ? { trustedRoot: await readTrustedRoot(rootFile) } : {}),
    ...(keyless ? { identity } : {}),
    ...(opts.insecureIgnoreTlog ? { ignoreTlog: true } : {}),
    ...(opts.insecureIgnoreSct ? { ignoreSct: true } : {}),
  };
}

/**
 * Without verification flags: `ref` unchanged. With them: the reference pinned to the
 * digest whose signature verified (throws SIGNATURE_NOT_FOUND / SIGNATURE_INVALID
 * otherwise), after a note on stderr saying what verified.
 */
export async function verifyForPull(
  ctx: CommandContext,
  client: RegistryClient,
  ref: Reference,
  opts: Record<string, unknown>,
): Promise<Reference> {
  const policy = await verificationPolicy(opts, 'verify-key');
  if (!policy) return ref;
  const r = await resolveVerified(client, ref, policy);
  const by = [...new Set(r.signatures.map((s) => describeSigner(s.signer)))].join(', ');
  ctx.note(
    `stowage: verified ${formatReference(r.reference)}: ${r.signatures.length} signature${r.signatures.length === 1 ? '' : 's'} by ${by}`,
  );
  return r.reference;
}
