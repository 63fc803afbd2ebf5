/**
 * `stowage chart …`: Helm charts without Helm.
 *
 *   create NAME                      the scaffold `helm create` writes
 *   lint DIR…                        `helm lint`'s Chart.yaml rules (+ loading the chart)
 *   package DIR… [--version V] [--app-version V] [-d DEST]
 *                                    NAME-VERSION.tgz as `helm package` writes it
 *   push CHART.tgz oci://HOST/NS     as `helm push` (CHART.tgz.prov too when present)
 *   pull oci://HOST/NS/NAME [--version V|RANGE] [--untar] [-d DIR] [--prov]
 *   show oci://HOST/NS/NAME [--version V] [--only chart|values|readme|crds]
 */
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ChartLoadError,
  createChart,
  lintChartYaml,
  loadChartDir,
  missingDependencies,
  packageChart,
  type LintMessage,
  type MtimePolicy,
} from '../chart/index.js';
import { asChartClientError } from '../client/chart-errors.js';
import { clientError } from '../client/errors.js';
import { pullChart } from '../client/ops/chart-pull.js';
import { pushChart } from '../client/ops/chart-push.js';
import { showChart, type ShowChartResult } from '../client/ops/chart-show.js';
import { addClientOptions, clientAction, deprecated, type ClientOptionsSpec } from './client-common.js';
import { addPullVerifyOptions, verifyForPull } from './verify-flags.js';

/** SOURCE_DATE_EPOCH (reproducible builds) → one mtime for every archive entry. */
function mtimeFromEnv(): MtimePolicy | undefined {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v))
    throw clientError('INVALID_ARGUMENT', {
      message: `invalid SOURCE_DATE_EPOCH "${v}"`,
      hint: 'it must be a number of seconds since 1970-01-01 UTC',
    });
  return { fixedMs: Number(v) * 1000 };
}

const SEVERITY_LABEL: Record<LintMessage['severity'], string> = { error: 'ERROR', warning: 'WARNING', info: 'INFO' };

async function lintDir(dir: string): Promise<LintMessage[]> {
  let text: string | undefined;
  try {
    text = await readFile(path.join(dir, 'Chart.yaml'), 'utf8');
  } catch {
    text = undefined;
  }
  const msgs = lintChartYaml(text);
  if (text !== undefined && !msgs.some((m) => m.severity === 'error')) {
    try {
      const chart = await loadChartDir(dir);
      const missing = missingDependencies(chart);
      if (missing.length)
        msgs.push({
          severity: 'error',
          path: 'Chart.yaml',
          message: `chart directory is missing these dependencies: ${missing.join(',')}`,
          hint: 'put each dependency (directory or .tgz) under charts/',
        });
    } catch (e) {
      if (!(e instanceof ChartLoadError)) throw e;
      msgs.push({ severity: 'error', path: '', message: e.message, ...(e.hint ? { hint: e.hint } : {}) });
    }
  }
  return msgs;
}

/** Variadic arguments reach clientAction as one array. */
function flat(args: unknown[]): string[] {
  return (args as (string | string[])[]).flat();
}

function untarDir(destination: string, untardir: string): string {
  return path.isAbsolute(untardir) ? untardir : path.join(destination, untardir);
}

/** helm's registry options: --plain-http, --insecure-skip-tls-verify, --ca-file, --username/--password. */
const HELM: ClientOptionsSpec = { ecosystem: 'helm' };
const SHOW_PARTS = ['all', 'chart', 'values', 'readme', 'crds'] as const;
type ShowPart = (typeof SHOW_PARTS)[number];

export function registerChart(program: Command): void {
  const chart = program
    .command('chart')
    .description('Create, lint and package Helm charts as Helm does; push, pull and show them in OCI registries.');

  addClientOptions(
    chart
      .command('create')
      .description(
        'Create a chart directory with the files `helm create` writes (NAME may be a path; its last part is the chart name).',
      )
      .argument('<name>', 'the chart name, or DIR/NAME'),
    { registry: false },
  ).action(
    clientAction(async (ctx, [name]) => {
      let r;
      try {
        r = await createChart(name!, { onWarning: (m) => ctx.note(`stowage: warning: ${m}`) });
      } catch (e) {
        throw asChartClientError(e, path.basename(name!));
      }
      return { text: `Creating ${name}`, json: r };
    }),
  );

  addClientOptions(
    chart
      .command('lint')
      .description('Check charts the way `helm lint` checks Chart.yaml (and that they load).')
      .argument('<dir...>', 'chart directories')
      .option('--strict', 'fail on lint warnings too (as helm lint --strict)'),
    { registry: false },
  ).action(
    clientAction(async (_ctx, args, opts) => {
      const results: { path: string; messages: LintMessage[] }[] = [];
      for (const d of flat(args)) results.push({ path: d, messages: await lintDir(d) });
      const failing = (m: LintMessage) => m.severity === 'error' || (opts.strict === true && m.severity === 'warning');
      const failed = results.filter((r) => r.messages.some(failing)).length;
      const lines: string[] = [];
      for (const r of results) {
        lines.push(`==> Linting ${r.path}`);
        for (const m of r.messages) {
          lines.push(`[${SEVERITY_LABEL[m.severity]}] ${m.path ? `${m.path}: ` : ''}${m.message}`);
          if (m.hint && m.severity !== 'info') lines.push(`  hint: ${m.hint}`);
        }
        lines.push('');
      }
      lines.push(`${results.length} chart(s) linted, ${failed} chart(s) failed`);
      if (failed) {
        process.stdout.write(`${lines.join('\n')}\n`);
        throw clientError('CHART_INVALID', {
          chart: failed === 1 ? results.find((r) => r.messages.some(failing))!.path : `${failed} charts`,
          problems: results.flatMap((r) =>
            r.messages.filter(failing).map((m) => ({ message: m.message, ...(m.hint ? { hint: m.hint } : {}) })),
          ),
        });
      }
      return { text: lines, json: { charts: results, failed } };
    }),
  );

  addClientOptions(
    chart
      .command('package')
      .description(
        'Package chart directories into NAME-VERSION.tgz archives laid out as `helm package` writes them (SOURCE_DATE_EPOCH pins every mtime).',
      )
      .argument('<dir...>', 'chart directories')
      .option('--version <version>', "set the chart's version (SemVer)")
      .option('--app-version <version>', "set the chart's appVersion")
      .option('-d, --destination <dir>', 'where to write the archives', '.'),
    { registry: false },
  ).action(
    clientAction(async (ctx, args, opts) => {
      const mtime = mtimeFromEnv();
      const results = [];
      for (const dir of flat(args)) {
        try {
          const r = await packageChart(dir, {
            ...(typeof opts.version === 'string' ? { version: opts.version } : {}),
            ...(typeof opts.appVersion === 'string' ? { appVersion: opts.appVersion } : {}),
            destination: opts.destination as string,
            ...(mtime ? { mtime } : {}),
          });
          for (const w of r.warnings)
            if (w.severity === 'warning') ctx.note(`stowage: warning: ${w.path}: ${w.message}`);
          results.push(r);
        } catch (e) {
          throw asChartClientError(e, dir);
        }
      }
      return {
        text: results.map((r) => `Successfully packaged chart and saved it to: ${r.file}`),
        json: results.map((r) => ({
          file: r.file,
          name: r.name,
          version: r.version,
          size: r.size,
          entries: r.entries,
          warnings: r.warnings,
        })),
      };
    }),
  );

  addClientOptions(
    chart
      .command('push')
      .description(
        'Push a packaged chart to oci://HOST/NAMESPACE as `helm push` does (NAMESPACE/NAME:VERSION, "+" in the version as "_"); CHART.tgz.prov goes along when it exists.',
      )
      .argument('<chart>', 'the packaged chart (.tgz)')
      .argument('<remote>', 'oci://HOST[:PORT]/NAMESPACE')
      .option('--no-prov', 'do not push CHART.tgz.prov even when it exists'),
    HELM,
  ).action(
    clientAction(
      async (ctx, [file, remote], opts) => {
        const r = await pushChart(ctx.client(), file!, remote!, { prov: opts.prov !== false });
        const text = [`Pushed: ${r.ref}`, `Digest: ${r.digest}`];
        if (r.tag.includes('_'))
          ctx.note(
            `stowage: note: ${r.ref} contains an underscore: OCI tags cannot hold "+", so the version ${r.chart.version} is tagged ${r.tag} (Helm reads it back as ${r.chart.version})`,
          );
        return { text, json: r };
      },
      { transfers: true },
    ),
  );

  addClientOptions(
    addPullVerifyOptions(
      chart
        .command('pull')
        .description(
          'Pull a chart from an OCI registry as `helm pull` does: the highest version matching --version (exact, or a range such as ^1.2), saved as NAME-VERSION.tgz or expanded.',
        )
        .argument('<ref>', 'oci://HOST[:PORT]/NAMESPACE/NAME[:VERSION|@DIGEST]')
        .option(
          '--version <version>',
          'an exact version or a constraint (^1.2, ~1.4, ">=1 <2", 1.x); default: the latest stable',
        )
        .option('--devel', 'without --version: the highest version, pre-releases included (as helm)')
        .option('--untar', 'expand the chart instead of keeping the .tgz')
        .option(
          '--untardir <dir>',
          'with --untar: the directory the chart is expanded into, relative to --destination (as helm)',
          '.',
        )
        .option('-d, --destination <dir>', 'where to write', '.')
        .option('--prov', 'fetch the provenance file too (NAME-VERSION.tgz.prov)'),
    ),
    HELM,
  ).action(
    clientAction(
      async (ctx, [ref], opts) => {
        const client = ctx.client();
        const r = await pullChart(client, ref!, {
          ...(typeof opts.version === 'string' ? { version: opts.version } : {}),
          devel: opts.devel === true,
          // helm: the chart lands in DESTINATION/UNTARDIR/NAME (UNTARDIR alone when absolute).
          destination:
            opts.untar === true
              ? untarDir(opts.destination as string, opts.untardir as string)
              : (opts.destination as string),
          untar: opts.untar === true,
          prov: opts.prov === true,
          verify: (resolved) => verifyForPull(ctx, client, resolved, opts),
        });
        for (const w of r.warnings) ctx.note(`stowage: warning: ${w}`);
        const text = [`Pulled: ${r.ref}`, `Digest: ${r.digest}`];
        return { text, json: r };
      },
      { transfers: true },
    ),
  );

  addClientOptions(
    chart
      .command('show')
      .description(
        'Show a chart in an OCI registry as `helm show [all|chart|values|readme|crds]` does: Chart.yaml, values.yaml, the README and CRDs.',
      )
      .argument('<part|ref>', `what to show (${SHOW_PARTS.join(', ')}; default all), or the chart`)
      .argument('[ref]', 'oci://HOST[:PORT]/NAMESPACE/NAME[:VERSION|@DIGEST]')
      .option('--version <version>', 'an exact version or a constraint; default: the latest stable')
      .option('--devel', 'without --version: the highest version, pre-releases included (as helm)')
      .addOption(
        new Option('--only <part>', 'deprecated: give the part first, as helm show does')
          .choices(SHOW_PARTS.slice(1))
          .hideHelp(),
      ),
    HELM,
  ).action(
    clientAction(async (ctx, args, opts) => {
      // One argument is the chart; two are the part and the chart.
      const [first, second] = args;
      const ref = second ?? first!;
      let what: ShowPart = 'all';
      if (second !== undefined) {
        if (!(SHOW_PARTS as readonly string[]).includes(first!))
          throw clientError('INVALID_ARGUMENT', {
            message: `"${first}" is not a part of a chart`,
            hint: `write chart show [${SHOW_PARTS.join('|')}] oci://…`,
          });
        what = first as ShowPart;
      }
      if (typeof opts.only === 'string') {
        deprecated('--only PART', `chart show ${opts.only} REF (as helm show ${opts.only})`);
        what = opts.only as ShowPart;
      }
      const r = await showChart(ctx.client(), ref, {
        ...(typeof opts.version === 'string' ? { version: opts.version } : {}),
        devel: opts.devel === true,
      });
      const text = formatShow(r, what);
      return { text: text === '' ? [] : [text.endsWith('\n') ? text.slice(0, -1) : text], json: r };
    }),
  );
}

/** `helm show all|chart|values|readme|crds` text. */
function formatShow(r: ShowChartResult, what: ShowPart): string {
  let out = '';
  if (what === 'chart' || what === 'all') out += `${r.chartYaml}\n`;
  if ((what === 'values' || what === 'all') && r.values !== undefined) {
    if (what === 'all') out += '---\n';
    out += `${r.values}\n`;
  }
  if ((what === 'readme' || what === 'all') && r.readme) {
    if (what === 'all') out += '---\n';
    out += `${r.readme.text}\n`;
  }
  if (what === 'crds' || what === 'all') {
    for (const c of r.crds) {
      if (!c.text.startsWith('---')) out += '---\n';
      out += `${c.text}\n`;
    }
  }
  return out;
}
