/** `stowage inspect REF`, `stowage tags REPO`, `stowage catalog HOST`. */
import type { Command } from 'commander';
import {
  inspect,
  parsePlatform,
  parseReference,
  parseRegistryHost,
  parseRepository,
  type Descriptor,
  type InspectResult,
} from '../client/index.js';
import { addClientOptions, clientAction } from './client-common.js';
import { humanBytes } from './progress.js';

function annotationLines(a: Record<string, string> | undefined, indent = '  '): string[] {
  return Object.entries(a ?? {}).map(([k, v]) => `${indent}${k}: ${v}`);
}

function descriptorLine(d: Descriptor): string {
  return `  ${d.digest}  ${humanBytes(d.size).padStart(8)}  ${d.artifactType ?? d.mediaType}`;
}

/** The human-readable summary of an inspection. */
export function formatInspect(r: InspectResult): string[] {
  const out = [`Reference:   ${r.reference}`, `Media type:  ${r.mediaType}`, `Size:        ${r.size}`];
  if (r.artifactType) out.push(`Artifact:    ${r.artifactType}`);
  if (r.subject) out.push(`Subject:     ${r.subject.digest}`);
  if (r.annotations && Object.keys(r.annotations).length) out.push('Annotations:', ...annotationLines(r.annotations));
  if (r.platforms) {
    out.push('Platforms:');
    for (const p of r.platforms)
      out.push(`  ${p.platform.padEnd(16)} ${p.digest}  ${p.mediaType}`, ...annotationLines(p.annotations, '      '));
  }
  if (r.configDescriptor) {
    out.push(`Config:      ${r.configDescriptor.digest} (${r.configDescriptor.mediaType})`);
    const c = r.config as
      | {
          os?: string;
          architecture?: string;
          variant?: string;
          created?: string;
          config?: {
            Entrypoint?: string[];
            Cmd?: string[];
            Env?: string[];
            Labels?: Record<string, string>;
            User?: string;
            WorkingDir?: string;
            ExposedPorts?: Record<string, unknown>;
          };
        }
      | undefined;
    if (c && (c.os || c.architecture)) {
      out.push(`  Platform:  ${[c.os, c.architecture, c.variant].filter(Boolean).join('/')}`);
      if (c.created) out.push(`  Created:   ${c.created}`);
      const cc = c.config ?? {};
      if (cc.Entrypoint?.length) out.push(`  Entrypoint: ${JSON.stringify(cc.Entrypoint)}`);
      if (cc.Cmd?.length) out.push(`  Cmd:       ${JSON.stringify(cc.Cmd)}`);
      if (cc.User) out.push(`  User:      ${cc.User}`);
      if (cc.WorkingDir) out.push(`  WorkDir:   ${cc.WorkingDir}`);
      if (cc.ExposedPorts) out.push(`  Ports:     ${Object.keys(cc.ExposedPorts).join(', ')}`);
      for (const e of cc.Env ?? []) out.push(`  Env:       ${e}`);
      if (cc.Labels && Object.keys(cc.Labels).length) out.push('  Labels:', ...annotationLines(cc.Labels, '    '));
    }
  }
  if (r.layers) {
    out.push(`Layers:      ${r.layers.length} (${humanBytes(r.layers.reduce((s, l) => s + l.size, 0))})`);
    for (const l of r.layers) out.push(descriptorLine(l));
  }
  out.push(
    r.referrers.length
      ? `Referrers:   ${r.referrers.length}${r.referrersVia === 'tag-schema' ? ' (from the referrers tag)' : ''}`
      : 'Referrers:   none',
  );
  for (const d of r.referrers) out.push(descriptorLine(d));
  return out;
}

export function registerInspect(program: Command): void {
  addClientOptions(
    program
      .command('inspect')
      .description('Show what a reference is: manifest, config, platforms, annotations, referrers.')
      .argument('<ref>', 'host[:port]/repository[:tag][@digest]')
      .option('--platform <os/arch[/variant]>', 'inspect this platform’s manifest of a multi-platform index')
      .option('--raw', 'print the manifest exactly as the registry stores it'),
  ).action(
    clientAction(async (ctx, [refArg], opts) => {
      const ref = parseReference(refArg!);
      const r = await inspect(
        ctx.client(),
        ref,
        typeof opts.platform === 'string' ? { platform: parsePlatform(opts.platform) } : {},
      );
      const { raw, ...json } = r;
      if (opts.raw) return { text: raw.toString('utf8'), json: json.manifest };
      return { text: formatInspect(r), json };
    }),
  );

  addClientOptions(
    program
      .command('tags')
      .description('List the tags of a repository.')
      .argument('<repository>', 'host[:port]/repository'),
  ).action(
    clientAction(async (ctx, [repoArg]) => {
      const ref = parseRepository(repoArg!);
      const tags = await ctx.client().repository(ref).tags();
      return { text: tags, json: { registry: ref.registry, repository: ref.repository, tags } };
    }),
  );

  addClientOptions(
    program
      .command('catalog')
      .description('List the repositories of a registry (what you may see of them).')
      .argument('<host>', 'registry host[:port]'),
  ).action(
    clientAction(async (ctx, [hostArg]) => {
      const registry = parseRegistryHost(hostArg!);
      const repositories = await ctx.client().catalog(registry);
      return { text: repositories, json: { registry, repositories } };
    }),
  );
}
