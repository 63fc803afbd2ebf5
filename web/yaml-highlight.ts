/**
 * A small YAML highlighter for values.yaml and manifests: one pass over the lines,
 * no parser. It only colours (keys, strings, numbers, booleans/null, comments,
 * anchors, block scalars); the text is kept exactly, as text nodes.
 */

export type Token = { type: 'key' | 'str' | 'num' | 'bool' | 'comment' | 'punct' | 'anchor' | 'plain'; text: string };

const SCALAR_BOOL = /^(?:true|false|yes|no|on|off|null|~)$/i;
const SCALAR_NUM = /^[-+]?(?:\d[\d_]*(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+|0x[\da-f]+|0o[0-7]+|\.inf|\.nan)$/i;

/** Tokens of one YAML text, line by line (newlines are `plain` tokens). */
export function tokenizeYaml(text: string): Token[] {
  const out: Token[] = [];
  // Inside a block scalar (`key: |`), lines indented deeper than `blockIndent` are string content.
  let blockIndent = -1;
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const indent = line.length - line.trimStart().length;
    if (blockIndent >= 0) {
      if (line.trim() === '' || indent > blockIndent) {
        if (line) out.push({ type: 'str', text: line });
        if (i < lines.length - 1) out.push({ type: 'plain', text: '\n' });
        return;
      }
      blockIndent = -1;
    }
    if (tokenizeLine(line, out)) blockIndent = indent;
    if (i < lines.length - 1) out.push({ type: 'plain', text: '\n' });
  });
  return out;
}

/** Tokenizes one line; true when it opens a block scalar (`|` or `>`). */
function tokenizeLine(line: string, out: Token[]): boolean {
  let rest = line;
  const lead = /^\s*/.exec(rest)![0];
  if (lead) out.push({ type: 'plain', text: lead });
  rest = rest.slice(lead.length);
  if (rest.startsWith('#')) {
    out.push({ type: 'comment', text: rest });
    return false;
  }
  if (/^(?:---|\.\.\.)(?:\s|$)/.test(rest)) {
    out.push({ type: 'punct', text: rest.slice(0, 3) });
    rest = rest.slice(3);
    if (rest) return value(rest, out);
    return false;
  }
  // Sequence dashes, possibly several ("- - a").
  let m: RegExpExecArray | null;
  while ((m = /^-(?:\s+|$)/.exec(rest))) {
    out.push({ type: 'punct', text: '-' });
    if (m[0].length > 1) out.push({ type: 'plain', text: m[0].slice(1) });
    rest = rest.slice(m[0].length);
  }
  // A mapping key: quoted, or plain up to ": " / ":" at the end.
  m = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[][^:#]*?|[^\s#'"{[])(\s*)(:)(?=\s|$)/.exec(rest);
  if (m) {
    out.push({ type: 'key', text: m[1]! });
    if (m[2]) out.push({ type: 'plain', text: m[2] });
    out.push({ type: 'punct', text: ':' });
    rest = rest.slice(m[0].length);
  }
  return value(rest, out);
}

/** The value part of a line (after any key): scalar, quoted string, flow or block indicator, comment. */
function value(rest: string, out: Token[]): boolean {
  const ws = /^\s*/.exec(rest)![0];
  if (ws) out.push({ type: 'plain', text: ws });
  rest = rest.slice(ws.length);
  if (!rest) return false;
  let block = false;
  // Anchors, aliases and tags before the value.
  let m: RegExpExecArray | null;
  while ((m = /^([&*!][^\s]*)(\s*)/.exec(rest))) {
    out.push({ type: 'anchor', text: m[1]! });
    if (m[2]) out.push({ type: 'plain', text: m[2] });
    rest = rest.slice(m[0].length);
  }
  if ((m = /^[|>][-+0-9]*(?=\s|$)/.exec(rest))) {
    out.push({ type: 'punct', text: m[0] });
    rest = rest.slice(m[0].length);
    block = true;
  } else if ((m = /^("(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?)/.exec(rest)) && m[0]) {
    out.push({ type: 'str', text: m[0] });
    rest = rest.slice(m[0].length);
  } else {
    // A plain scalar runs to " #" (a comment) or the end of the line.
    const hash = rest.search(/\s#/);
    const scalar = hash === -1 ? rest : rest.slice(0, hash);
    const trimmed = scalar.trimEnd();
    if (trimmed) out.push({ type: classify(trimmed), text: trimmed });
    rest = rest.slice(trimmed.length);
  }
  const c = /^(\s*)(#.*)$/.exec(rest);
  if (c) {
    if (c[1]) out.push({ type: 'plain', text: c[1] });
    out.push({ type: 'comment', text: c[2]! });
  } else if (rest) {
    out.push({ type: 'plain', text: rest });
  }
  return block;
}

function classify(scalar: string): Token['type'] {
  if (SCALAR_BOOL.test(scalar)) return 'bool';
  if (SCALAR_NUM.test(scalar)) return 'num';
  if (scalar.startsWith('{') || scalar.startsWith('[')) return 'plain';
  return 'str';
}

/** The highlighted text as DOM nodes (text nodes in spans, never markup). */
export function highlightYaml(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const t of tokenizeYaml(text)) {
    if (t.type === 'plain') {
      frag.appendChild(document.createTextNode(t.text));
    } else {
      const span = document.createElement('span');
      span.className = `tok-${t.type}`;
      span.textContent = t.text;
      frag.appendChild(span);
    }
  }
  return frag;
}
