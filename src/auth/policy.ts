/**
 * Who may do what (pure): repository globs → who → actions, plus admins.
 *
 *   admins: [root]                        every action on every repository
 *   groups: { team: [alice, bob] }
 *   public: ["library/**"]                anyone, even anonymous, may pull
 *   rules:
 *     - repositories: ["{user}/**"]       {user} is the caller's own name
 *       who: ["{user}"]
 *       actions: [pull, push, delete]
 *     - repositories: ["team/**"]
 *       who: ["group:team", "carol"]      also: "anonymous", "authenticated"
 *       actions: [pull, push]
 *
 * A caller's actions on a repository are the union over every rule that names
 * them and matches the repository. Nothing is allowed unless a rule says so.
 * `{user}` is replaced by the caller's name before matching, so an anonymous
 * caller (or a name that cannot be a path component) never matches such a rule.
 */
import { compileGlob } from '../core/repository-glob.js';
import { ACTIONS, isAction, type Action } from '../core/scope.js';

export interface PolicyRuleSpec {
  repositories: string[];
  who: string[];
  actions: string[];
}

export interface PolicySpec {
  admins?: string[];
  groups?: Record<string, string[]>;
  public?: string[];
  rules?: PolicyRuleSpec[];
}

/** A grant as a PAT carries it: `glob:actions`. */
export interface Grant {
  glob: string;
  actions: readonly Action[];
}

/** The caller: a user name (absent = anonymous), optionally limited to some grants (a PAT's scopes). */
export interface Subject {
  user?: string;
  limit?: readonly Grant[];
}

export const USER_PLACEHOLDER = '{user}';

/** A user name that can stand for a repository path component (what `{user}` expands to). */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

export class PolicyError extends Error {}

type Who =
  | { kind: 'anonymous' }
  | { kind: 'authenticated' }
  | { kind: 'self' }
  | { kind: 'user'; name: string }
  | { kind: 'group'; name: string };

interface Rule {
  fixed: RegExp[];
  /** Globs containing {user}: compiled per caller. */
  owned: string[];
  who: Who[];
  actions: ReadonlySet<Action>;
}

export class Policy {
  private readonly admins: ReadonlySet<string>;
  private readonly groupsOf: ReadonlyMap<string, ReadonlySet<string>>;
  private readonly rules: readonly Rule[];

  private constructor(admins: Set<string>, groupsOf: Map<string, Set<string>>, rules: Rule[]) {
    this.admins = admins;
    this.groupsOf = groupsOf;
    this.rules = rules;
  }

  /** Validates and compiles a policy; throws PolicyError naming the first problem. */
  static compile(spec: PolicySpec): Policy {
    const admins = new Set(spec.admins ?? []);
    const groupsOf = new Map<string, Set<string>>();
    for (const [group, members] of Object.entries(spec.groups ?? {})) {
      for (const m of members) {
        if (!groupsOf.has(m)) groupsOf.set(m, new Set());
        groupsOf.get(m)!.add(group);
      }
    }
    const rules: Rule[] = [];
    const publicGlobs = spec.public ?? [];
    if (publicGlobs.length > 0)
      rules.push(compileRule({ repositories: publicGlobs, who: ['anonymous'], actions: ['pull'] }, 'public', spec));
    (spec.rules ?? []).forEach((r, i) => rules.push(compileRule(r, `rules[${i}]`, spec)));
    return new Policy(admins, groupsOf, rules);
  }

  isAdmin(user: string | undefined): boolean {
    return user !== undefined && this.admins.has(user);
  }

  /**
   * The one check of "is this caller an admin" (immutable-tag overrides, and whatever
   * else admins may do beyond actions): a policy admin who authenticated as themselves.
   * A personal access token never carries admin rights beyond its scopes, and an
   * external issuer's subject is never a local admin, whatever its name.
   */
  isAdminCaller(caller: { user: string; viaPat: boolean; local: boolean } | undefined): boolean {
    return caller !== undefined && caller.local && !caller.viaPat && this.isAdmin(caller.user);
  }

  /** The actions `subject` may take on `repository` (policy ∩ the subject's limit). */
  actions(subject: Subject, repository: string): Set<Action> {
    const granted = this.policyActions(subject.user, repository);
    if (subject.limit === undefined) return granted;
    const limit = limitActions(subject.limit, repository);
    return new Set([...granted].filter((a) => limit.has(a)));
  }

  allows(subject: Subject, repository: string, action: Action): boolean {
    return this.actions(subject, repository).has(action);
  }

  private policyActions(user: string | undefined, repository: string): Set<Action> {
    if (this.isAdmin(user)) return new Set(ACTIONS);
    const out = new Set<Action>();
    for (const rule of this.rules) {
      if (!rule.who.some((w) => this.names(w, user))) continue;
      if (!matchesRepository(rule, user, repository)) continue;
      for (const a of rule.actions) out.add(a);
      if (out.size === ACTIONS.length) break;
    }
    return out;
  }

  private names(who: Who, user: string | undefined): boolean {
    switch (who.kind) {
      case 'anonymous':
        return true;
      case 'authenticated':
      case 'self':
        return user !== undefined;
      case 'user':
        return user === who.name;
      case 'group':
        return user !== undefined && (this.groupsOf.get(user)?.has(who.name) ?? false);
    }
  }
}

function matchesRepository(rule: Rule, user: string | undefined, repository: string): boolean {
  if (rule.fixed.some((re) => re.test(repository))) return true;
  if (rule.owned.length === 0 || user === undefined || !COMPONENT.test(user)) return false;
  return rule.owned.some((g) => cachedGlob(g.split(USER_PLACEHOLDER).join(user)).test(repository));
}

/** Union of the actions of every grant whose glob matches. */
export function limitActions(grants: readonly Grant[], repository: string): Set<Action> {
  const out = new Set<Action>();
  for (const g of grants) if (cachedGlob(g.glob).test(repository)) for (const a of g.actions) out.add(a);
  return out;
}

const globCache = new Map<string, RegExp>();
function cachedGlob(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    if (globCache.size > 5000) globCache.clear();
    re = compileGlob(glob);
    globCache.set(glob, re);
  }
  return re;
}

function compileRule(r: PolicyRuleSpec, where: string, spec: PolicySpec): Rule {
  const fail = (msg: string) => new PolicyError(`policy ${where}: ${msg}`);
  if (!Array.isArray(r.repositories) || r.repositories.length === 0) throw fail('needs at least one repository glob');
  if (!Array.isArray(r.who) || r.who.length === 0)
    throw fail('needs "who" (users, group:NAME, anonymous, authenticated, {user})');
  if (!Array.isArray(r.actions) || r.actions.length === 0) throw fail('needs actions (pull, push, delete or *)');
  const actions = new Set<Action>();
  for (const a of r.actions) {
    if (a === '*') ACTIONS.forEach((x) => actions.add(x));
    else if (isAction(a)) actions.add(a);
    else throw fail(`unknown action "${a}" (pull, push, delete or *)`);
  }
  const fixed: RegExp[] = [];
  const owned: string[] = [];
  for (const g of r.repositories) {
    if (typeof g !== 'string') throw fail('repository globs must be strings');
    try {
      if (g.includes(USER_PLACEHOLDER)) {
        compileGlob(g.split(USER_PLACEHOLDER).join('x'));
        owned.push(g);
      } else {
        fixed.push(compileGlob(g));
      }
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  const who = r.who.map((w): Who => {
    if (typeof w !== 'string' || w === '') throw fail('"who" entries must be non-empty strings');
    if (w === 'anonymous') return { kind: 'anonymous' };
    if (w === 'authenticated' || w === '*') return { kind: 'authenticated' };
    if (w === USER_PLACEHOLDER) {
      if (owned.length === 0)
        throw fail(`"${USER_PLACEHOLDER}" in who needs "${USER_PLACEHOLDER}" in a repository glob`);
      return { kind: 'self' };
    }
    if (w.startsWith('group:')) {
      const name = w.slice('group:'.length);
      if (!spec.groups || !(name in spec.groups)) throw fail(`unknown group "${name}"`);
      return { kind: 'group', name };
    }
    return { kind: 'user', name: w };
  });
  return { fixed, owned, who, actions };
}
