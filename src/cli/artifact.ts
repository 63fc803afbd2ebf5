/**
 * `stowage artifact push|pull|list|tag|diff|build`: Kubernetes manifests and
 * Kustomize overlays as Flux OCI artifacts, interchangeable with `flux push|pull|
 * list|tag|diff|build artifact` (same bytes: a tree pushed with either tool at the
 * same `--reproducible` settings has the same digest).
 *
 * Flags are flux's, so scripts move over unchanged: `-f/--path`, `-a/--annotations`,
 * `--ignore-paths`, `--reproducible`, `--creds`, `--insecure-registry`; `-o/--output`
 * is the directory of `pull` and the file of `build`, and the format (json, yaml)
 * of `push`, `list`, `tag` and `diff`. Stowage's old `--out DIR` (and `--output json`
 * next to it) still works with a deprecation warning.
 */
import type { Command } from 'commander';
import {
  buildFluxArtifact,
  diffFluxArtifact,
  listFluxArtifacts,
  pullFluxArtifact,
  pushFluxArtifact,
  tagFluxArtifact,
} from '../client/ops/flux-artifact.js';
import { clientError, parseReference, parseRepository } from '../client/index.js';
import { isValidTag } from '../core/names.js';
import { AnnotationError, parseAnnotations } from '../flux/artifact.js';
import { splitIgnorePaths } from '../flux/ignore.js';
import {
  addClientOptions,
  addOutputPathOption,
  clientAction,
  outputPath,
  type ClientOptionsSpec,
} from './client-common.js';
import { describeStats } from './image.js';
import { humanBytes } from './progress.js';
import { addPullVerifyOptions, verifyForPull } from './verify-flags.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** flux's artifact commands: its credential/TLS spellings, `-o/--output json|yaml`. */
const FLUX: ClientOptionsSpec = { ecosystem: 'flux', output: ['text', 'json', 'yaml'], shortOutput: true };
/** flux's pull/build: `-o/--output` is a path. */
const FLUX_PATH: ClientOptionsSpec = { ecosystem: 'flux', output: false, legacyFormat: true };

/** StringSlice flags (flux's --tag, --ignore-paths): repeatable and comma-separated. */
const collectSlice = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
];

function artifactRef(input: string) {
  return parseReference(input);
}

function ignorePathsOf(opts: Record<string, unknown>): string[] | undefined {
  const v = opts.ignorePaths as string[] | undefined;
  return v && v.length ? splitIgnorePaths(v) : undefined;
}

/** Pads columns like Go's tabwriter (flux's list table). */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 1)))
      .join('\t')
      .trimEnd(),
  );
}

export function registerArtifact(program: Command): void {
  const artifact = program
    .command('artifact')
    .description(
      'Kubernetes manifests and Kustomize overlays as Flux OCI artifacts (what `flux push|pull|list|tag|diff|build artifact` read and write).',
    );

  addClientOptions(
    artifact
      .command('push')
      .description(
        'Archive a directory (or one file) of manifests and push it as a Flux artifact: prints "artifact successfully pushed to REPO@sha256:…".',
      )
      .argument('<url>', 'oci://host[:port]/repository:tag')
      .requiredOption('-f, --path <dir|file>', 'the directory where the Kubernetes manifests are (or a single file)')
      .requiredOption(
        '--source <url>',
        'the source address, e.g. the Git URL (annotation org.opencontainers.image.source)',
      )
      .requiredOption(
        '--revision <rev>',
        "the source revision, e.g. '<branch|tag>@sha1:<commit>' (annotation org.opencontainers.image.revision)",
      )
      .option(
        '-a, --annotations <key=value>',
        'set a manifest annotation (repeatable; overrides the three above)',
        collect,
        [],
      )
      .option(
        '--ignore-paths <patterns>',
        'paths to ignore, .gitignore syntax, comma-separated (repeatable); replaces the defaults (.git/, *.png, *.tar.gz, …)',
        collect,
        [],
      )
      .option(
        '--reproducible',
        'pin the created annotation to 1970-01-01T00:00:00Z so the same tree always gets the same digest',
      ),
    FLUX,
  ).action(
    clientAction(
      async (ctx, [url], opts) => {
        const ref = artifactRef(url!);
        let annotations: Record<string, string>;
        try {
          annotations = parseAnnotations(opts.annotations as string[]);
        } catch (e) {
          if (e instanceof AnnotationError)
            throw clientError('INVALID_ARGUMENT', {
              message: e.message,
              hint: 'write --annotations key=value (the value may not contain "=")',
            });
          throw e;
        }
        const ignorePaths = ignorePathsOf(opts);
        const r = await pushFluxArtifact(ctx.client(), ref, {
          path: opts.path as string,
          source: opts.source as string,
          revision: opts.revision as string,
          annotations,
          ...(ignorePaths ? { ignorePaths } : {}),
          reproducible: opts.reproducible === true,
        });
        const { manifest, ...rest } = r;
        return {
          text: [
            `artifact successfully pushed to ${r.repository}@${r.digest}`,
            `layer: ${r.layer.digest} (${humanBytes(r.layer.size)}, ${r.entries} entries); ${describeStats(r.stats)}`,
          ],
          json: { ...rest, manifest: JSON.parse(manifest.toString('utf8')) as unknown },
        };
      },
      { transfers: true },
    ),
  );

  addClientOptions(
    addPullVerifyOptions(
      addOutputPathOption(
        artifact
          .command('pull')
          .description(
            'Pull a Flux artifact and extract its content (layer 0) into a directory; symlinks are skipped and nothing may land outside the directory.',
          )
          .argument('<url>', 'oci://host[:port]/repository[:tag][@digest]'),
        'the directory to extract into (created when missing)',
      ),
    ),
    FLUX_PATH,
  ).action(
    clientAction(
      async (ctx, [url], opts) => {
        const dir = outputPath(ctx.flags, opts);
        if (!dir)
          throw clientError('INVALID_ARGUMENT', {
            message: 'the directory to extract into is missing',
            hint: 'give it with -o/--output DIR, as flux pull artifact takes it',
          });
        const client = ctx.client();
        const ref = await verifyForPull(ctx, client, artifactRef(url!), opts);
        const r = await pullFluxArtifact(client, ref, dir);
        if (r.skippedSymlinks.length)
          ctx.note(
            `stowage: note: skipped ${r.skippedSymlinks.length} symlink(s): ${r.skippedSymlinks.slice(0, 5).join(', ')}${r.skippedSymlinks.length > 5 ? ', …' : ''}`,
          );
        return {
          text: [
            `pulled ${r.reference}`,
            ...(r.source !== undefined ? [`source ${r.source}`] : []),
            ...(r.revision !== undefined ? [`revision ${r.revision}`] : []),
            `digest ${r.digest}`,
            r.mode === 'file'
              ? `layer is not gzip: written to ${r.file}`
              : `artifact content extracted to ${r.output} (${r.files} files, ${r.dirs} directories, ${humanBytes(r.bytes)})`,
          ],
          json: r,
        };
      },
      { transfers: true },
    ),
  );

  addClientOptions(
    artifact
      .command('list')
      .description(
        'List the tags of a repository with digest, source and revision (newest tag names first, as flux does; cosign .sig/.att/.sbom tags left out).',
      )
      .argument('<url>', 'oci://host[:port]/repository')
      .option(
        '--filter-semver <range>',
        'only tags that are semantic versions in this range, e.g. ">=1.0.0 <2.0.0" (Masterminds syntax, as flux)',
      )
      .option('--filter-regex <regex>', 'only tags matching this regular expression'),
    FLUX,
  ).action(
    clientAction(async (ctx, [url], opts) => {
      const ref = parseRepository(url!);
      const list = await listFluxArtifacts(ctx.client(), ref, {
        ...(typeof opts.filterSemver === 'string' ? { semver: opts.filterSemver } : {}),
        ...(typeof opts.filterRegex === 'string' ? { regex: opts.filterRegex } : {}),
      });
      const rows = [
        ['ARTIFACT', 'DIGEST', 'SOURCE', 'REVISION'],
        ...list.map((a) => [a.url, a.digest, a.source_url ?? '', a.source_revision ?? '']),
      ];
      return { text: list.length ? table(rows) : [], json: list };
    }),
  );

  addClientOptions(
    artifact
      .command('tag')
      .description('Give an artifact more tags in its repository (the manifest bytes are re-sent unchanged).')
      .argument('<url>', 'oci://host[:port]/repository:tag (or @digest)')
      .requiredOption('--tag <tags>', 'new tags, comma-separated or repeated (as flux)', collectSlice, []),
    FLUX,
  ).action(
    clientAction(async (ctx, [url], opts) => {
      const tags = opts.tag as string[];
      for (const t of tags)
        if (!isValidTag(t))
          throw clientError('INVALID_ARGUMENT', {
            message: `"${t}" is not a valid tag`,
            hint: 'letters, digits, _ . -, at most 128, not starting with . or -',
          });
      const r = await tagFluxArtifact(ctx.client(), artifactRef(url!), tags);
      return { text: r.tagged.map((t) => `artifact tagged as ${t}`), json: r };
    }),
  );

  addClientOptions(
    artifact
      .command('diff')
      .description(
        'Compare a directory with an artifact: file names and bytes (not gzip bytes). Exits 1 when they differ, 0 when they are the same.',
      )
      .argument('<url>', 'oci://host[:port]/repository[:tag][@digest]')
      .requiredOption(
        '-f, --path <dir|file>',
        'the local directory (or file), archived with the same ignore rules as push',
      )
      .option(
        '--ignore-paths <patterns>',
        'paths to ignore, .gitignore syntax, comma-separated (repeatable); replaces the defaults',
        collect,
        [],
      ),
    FLUX,
  ).action(
    clientAction(async (ctx, [url], opts) => {
      const ignorePaths = ignorePathsOf(opts);
      const r = await diffFluxArtifact(ctx.client(), artifactRef(url!), {
        path: opts.path as string,
        ...(ignorePaths ? { ignorePaths } : {}),
      });
      const lines = r.identical
        ? [`no changes: ${opts.path as string} matches ${r.reference}${r.sameLayer ? ' (identical layer)' : ''}`]
        : [
            `the remote artifact contents differs from the local one (${r.reference})`,
            ...r.added.map((p) => `+ ${p}`),
            ...r.removed.map((p) => `- ${p}`),
            ...r.modified.map((p) => `~ ${p}`),
          ];
      if (r.modeChanged.length) lines.push(...r.modeChanged.map((p) => `  ${p}: permissions differ (not counted)`));
      return { text: lines, json: r, exitCode: r.identical ? 0 : 1 };
    }),
  );

  addClientOptions(
    addOutputPathOption(
      artifact
        .command('build')
        .description('Build the artifact tarball (the layer `artifact push` uploads) into a file, without a registry.')
        .requiredOption('-f, --path <dir|file>', 'the directory where the Kubernetes manifests are (or a single file)')
        .option(
          '--ignore-paths <patterns>',
          'paths to ignore, .gitignore syntax, comma-separated (repeatable); replaces the defaults',
          collect,
          [],
        ),
      'the tarball to write',
      'artifact.tgz',
    ),
    { ...FLUX_PATH, registry: false },
  ).action(
    clientAction(async (ctx, _args, opts) => {
      const ignorePaths = ignorePathsOf(opts);
      const r = await buildFluxArtifact({
        path: opts.path as string,
        output: outputPath(ctx.flags, opts, 'artifact.tgz')!,
        ...(ignorePaths ? { ignorePaths } : {}),
      });
      return {
        text: `artifact successfully built at ${r.file} (${r.digest}, ${humanBytes(r.size)}, ${r.entries} entries)`,
        json: r,
      };
    }),
  );
}
