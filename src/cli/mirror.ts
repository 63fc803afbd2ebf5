/** `stowage mirror SRC/REPO DST/REPO`: the client's mirror operation, thin. */
import type { Command } from 'commander';
import { mirror, parseReference } from '../client/index.js';
import { addClientOptions, clientAction } from './client-common.js';

export function registerMirror(program: Command): void {
  addClientOptions(
    program
      .command('mirror')
      .description('Copy the tags of a repository into another registry: only what changed, with referrers.')
      .argument('<src>', 'host[:port]/repository')
      .argument('<dst>', 'host[:port]/repository')
      .option('--include-tags <regex>', 'only tags matching this regular expression')
      .option('--exclude-tags <regex>', 'leave out tags matching this regular expression')
      .option('--semver <range>', "only tags that are versions in this range (Helm's semantics: '>=3.18, <4')")
      .option('--dry-run', 'list what would be copied and why, copy nothing')
      .option('--no-referrers', 'leave signatures, attestations and SBOMs behind'),
  ).action(
    clientAction(
      async (ctx, [srcArg, dstArg], opts) => {
        const r = await mirror(
          ctx.client(),
          parseReference(srcArg!, { defaultTag: null }),
          parseReference(dstArg!, { defaultTag: null }),
          {
            ...(opts.includeTags ? { includeTags: opts.includeTags as string } : {}),
            ...(opts.excludeTags ? { excludeTags: opts.excludeTags as string } : {}),
            ...(opts.semver ? { semver: opts.semver as string } : {}),
            dryRun: opts.dryRun === true,
            referrers: opts.referrers !== false,
          },
        );
        const lines = r.tags
          .filter((t) => t.action !== 'unchanged')
          .map((t) => `${t.action === 'copied' ? 'copied' : 'would copy'} ${t.tag} (${t.reason}) ${t.digest}`);
        const summary = r.dryRun
          ? `dry run: ${lines.length} tag(s) would be copied, ${r.unchanged} unchanged`
          : r.copied === 0
            ? `nothing to copy: ${r.unchanged} tag(s) already up to date`
            : `mirrored ${r.copied} tag(s) ${r.source} → ${r.destination}, ${r.unchanged} unchanged`;
        return { text: [...lines, summary], json: r };
      },
      { transfers: true },
    ),
  );
}
