import type { Command } from 'commander';
import { openEmbeddedRegistry } from '../app.js';
import { namespaceOf, quotaFor } from '../registry/quotas.js';
import { formatBytes, storageConfig } from './gc.js';

export function registerUsage(program: Command): void {
  program
    .command('usage [namespace]')
    .description('Storage used per namespace (each blob counted once), against its quota.')
    .option('--config <file>', 'the YAML config `stowage serve` uses (data, quotas)')
    .option('--data <dir>', 'data directory (default ./data; env STOWAGE_DATA)')
    .option('--output <format>', 'text or json', 'text')
    .action(async (namespace: string | undefined, opts: { config?: string; data?: string; output: string }) => {
      const config = storageConfig(opts);
      const registry = await openEmbeddedRegistry(config);
      try {
        const names = new Set<string>();
        if (namespace !== undefined) names.add(namespace);
        else {
          let last: string | undefined;
          for (;;) {
            const page = await registry.meta.listRepositories({ n: 1000, ...(last !== undefined ? { last } : {}) });
            for (const r of page.items) names.add(namespaceOf(r));
            if (!page.next) break;
            last = page.next;
          }
        }
        const rows = [];
        for (const ns of names) {
          const usage = await registry.meta.namespaceUsage(ns);
          const limit = quotaFor(config.quotas ?? [], `${ns}/x`)?.bytes;
          rows.push({ namespace: ns, ...usage, ...(limit !== undefined ? { limit } : {}) });
        }
        if (opts.output === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        else {
          for (const r of rows) {
            const of =
              r.limit !== undefined
                ? ` of ${formatBytes(r.limit)} (${((100 * r.bytes) / Math.max(1, r.limit)).toFixed(1)}%)`
                : ' (no quota)';
            process.stdout.write(
              `${r.namespace}: ${formatBytes(r.bytes)}${of}; ${r.blobs} blobs, ${r.manifests} manifests, ${r.repositories} repositories\n`,
            );
          }
        }
      } finally {
        await registry.close();
      }
    });
}
