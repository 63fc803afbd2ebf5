/**
 * What a token carries (pure): the intersection of the requested scopes with
 * what the policy allows the subject. Missing permission is not an error; the
 * token just carries less, and the registry answers `insufficient_scope`.
 */
import { isValidRepositoryName } from '../core/names.js';
import type { Policy, Subject } from './policy.js';
import { ACTIONS, type ResourceScope } from '../core/scope.js';

export function grantScopes(policy: Policy, subject: Subject, requested: readonly ResourceScope[]): ResourceScope[] {
  const granted: ResourceScope[] = [];
  for (const s of requested) {
    if (s.type === 'registry' && s.name === 'catalog') {
      // Everyone may list; the listing shows only what the caller may pull.
      if (s.actions.includes('*')) granted.push({ type: 'registry', name: 'catalog', actions: ['*'] });
      continue;
    }
    if (s.type !== 'repository' || !isValidRepositoryName(s.name)) continue;
    const allowed = policy.actions(subject, s.name);
    const wanted = s.actions.includes('*') ? ACTIONS : s.actions;
    const actions = ACTIONS.filter((a) => wanted.includes(a) && allowed.has(a));
    if (actions.length > 0) granted.push({ type: 'repository', name: s.name, actions });
  }
  return granted;
}
