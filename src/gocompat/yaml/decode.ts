/**
 * go-yaml v2 decoding into interface{} (decode.go) on top of the `yaml` package's
 * parser: plain scalars resolved by resolve.ts, map keys of any scalar type.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode, Scalar } from 'yaml';
import { GoFloat, GoInt, GoYamlMap, goYamlResolve, type GoYamlValue } from './resolve.js';

// ---------------------------------------------------------------------------------
// Parsing

export class GoYamlError extends Error {}

function toGoValue(doc: Document, node: unknown, depth = 0): GoYamlValue {
  if (depth > 200) throw new GoYamlError('document is nested too deeply');
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toGoValue(doc, node.resolve(doc), depth + 1);
  if (isScalar(node)) {
    const value = node.value;
    const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
    const tag = node.tag;
    if (tag) {
      const short = tag.replace(/^tag:yaml\.org,2002:/, '!!');
      if (short === '!!str' || short === '!!binary' || short === '!') return text;
      if (short === '!!null') return null;
      const resolved = goYamlResolve(text);
      if (short === '!!int' && resolved instanceof GoInt) return resolved;
      if (short === '!!float')
        return resolved instanceof GoInt
          ? new GoFloat(Number(resolved.value))
          : resolved instanceof GoFloat
            ? resolved
            : text;
      if (short === '!!bool' && typeof resolved === 'boolean') return resolved;
      if (short === '!!timestamp') return text;
      return text;
    }
    if (node.type === Scalar.PLAIN) return goYamlResolve(text);
    return text;
  }
  if (isSeq(node)) return node.items.map((i) => toGoValue(doc, i, depth + 1));
  if (isMap(node)) {
    const entries: [GoYamlValue, GoYamlValue][] = [];
    const set = (k: GoYamlValue, v: GoYamlValue, override: boolean) => {
      const at = entries.findIndex(([x]) => sameKey(x, k));
      if (at === -1) entries.push([k, v]);
      else if (override) entries[at] = [k, v];
    };
    const merges: GoYamlMap[] = [];
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      if (isScalar(keyNode) && keyNode.type === Scalar.PLAIN && !keyNode.tag && keyNode.value === '<<') {
        const v = toGoValue(doc, pair.value, depth + 1);
        if (v instanceof GoYamlMap) merges.push(v);
        else if (Array.isArray(v)) for (const m of v) if (m instanceof GoYamlMap) merges.push(m);
        continue;
      }
      set(toGoValue(doc, keyNode, depth + 1), toGoValue(doc, pair.value, depth + 1), true);
    }
    for (const m of merges) for (const [k, v] of m.entries) set(k, v, false);
    return new GoYamlMap(entries);
  }
  throw new GoYamlError('unsupported YAML node');
}

function sameKey(a: GoYamlValue, b: GoYamlValue): boolean {
  if (a instanceof GoInt && b instanceof GoInt) return a.value === b.value;
  if (a instanceof GoFloat && b instanceof GoFloat) return a.value === b.value;
  return a === b;
}

/** Parses one YAML document the way go-yaml v2 decodes it into interface{}. */
export function goYamlParse(text: string): GoYamlValue {
  const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, strict: false, prettyErrors: true });
  const err = doc.errors[0];
  if (err) throw new GoYamlError(err.message.split('\n')[0]!);
  return toGoValue(doc, doc.contents);
}

/** The source text of a top-level mapping's scalar values ("1.0" for `version: 1.0`). */
export function goYamlTopLevelScalars(text: string): Map<string, string> {
  const out = new Map<string, string>();
  try {
    const doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, strict: false });
    if (doc.errors.length || !isMap(doc.contents)) return out;
    for (const pair of doc.contents.items) {
      if (isScalar(pair.key) && isScalar(pair.value) && typeof pair.value.value === 'string')
        out.set(String(pair.key.value), pair.value.value);
    }
  } catch {
    /* unparsable: no source text */
  }
  return out;
}
