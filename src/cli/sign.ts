/**
 * `stowage sign REF --key cosign.key` and `stowage verify REF --key cosign.pub`:
 * cosign-compatible signatures on any registry (see src/sign).
 */
import type { Command } from 'commander';
import { clientError, formatReference, parseReference } from '../client/index.js';
import { readSigningKey, readTrustedKeys, signReference, signatureTag, verifyReference, type VerifiedSignature } from '../sign/index.js';
import { addClientOptions, clientAction } from './client-common.js';
import { cosignPassword } from './key-password.js';

/** Repeatable options: every value, in order (undefined when never given: no "(default: [])" in help). */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `-a key=value` options → a record. */
function annotations(values: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of Array.isArray(values) ? (values as string[]) : []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw clientError('INVALID_ARGUMENT', { message: `annotation "${v}" is not key=value` });
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

function describe(s: VerifiedSignature): string {
  const where = s.foundIn.map((f) => (f.via === 'tag' ? `tag ${signatureTag(s.digest)}` : `referrer ${f.manifest}`)).join(', ');
  return `  ${s.payloadDigest} signed by ${s.key} (found in ${where})`;
}

export function registerSign(program: Command): void {
  addClientOptions(
    program
      .command('sign')
      .description('Sign the manifest a reference resolves to (its digest, never the tag) with a cosign key; stored as cosign stores it (the sha256-<hex>.sig tag) and as an OCI referrer.')
      .argument('<ref>', 'what to sign: host[:port]/repository[:tag][@digest]')
      .requiredOption('--key <file>', 'the private key (cosign.key); its password comes from COSIGN_PASSWORD, else a prompt')
      .option('-a, --annotation <key=value>', 'an annotation to sign along (repeatable)', collect)
      .option('--no-referrer', 'only the .sig tag, no OCI 1.1 referrer'),
  ).action(
    clientAction(async (ctx, [refArg], opts) => {
      const ref = parseReference(refArg!);
      const extra = annotations(opts.annotation);
      const key = await readSigningKey(opts.key as string, () => cosignPassword({ confirm: false }));
      const r = await signReference(ctx.client(), ref, key, { annotations: extra, referrer: opts.referrer !== false });
      const tagRef = formatReference({ registry: ref.registry, repository: ref.repository, tag: r.tag });
      return {
        text: [
          r.alreadySigned ? `${r.reference} was already signed with ${key.source}` : `signed ${r.reference}${ref.tag ? ` (${ref.tag})` : ''} with ${key.source}`,
          `signatures: ${tagRef} (${r.signatures} signature${r.signatures === 1 ? '' : 's'})`,
          ...(r.referrer ? [`referrer: ${r.referrer.digest} (${r.referrer.via === 'api' ? 'referrers API' : 'referrers tag'})`] : []),
        ],
        json: r,
      };
    }),
  );

  addClientOptions(
    program
      .command('verify')
      .description('Verify the cosign signatures of a reference with public keys: found by referrers and by the sha256-<hex>.sig tag; exits 1 unless one verifies.')
      .argument('<ref>', 'what to verify: host[:port]/repository[:tag][@digest]')
      .requiredOption('--key <file>', 'a public key (cosign.pub); repeat for several', collect)
      .option('-a, --annotation <key=value>', 'an annotation the signed payload must carry (repeatable)', collect),
  ).action(
    clientAction(async (ctx, [refArg], opts) => {
      const ref = parseReference(refArg!);
      const keys = await readTrustedKeys(opts.key as string[]);
      const required = annotations(opts.annotation);
      const client = ctx.client();
      // As cosign: a digest is verified as given; a tag is resolved to the digest it names now.
      const digest = ref.digest ?? (await client.repository(ref).resolve(ref.tag!)).digest;
      const signatures = await verifyReference(client, ref, digest, keys, { annotations: required });
      const label = formatReference({ ...ref, digest });
      return {
        text: [
          `Verification for ${label} --`,
          'The following checks were performed on each of these signatures:',
          '  - The cosign claims were validated',
          '  - The signatures were verified against the specified public key',
          `verified ${signatures.length} signature${signatures.length === 1 ? '' : 's'}:`,
          ...signatures.map(describe),
        ],
        json: { reference: label, digest, signatures },
      };
    }),
  );
}
