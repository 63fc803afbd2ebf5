/**
 * Quotas (pure): bytes per namespace (a repository's first path component, counted
 * once per blob within it) and tags/manifests per repository, per namespace glob.
 *
 *   quotas:
 *     - namespaces: "team-*"
 *       bytes: 10GiB
 *       tags_per_repository: 500
 *       manifests_per_repository: 2000
 */
import { compileGlob } from '../core/repository-glob.js';

export interface QuotaRule {
  namespaces: string;
  bytes?: number;
  tagsPerRepository?: number;
  manifestsPerRepository?: number;
}

export function namespaceOf(repository: string): string {
  const i = repository.indexOf('/');
  return i < 0 ? repository : repository.slice(0, i);
}

export function quotaFor(rules: readonly QuotaRule[], repository: string): QuotaRule | undefined {
  const ns = namespaceOf(repository);
  return rules.find((r) => compileGlob(r.namespaces).test(ns));
}
