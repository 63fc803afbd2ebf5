/**
 * `stowage mirror SRC DST`: the client's mirror operation, thin. SRC is one repository
 * (`host/team/app`) or a set of them (`host/team/**`, `host/team/`, `host`), mirrored
 * under the same names below DST's path (or `--prefix`). `--only-signed` takes the
 * verification flags `stowage verify` takes (verify-flags.ts).
 */
import type { Command } from 'commander';
import {
  clientError,
  mirror,
  mirrorRepositories,
  parseReference,
  parseRepositorySet,
  type MirrorOptions,
  type MirrorResult,
  type MirrorTagEvent,
  type RepositoriesMirrorResult,
} from '../client/index.js';
import { addClientOptions, clientAction, type CommandContext } from './client-common.js';
import { humanBytes } from './progress.js';
import { addVerifyOptions, verificationPolicy } from './verify-flags.js';

export function registerMirror(program: Command): void {
  addClientOptions(
    addVerifyOptions(
      program
        .command('mirror')
        .description(
          'Copy the tags of a repository (or of every repository a glob matches) into another registry: only what changed, with referrers.',
        )
        .argument('<src>', 'host[:port]/repository, or host[:port]/glob (team/**, team/*, team/) for several')
        .argument('<dst>', 'host[:port]/repository; for several: host[:port][/prefix]')
        .option('--include-tags <regex>', 'only tags matching this regular expression')
        .option('--exclude-tags <regex>', 'leave out tags matching this regular expression')
        .option('--semver <range>', "only tags that are versions in this range (Helm's semantics: '>=3.18, <4')")
        .option('--only-signed', 'only tags with a signature that verifies (with --key, or keyless flags)')
        .option('--prefix <path>', 'several repositories: put them below this path at the destination')
        .option('--dry-run', 'list what would be copied and why, copy nothing')
        .option('--no-referrers', 'leave signatures, attestations and SBOMs behind'),
      'key',
    ),
  ).action(
    clientAction(
      async (ctx, [srcArg, dstArg], opts) => {
        const policy = await verificationPolicy(opts, 'key');
        if (opts.onlySigned && !policy)
          throw clientError('INVALID_ARGUMENT', {
            message: '--only-signed needs --key cosign.pub (or the keyless flags)',
          });
        if (policy && !opts.onlySigned)
          throw clientError('INVALID_ARGUMENT', { message: 'verification flags need --only-signed' });
        const common: Omit<MirrorOptions, 'destination'> = {
          ...(opts.includeTags ? { includeTags: opts.includeTags as string } : {}),
          ...(opts.excludeTags ? { excludeTags: opts.excludeTags as string } : {}),
          ...(opts.semver ? { semver: opts.semver as string } : {}),
          ...(policy ? { onlySigned: policy } : {}),
          dryRun: opts.dryRun === true,
          referrers: opts.referrers !== false,
          onTag: tagProgress(ctx),
        };
        const set = parseRepositorySet(srcArg!);
        if (set) {
          const dst = splitHost(dstArg!);
          const prefix = [dst.path, opts.prefix as string | undefined].filter(Boolean).join('/');
          const r = await mirrorRepositories(ctx.client(), set, { registry: dst.registry, prefix }, common);
          const lines = r.repositories.flatMap((repo) =>
            'error' in repo ? [`${repo.source}: failed: ${repo.error}`] : repositoryLines(repo, true),
          );
          return {
            text: [...lines, setSummary(r)],
            json: r,
            ...(r.failed > 0 ? { exitCode: 1 } : {}),
          };
        }
        if (opts.prefix) throw clientError('INVALID_ARGUMENT', { message: '--prefix is for several repositories' });
        const r = await mirror(
          ctx.client(),
          parseReference(srcArg!, { defaultTag: null }),
          parseReference(dstArg!, { defaultTag: null }),
          common,
        );
        return { text: repositoryLines(r, false), json: r, ...(r.failed > 0 ? { exitCode: 1 } : {}) };
      },
      { transfers: true },
    ),
  );
}

/** `host:port/path` → the host and the path (for several repositories DST is a host and a prefix). */
function splitHost(text: string): { registry: string; path: string } {
  const slash = text.indexOf('/');
  return slash < 0
    ? { registry: text, path: '' }
    : { registry: text.slice(0, slash), path: text.slice(slash + 1).replace(/\/+$/, '') };
}

function tagProgress(ctx: CommandContext): (e: MirrorTagEvent) => void {
  return (e) => {
    if (e.state === 'start') ctx.status(`[${e.index}/${e.total}] ${e.repository}:${e.tag}`);
  };
}

/** What happened to each tag, then the counts (with the repository's name when there are several). */
function repositoryLines(r: MirrorResult, named: boolean): string[] {
  const at = named ? `${r.source}:` : '';
  const lines: string[] = [];
  for (const t of r.tags) {
    if (t.action === 'unchanged') continue;
    if (t.action === 'failed') lines.push(`failed ${at}${t.tag}: ${t.error}`);
    else {
      const what = t.reason === 'new-referrers' ? `${t.referrers} new referrer(s)` : t.reason;
      lines.push(`${t.action === 'copied' ? 'copied' : 'would copy'} ${at}${t.tag} (${what}) ${t.digest}`);
    }
  }
  for (const s of r.skipped) {
    // Filtered-out tags are expected; only the signature checks are worth a line each.
    if (/^(unsigned|signature)/.test(s.reason)) lines.push(`skipped ${at}${s.tag}: ${s.reason}`);
  }
  const counts = `${r.copied} copied, ${r.skipped.length} skipped, ${r.unchanged} unchanged, ${r.failed} failed, ${humanBytes(r.bytes)}`;
  if (r.dryRun) {
    const would = r.tags.filter((t) => t.action === 'would-copy').length;
    lines.push(`dry run ${r.source} → ${r.destination}: ${would} tag(s) would be copied, ${r.unchanged} unchanged`);
  } else lines.push(`mirrored ${r.source} → ${r.destination}: ${counts}`);
  return lines;
}

function setSummary(r: RepositoriesMirrorResult): string {
  return `${r.dryRun ? 'dry run: ' : ''}${r.repositories.length} repositor${r.repositories.length === 1 ? 'y' : 'ies'} ${r.source} → ${r.destination}: ${r.copied} copied, ${r.skipped} skipped, ${r.unchanged} unchanged, ${r.failed} failed, ${humanBytes(r.bytes)}`;
}
