/**
 * `stowage sign REF --key cosign.key` and `stowage verify REF --key cosign.pub`:
 * cosign-compatible signatures on any registry (see src/sign).
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  clientError,
  formatReference,
  parseReference,
  attestReference,
  readSigningKey,
  signReference,
  type PushedReferrer,
  verifyBlob,
  verifyReference,
  type VerifiedSignature,
} from '../client/index.js';
import { describeSigner, signatureTag, PREDICATE_TYPES, predicateType } from '../sign/index.js';
import { addClientOptions, clientAction } from './client-common.js';
import { cosignPassword } from './key-password.js';
import { addVerifyOptions, verificationPolicy } from './verify-flags.js';

/** Repeatable options: every value, in order (undefined when never given: no "(default: [])" in help). */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Largest predicate file read: SBOMs can be large, but they are JSON held whole. */
const MAX_PREDICATE_BYTES = 64 * 1024 * 1024;

async function readPredicate(path: string): Promise<unknown> {
  let text: string;
  try {
    if ((await stat(path)).size > MAX_PREDICATE_BYTES)
      throw clientError('INVALID_ARGUMENT', { message: `${path} is larger than ${MAX_PREDICATE_BYTES} bytes` });
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code)
      throw clientError('INVALID_ARGUMENT', { message: `cannot read ${path}: ${(e as Error).message}` });
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw clientError('INVALID_ARGUMENT', { message: `${path} is not JSON (an in-toto predicate is a JSON value)` });
  }
}

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
  const where = s.foundIn
    .map((f) => (f.via === 'tag' ? `tag ${f.tag ?? signatureTag(s.digest)}` : `referrer ${f.manifest}`))
    .join(', ');
  const what =
    s.format === 'sigstore-bundle'
      ? `Sigstore bundle${s.predicateType ? ` (${s.predicateType})` : ''}`
      : s.format === 'cosign-attestation'
        ? `cosign attestation ${s.payloadDigest} (${s.predicateType})`
        : `cosign signature ${s.payloadDigest}`;
  const times = s.timestamps?.length
    ? `; signed at ${s.timestamps.map((t) => `${t.time} (${t.source})`).join(', ')}`
    : '';
  return `  ${what} signed by ${describeSigner(s.signer)} (found in ${where})${times}`;
}

const referrerLine = (r: PushedReferrer) =>
  `Sigstore bundle: referrer ${r.digest} (${r.via === 'api' ? 'referrers API' : 'referrers tag'})`;

export function registerSign(program: Command): void {
  addClientOptions(
    program
      .command('sign')
      .description(
        'Sign the manifest a reference resolves to (its digest, never the tag) with a cosign key: a Sigstore bundle stored as an OCI referrer, as cosign v3 writes it, and the legacy sha256-<hex>.sig tag cosign v2 reads.',
      )
      .argument('<ref>', 'what to sign: host[:port]/repository[:tag][@digest]')
      .requiredOption(
        '--key <file>',
        'the private key (cosign.key); its password comes from COSIGN_PASSWORD, else a prompt',
      )
      .option('-a, --annotation <key=value>', 'an annotation to sign along (repeatable)', collect)
      .option('--no-referrer', 'no Sigstore bundle referrer: only the legacy .sig tag')
      .option('--no-legacy', "no legacy .sig tag: only the Sigstore bundle (cosign v3's default)"),
  ).action(
    clientAction(async (ctx, [refArg], opts) => {
      const ref = parseReference(refArg!);
      if (opts.referrer === false && opts.legacy === false)
        throw clientError('INVALID_ARGUMENT', { message: '--no-referrer and --no-legacy leave nothing to write' });
      const extra = annotations(opts.annotation);
      const key = await readSigningKey(opts.key as string, () => cosignPassword({ confirm: false }));
      const r = await signReference(ctx.client(), ref, key, {
        annotations: extra,
        bundle: opts.referrer !== false,
        legacy: opts.legacy !== false,
      });
      return {
        text: [
          `signed ${r.reference}${ref.tag ? ` (${ref.tag})` : ''} with ${key.source}`,
          ...(r.referrer ? [referrerLine(r.referrer)] : []),
          ...(r.tag
            ? [
                `${r.alreadySigned ? 'already in' : 'signatures'}: ${formatReference({ registry: ref.registry, repository: ref.repository, tag: r.tag })} (${r.signatures} signature${r.signatures === 1 ? '' : 's'})`,
              ]
            : []),
        ],
        json: r,
      };
    }),
  );

  addClientOptions(
    program
      .command('attest')
      .description(
        'Attach a signed in-toto attestation (a Sigstore bundle referrer, as cosign v3 attest) to the manifest a reference resolves to.',
      )
      .argument('<ref>', 'what to attest: host[:port]/repository[:tag][@digest]')
      .requiredOption(
        '--key <file>',
        'the private key (cosign.key); its password comes from COSIGN_PASSWORD, else a prompt',
      )
      .requiredOption(
        '--predicate <file>',
        'the predicate: a JSON file (an SPDX or CycloneDX SBOM, SLSA provenance, …)',
      )
      .option(
        '--type <predicate>',
        `the predicate type: ${Object.keys(PREDICATE_TYPES).join(', ')}, or a URI`,
        'custom',
      ),
  ).action(
    clientAction(async (ctx, [refArg], opts) => {
      const ref = parseReference(refArg!);
      let type: string;
      try {
        type = predicateType(opts.type as string);
      } catch (e) {
        throw clientError('INVALID_ARGUMENT', { message: (e as Error).message });
      }
      const predicate = await readPredicate(opts.predicate as string);
      const key = await readSigningKey(opts.key as string, () => cosignPassword({ confirm: false }));
      const r = await attestReference(ctx.client(), ref, key, type, predicate);
      return { text: [`attested ${r.reference} (${type}) with ${key.source}`, referrerLine(r.referrer)], json: r };
    }),
  );

  addClientOptions(
    addVerifyOptions(
      program
        .command('verify')
        .description(
          "Verify the signatures of a reference — Sigstore bundles (cosign v3, found through the referrers API or the referrers tag) and cosign's sha256-<hex>.sig signatures — with public keys, or keyless with a trusted root and a certificate identity; offline; exits 1 unless one verifies.",
        )
        .argument('<ref>', 'what to verify: host[:port]/repository[:tag][@digest]'),
      'key',
    )
      .option(
        '--type <predicate>',
        `verify attestations of this predicate type instead (Sigstore bundles and cosign's .att tag): ${Object.keys(PREDICATE_TYPES).join(', ')}, or a URI`,
      )
      .option(
        '-a, --annotation <key=value>',
        "an annotation a cosign signature's payload must carry (repeatable)",
        collect,
      ),
  ).action(
    clientAction(async (ctx, [refArg], opts) => {
      const ref = parseReference(refArg!);
      const policy = await verificationPolicy(opts, 'key');
      if (!policy)
        throw clientError('INVALID_ARGUMENT', {
          message: 'nothing to verify with',
          hint: 'give --key cosign.pub, or --trusted-root with --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]',
        });
      const required = annotations(opts.annotation);
      if (Object.keys(required).length > 0) policy.annotations = required;
      if (typeof opts.type === 'string') {
        try {
          policy.predicateType = predicateType(opts.type);
        } catch (e) {
          throw clientError('INVALID_ARGUMENT', { message: (e as Error).message });
        }
      }
      const client = ctx.client();
      // As cosign: a digest is verified as given; a tag is resolved to the digest it names now.
      const digest = ref.digest ?? (await client.repository(ref).resolve(ref.tag!)).digest;
      const signatures = await verifyReference(client, ref, digest, policy);
      const label = formatReference({ ...ref, digest });
      return {
        text: [
          `Verification for ${label} --`,
          `verified ${signatures.length} signature${signatures.length === 1 ? '' : 's'}:`,
          ...signatures.map(describe),
        ],
        json: { reference: label, digest, signatures },
      };
    }),
  );

  addClientOptions(
    addVerifyOptions(
      program
        .command('verify-blob')
        .description(
          'Verify a file against a Sigstore bundle (as cosign verify-blob --bundle), with a public key or keyless; offline.',
        )
        .argument('<file>', "the signed file (for DSSE bundles: the statement's subject)")
        .requiredOption('--bundle <file>', 'the Sigstore bundle (.sigstore.json, v0.1–v0.3)'),
      'key',
    ),
    { registry: false },
  ).action(
    clientAction(async (_ctx, [file], opts) => {
      const policy = await verificationPolicy(opts, 'key');
      if (!policy)
        throw clientError('INVALID_ARGUMENT', {
          message: 'nothing to verify with',
          hint: 'give --key cosign.pub, or --trusted-root with --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]',
        });
      const r = await verifyBlob(file!, opts.bundle as string, policy);
      return {
        text: [
          `Verified OK: ${file} (${r.content}) signed by ${describeSigner(r.signer)}`,
          ...r.timestamps.map(
            (t) =>
              `  time ${t.time} from ${t.source === 'tlog' ? 'the log' : 'the timestamp authority'} ${t.authority}`,
          ),
        ],
        json: { file, ...r },
      };
    }),
  );
}
