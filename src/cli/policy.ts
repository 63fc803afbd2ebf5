/**
 * `stowage policy push|pull`: OPA policy bundles as OCI artifacts that OPA's own
 * OCI downloader loads (`services.<name>.type: oci`, `bundles.<name>.resource:
 * host/repo:tag`). The directory is checked the way OPA checks a bundle on load
 * before anything is pushed.
 *
 * As with `artifact pull`, `--output` is the output format (text or json); the
 * target directory is `-o/--out DIR`, the tarball `--bundle-file FILE`.
 */
import type { Command } from 'commander';
import { clientError, parseReference } from '../client/index.js';
import { pullPolicy, pushPolicy } from '../client/ops/policy.js';
import { AnnotationError, parseAnnotations } from '../flux/artifact.js';
import { addPullVerifyOptions, verifyForPull } from './verify-flags.js';
import { addClientOptions, addOutputPathOption, clientAction, outputPath } from './client-common.js';
import { describeStats } from './image.js';
import { humanBytes } from './progress.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description('OPA policy bundles as OCI artifacts that `opa run` (services type: oci) loads.');

  addClientOptions(
    policy
      .command('push')
      .description(
        'Check and pack a bundle directory (.rego files, data.json, .manifest) the way `opa build` does, or take an `opa build` bundle.tar.gz, and push it.',
      )
      .argument('<url>', 'oci://host[:port]/repository:tag')
      .requiredOption('--path <dir|bundle.tar.gz>', 'the bundle directory, or a bundle tarball')
      .option('--revision <rev>', 'set the bundle revision in .manifest (like `opa build --revision`)')
      .option('--annotations <key=value>', 'set a manifest annotation (repeatable)', collect, []),
  ).action(
    clientAction(
      async (ctx, [url], opts) => {
        let annotations: Record<string, string>;
        try {
          annotations = parseAnnotations(opts.annotations as string[]);
        } catch (e) {
          if (e instanceof AnnotationError) throw clientError('INVALID_ARGUMENT', { message: e.message });
          throw e;
        }
        const r = await pushPolicy(ctx.client(), parseReference(url!), {
          path: opts.path as string,
          ...(typeof opts.revision === 'string' ? { revision: opts.revision } : {}),
          annotations,
        });
        return {
          text: [
            `pushed policy bundle to ${r.reference}`,
            `modules: ${r.modules.map((m) => `${m.path} (${m.package})`).join(', ')}`,
            ...(r.manifest?.roots ? [`roots: ${r.manifest.roots.map((x) => JSON.stringify(x)).join(', ')}`] : []),
            `layer: ${r.layer.digest} (${humanBytes(r.layer.size)}); ${describeStats(r.stats)}`,
          ],
          json: r,
        };
      },
      { transfers: true },
    ),
  );

  // `-o/--output DIR` as oras pull takes it.
  addClientOptions(
    addPullVerifyOptions(
      addOutputPathOption(
        policy
          .command('pull')
          .description(
            'Pull the bundle OPA would load (the first application/vnd.oci.image.layer.v1.tar+gzip layer), check it, and extract it and/or save the tarball.',
          )
          .argument('<url>', 'oci://host[:port]/repository[:tag][@digest]')
          .option('--bundle-file <file>', 'write the bundle tarball (bundle.tar.gz) here, as OPA downloads it'),
        'extract the bundle into this directory (created when missing)',
      ),
    ),
    { output: false, legacyFormat: true },
  ).action(
    clientAction(
      async (ctx, [url], opts) => {
        const outDir = outputPath(ctx.flags, opts);
        const bundleFile = typeof opts.bundleFile === 'string' ? opts.bundleFile : undefined;
        if (!outDir && !bundleFile)
          throw clientError('INVALID_ARGUMENT', {
            message: 'nowhere to put the bundle',
            hint: 'give -o DIR to extract it, --bundle-file FILE to save the tarball, or both',
          });
        const client = ctx.client();
        const ref = await verifyForPull(ctx, client, parseReference(url!), opts);
        const r = await pullPolicy(client, ref, {
          ...(outDir ? { outDir } : {}),
          ...(bundleFile ? { bundleFile } : {}),
        });
        return {
          text: [
            `pulled policy bundle ${r.reference}`,
            `modules: ${r.modules.map((m) => `${m.path} (${m.package})`).join(', ')}`,
            ...(r.manifest?.revision ? [`revision: ${r.manifest.revision}`] : []),
            ...(r.bundleFile ? [`wrote ${r.bundleFile} (${humanBytes(r.layer.size)})`] : []),
            ...(r.outDir ? [`extracted ${r.files.length} files to ${r.outDir}`] : []),
          ],
          json: r,
        };
      },
      { transfers: true },
    ),
  );
}
