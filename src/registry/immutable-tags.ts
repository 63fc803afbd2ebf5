/**
 * Immutable tags (pure): tag patterns per repository glob that, once pushed, cannot
 * be moved or deleted (re-pushing the identical manifest is allowed). A rule may let
 * policy admins override it explicitly.
 *
 *   immutable_tags:
 *     - repositories: "prod/**"
 *       tags: ["v*.*.*"]          # `*` any run of characters, `?` one character
 *       admin_override: true
 */
import { compileGlob } from '../core/repository-glob.js';

export interface ImmutableTagRule {
  repositories: string;
  tags: string[];
  adminOverride: boolean;
}

function tagPattern(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** The first rule that makes `tag` of `repository` immutable. */
export function immutableRule(
  rules: readonly ImmutableTagRule[],
  repository: string,
  tag: string,
): ImmutableTagRule | undefined {
  return rules.find((r) => compileGlob(r.repositories).test(repository) && r.tags.some((t) => tagPattern(t).test(tag)));
}

export function describeImmutableRule(r: ImmutableTagRule): string {
  return `immutable_tags: repositories "${r.repositories}", tags ${r.tags.map((t) => `"${t}"`).join(', ')}`;
}
