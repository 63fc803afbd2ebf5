/**
 * `stowage image push ARCHIVE REF` and `stowage image pull REF -o FILE`: images
 * between `docker save` archives / OCI layouts and any registry. Flags as docker
 * and crane write them: `-o/--output FILE` (docker save), `image pull REF FILE`
 * and `--format tarball|legacy|oci` (crane pull), `--platform`; the old `--out`
 * still works with a deprecation warning.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { clientError, parsePlatform, parseReference, pullImage, pushImage, type PushStats } from '../client/index.js';
import { addClientOptions, addOutputPathOption, clientAction, outputPath } from './client-common.js';
import { humanBytes } from './progress.js';
import { addPullVerifyOptions, verifyForPull } from './verify-flags.js';

export function describeStats(s: PushStats): string {
  const parts = [`${s.uploaded} uploaded (${humanBytes(s.uploadedBytes)})`];
  if (s.mounted) parts.push(`${s.mounted} mounted`);
  if (s.existed) parts.push(`${s.existed} already there`);
  return `blobs: ${parts.join(', ')}`;
}

export function registerImage(program: Command): void {
  const image = program
    .command('image')
    .description('Push images from docker save archives or OCI layouts, pull them into archives docker load accepts.');

  addClientOptions(
    image
      .command('push')
      .description(
        'Push an image from a `docker save` archive (any Docker version, optionally gzip/zstd-compressed) or an OCI layout (directory or tar).',
      )
      .argument('<archive>', 'the archive file or OCI layout directory')
      .argument('<ref>', 'where to push: host[:port]/repository[:tag] (tag defaults to latest)')
      .option('--image <name>', 'which image of an archive holding several (a name it lists, a tag, or the image ID)'),
  ).action(
    clientAction(
      async (ctx, [archive, refArg], opts) => {
        const ref = parseReference(refArg!);
        const r = await pushImage(
          ctx.client(),
          archive!,
          ref,
          typeof opts.image === 'string' ? { image: opts.image } : {},
        );
        for (const n of r.notes) ctx.note(`stowage: note: ${n}`);
        return {
          text: [
            `pushed ${r.archive.image} → ${r.reference}`,
            `digest: ${r.digest} size: ${r.size} (${r.mediaType})`,
            describeStats(r.stats),
          ],
          json: r,
        };
      },
      { transfers: true },
    ),
  );

  addClientOptions(
    addPullVerifyOptions(
      addOutputPathOption(
        image
          .command('pull')
          .description('Pull an image into an archive that `docker load`, `podman load` and skopeo accept.')
          .argument('<ref>', 'what to pull: host[:port]/repository[:tag][@digest]')
          .argument('[file]', 'the archive to write, as crane pull takes it (or -o)')
          .addOption(
            new Option(
              '--format <format>',
              'docker (crane: tarball, legacy): classic docker save layout; oci: OCI layout tar with a docker manifest.json (all platforms)',
            )
              .choices(['docker', 'oci', 'tarball', 'legacy'])
              .default('docker'),
          )
          .option(
            '--platform <os/arch[/variant]>',
            'the platform to take from a multi-platform image (docker format default: this machine’s)',
          ),
        'the archive to write ("-" for standard output)',
      ),
    ),
    { output: false, legacyFormat: true },
  ).action(
    clientAction(
      async (ctx, [refArg, fileArg], opts) => {
        const ref = parseReference(refArg!);
        const platform = typeof opts.platform === 'string' ? parsePlatform(opts.platform) : undefined;
        const given = outputPath(ctx.flags, opts);
        if (given !== undefined && fileArg !== undefined && given !== fileArg)
          throw clientError('OPTIONS_CONFLICT', { options: ['-o/--output', 'FILE'], why: 'both name the archive' });
        const out = given ?? fileArg;
        if (out === undefined)
          throw clientError('INVALID_ARGUMENT', {
            message: 'the archive to write is missing',
            hint: 'give it with -o/--output FILE (docker save) or after the reference (crane pull); "-" for standard output',
          });
        if (out === '-' && process.stdout.isTTY) throw clientError('OUTPUT_IS_TERMINAL', undefined);
        if (out === '-' && ctx.flags.output === 'json')
          throw clientError('OPTIONS_CONFLICT', {
            options: ['--output json', '-o -'],
            why: 'both write to standard output',
          });
        const client = ctx.client();
        const pinned = await verifyForPull(ctx, client, ref, opts);
        const r = await pullImage(client, pinned, out === '-' ? { stream: process.stdout } : { file: out }, {
          format: opts.format === 'oci' ? 'oci' : 'docker',
          ...(platform ? { platform } : {}),
        });
        if (out === '-') {
          ctx.note(`stowage: wrote ${r.reference} (${r.format} archive, ${humanBytes(r.bytes)}) to standard output`);
          return { text: [], json: r };
        }
        return {
          text: [
            `pulled ${r.reference}${r.platform ? ` (${r.platform})` : ''}`,
            `wrote ${r.file} (${r.format} archive, ${humanBytes(r.bytes)}, ${r.blobs} blobs)`,
          ],
          json: r,
        };
      },
      { transfers: true },
    ),
  );
}
