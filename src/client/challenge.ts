/**
 * `WWW-Authenticate` challenges (RFC 7235 §4.1, RFC 6750 §3), as registries send them:
 *
 *   Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"
 *   Basic realm="Registry Realm"
 *   Basic realm="x", Bearer realm="y",service="z"      (several in one header)
 *
 * Pure: no I/O. Parameter names are lowercased; values keep their case, quoted
 * strings are unescaped, unquoted values run to the next comma or space.
 */

export interface Challenge {
  /** Lowercased: "bearer", "basic", … */
  scheme: string;
  params: Record<string, string>;
  /** A token68 credential-ish value (`Negotiate abc==`), rare for registries. */
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Parses every challenge in one or more header values. Malformed parts are skipped. */
export function parseChallenges(headers: string | readonly string[] | undefined): Challenge[] {
  if (headers === undefined) return [];
  const values = typeof headers === 'string' ? [headers] : headers;
  return values.flatMap(parseOne);
}

function parseOne(s: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const readQuoted = (): string => {
    i++; // opening quote
    let v = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote
    return v;
  };
  const readBare = (): string => {
    const start = i;
    while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
    return s.slice(start, i);
  };

  while (i < s.length) {
    while (i < s.length && (s[i] === ',' || s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length) break;
    const scheme = readToken();
    if (scheme === '') {
      i++; // junk: skip a character and resynchronise
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    skipWs();
    // token68: `Scheme abc+/==` followed by the end or a comma.
    const t68 = /^[A-Za-z0-9\-._~+/]+=*\s*(?:,|$)/.exec(s.slice(i));
    if (t68 && !/^[A-Za-z0-9\-._~+/]+\s*=[^=]/.test(s.slice(i))) {
      challenge.token68 = t68[0].replace(/[\s,]+$/, '');
      i += t68[0].length;
      continue;
    }
    for (;;) {
      const save = i;
      skipWs();
      const name = readToken();
      skipWs();
      if (name === '' || s[i] !== '=') {
        i = save; // the next challenge's scheme (or the end)
        break;
      }
      i++;
      skipWs();
      const value = s[i] === '"' ? readQuoted() : readBare();
      challenge.params[name.toLowerCase()] = value;
      skipWs();
      if (s[i] !== ',') break;
      i++;
    }
  }
  return out;
}

/** The challenge a client should answer: Bearer (with a realm) over Basic over nothing. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return (
    challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic')
  );
}
