/** `stowage copy SRC DST` and `stowage tag REF NEWTAG`. */
import type { Command } from 'commander';
import { isValidTag } from '../core/names.js';
import { copy, formatReference, parseReference, tag } from '../client/index.js';
import { addClientOptions, clientAction } from './client-common.js';
import { describeStats } from './image.js';

export function registerCopy(program: Command): void {
  addClientOptions(
    program
      .command('copy')
      .description(
        'Copy an image, index (every platform) or artifact between repositories or registries, byte for byte.',
      )
      .argument('<src>', 'host[:port]/repository[:tag][@digest]')
      .argument('<dst>', 'host[:port]/repository[:tag] (without a tag: the source’s tag)')
      .option(
        '--no-referrers',
        "leave signatures, attestations and SBOMs behind (referrers and cosign's .sig/.att/.sbom tags)",
      ),
  ).action(
    clientAction(
      async (ctx, [srcArg, dstArg], opts) => {
        const src = parseReference(srcArg!);
        const dst = parseReference(dstArg!, { defaultTag: null });
        const r = await copy(ctx.client(), src, dst, { referrers: opts.referrers !== false });
        const attached =
          r.attached && r.attached.referrers.length + r.attached.tags.length > 0
            ? [
                `with ${r.attached.referrers.length} referrer${r.attached.referrers.length === 1 ? '' : 's'}${r.attached.tags.length ? ` and ${r.attached.tags.join(', ')}` : ''}`,
              ]
            : [];
        return { text: [`copied ${r.source} → ${r.destination}`, ...attached, describeStats(r.stats)], json: r };
      },
      { transfers: true },
    ),
  );

  addClientOptions(
    program
      .command('tag')
      .description(
        'Give an image another tag in its repository (or copy it to another reference on the same or another registry).',
      )
      .argument('<ref>', 'host[:port]/repository[:tag][@digest]')
      .argument('<newtag>', 'the new tag, or a full reference'),
  ).action(
    clientAction(
      async (ctx, [refArg, newArg]) => {
        const ref = parseReference(refArg!);
        const target = isValidTag(newArg!) ? { ...ref, tag: newArg!, digest: undefined } : parseReference(newArg!);
        if (
          target.registry === ref.registry &&
          target.repository === ref.repository &&
          target.tag !== undefined &&
          target.digest === undefined
        ) {
          const r = await tag(ctx.client(), ref, target.tag);
          return { text: `tagged ${r.source} as ${r.reference}`, json: r };
        }
        const r = await copy(ctx.client(), ref, target);
        return {
          text: [`copied ${r.source} → ${formatReference({ ...target, digest: r.digest })}`, describeStats(r.stats)],
          json: r,
        };
      },
      { transfers: true },
    ),
  );
}
