/**
 * `--verify-key FILE` for pull commands (image, chart, artifact, policy), defined
 * once: when given, the reference is resolved once, its cosign signatures are
 * verified, and the command pulls the returned reference — pinned to the verified
 * digest — so nothing is written unless that exact content verifies.
 *
 *   addVerifyKeyOption(cmd);                                    // when declaring the command
 *   const pinned = await verifyForPull(ctx, client, ref, opts); // before pulling; then pull `pinned`
 */
import type { Command } from 'commander';
import { formatReference, type Reference, type RegistryClient } from '../client/index.js';
import { readTrustedKeys, resolveVerified } from '../sign/index.js';
import type { CommandContext } from './client-common.js';

/** Repeatable options: every value, in order (undefined when never given: no "(default: [])" in help). */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addVerifyKeyOption(cmd: Command): Command {
  return cmd.option('--verify-key <file>', 'refuse unless a cosign signature verifies with this public key (cosign.pub; repeat for several keys); nothing is written otherwise', collect);
}

/** The `--verify-key` files of a command's options (none when the option was not given). */
export function verifyKeyFiles(opts: Record<string, unknown>): string[] {
  return Array.isArray(opts.verifyKey) ? (opts.verifyKey as string[]) : [];
}

/**
 * Without `--verify-key`: `ref` unchanged. With it: the reference pinned to the
 * digest whose signature verified (throws SIGNATURE_NOT_FOUND / SIGNATURE_INVALID
 * otherwise), after a note on stderr saying what verified.
 */
export async function verifyForPull(ctx: CommandContext, client: RegistryClient, ref: Reference, opts: Record<string, unknown>): Promise<Reference> {
  const files = verifyKeyFiles(opts);
  if (files.length === 0) return ref;
  const keys = await readTrustedKeys(files);
  const r = await resolveVerified(client, ref, keys);
  const by = [...new Set(r.signatures.map((s) => s.key))].join(', ');
  ctx.note(`stowage: verified ${formatReference(r.reference)}: ${r.signatures.length} signature${r.signatures.length === 1 ? '' : 's'} by ${by}`);
  return r.reference;
}
