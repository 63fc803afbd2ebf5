/**
 * Chart.yaml and Chart.lock as Helm models them (pkg/chart Metadata, Dependency,
 * Lock): decoded the way sigs.k8s.io/yaml + encoding/json decode them (unknown keys
 * dropped, field names matched case-insensitively, numbers and booleans turned into
 * strings for string fields — `version: 1.10` becomes "1.1"), validated and
 * sanitised as the loader does, and written back as Helm writes them:
 *
 *   metadataConfigJson   the OCI config blob (json.Marshal, struct field order)
 *   metadataYaml         Chart.yaml inside a package and `helm show chart`
 *   lockYaml             Chart.lock inside a package
 */
import { GoStruct, goJsonMarshal } from '../gocompat/json.js';
import { normalizeRFC3339Nano } from '../gocompat/time.js';
import { GoYamlError, goYamlParse } from '../gocompat/yaml/decode.js';
import { goYamlFloat } from '../gocompat/yaml/emit.js';
import { goYamlMarshal } from '../gocompat/yaml/marshal.js';
import { GoFloat, GoInt, GoYamlMap, type GoYamlValue } from '../gocompat/yaml/resolve.js';
import { isVersion } from '../gocompat/semver.js';

export interface Maintainer {
  name: string;
  email: string;
  url: string;
}

export interface Dependency {
  name: string;
  version: string;
  repository: string;
  condition: string;
  tags?: string[];
  enabled: boolean;
  importValues?: unknown[];
  alias: string;
}

export interface ChartMetadata {
  name: string;
  home: string;
  sources?: string[];
  version: string;
  description: string;
  keywords?: string[];
  maintainers?: (Maintainer | null)[];
  icon: string;
  apiVersion: string;
  condition: string;
  tags: string;
  appVersion: string;
  deprecated: boolean;
  annotations?: Record<string, string>;
  kubeVersion: string;
  dependencies?: (Dependency | null)[];
  type: string;
}

export interface ChartLock {
  /** RFC 3339 as written by Go (fraction trimmed, "Z" for UTC). */
  generated: string;
  digest: string;
  dependencies?: (Dependency | null)[];
}

export const API_VERSION_V1 = 'v1';
export const API_VERSION_V2 = 'v2';

/** A Chart.yaml / Chart.lock that cannot be decoded. */
export class ChartFileError extends Error {}

// ---------------------------------------------------------------------------------
// Decoding (sigs.k8s.io/yaml → encoding/json into the struct)

function kindOf(v: GoYamlValue): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (v instanceof GoInt || v instanceof GoFloat) return 'a number';
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

function typeError(field: string, v: GoYamlValue, want: string): ChartFileError {
  return new ChartFileError(`${field} must be ${want}, not ${kindOf(v)}`);
}

/** A scalar for a Go string field, converted as sigs.k8s.io/yaml does. */
function decodeString(v: GoYamlValue, field: string): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof GoInt) return v.value.toString();
  if (v instanceof GoFloat) return goYamlFloat(v.value, 32);
  throw typeError(field, v, 'a string');
}

function decodeBool(v: GoYamlValue, field: string): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  throw typeError(field, v, 'true or false');
}

function decodeStringList(v: GoYamlValue, field: string): string[] | undefined {
  if (v === null) return undefined;
  if (!Array.isArray(v)) throw typeError(field, v, 'a list of strings');
  return v.map((x, i) => decodeString(x, `${field}[${i}]`));
}

/** sigs.k8s.io/yaml's conversion of a map key to a JSON object key. */
export function keyToString(k: GoYamlValue, field: string): string {
  if (typeof k === 'string') return k;
  if (k instanceof GoInt) return k.value.toString();
  if (k instanceof GoFloat) return goYamlFloat(k.value, 32);
  if (typeof k === 'boolean') return k ? 'true' : 'false';
  throw new ChartFileError(`${field}: unsupported map key ${kindOf(k)}`);
}

function decodeStringMap(v: GoYamlValue, field: string): Record<string, string> | undefined {
  if (v === null) return undefined;
  if (!(v instanceof GoYamlMap)) throw typeError(field, v, 'a mapping of strings');
  const out: Record<string, string> = {};
  for (const [k, x] of v.entries) {
    const key = keyToString(k, field);
    out[key] = decodeString(x, `${field}.${key}`);
  }
  return out;
}

/** A value decoded into interface{} through JSON (numbers become float64). */
function toJsonAny(v: GoYamlValue, field: string): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof GoInt) return Number(v.value);
  if (v instanceof GoFloat) {
    if (!Number.isFinite(v.value))
      throw new ChartFileError(`${field}: ${goYamlFloat(v.value)} cannot be represented in JSON`);
    return v.value;
  }
  if (Array.isArray(v)) return v.map((x, i) => toJsonAny(x, `${field}[${i}]`));
  const out: Record<string, unknown> = {};
  for (const [k, x] of v.entries) {
    const key = keyToString(k, field);
    out[key] = toJsonAny(x, `${field}.${key}`);
  }
  return out;
}

type FieldDecoders<T> = Record<string, (v: GoYamlValue, target: T, field: string) => void>;

/** Sets struct fields from a mapping: exact name first, else case-insensitive (encoding/json). */
function decodeStruct<T>(v: GoYamlValue, target: T, decoders: FieldDecoders<T>, what: string): void {
  if (v === null) return;
  if (!(v instanceof GoYamlMap)) throw new ChartFileError(`${what} must be a mapping, not ${kindOf(v)}`);
  const names = Object.keys(decoders);
  for (const [k, x] of v.entries) {
    const key = keyToString(k, what);
    const name = names.includes(key) ? key : names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (name !== undefined)
      decoders[name]!(x, target, what === 'Chart.yaml' || what === 'Chart.lock' ? name : `${what}.${name}`);
  }
}

function emptyDependency(): Dependency {
  return { name: '', version: '', repository: '', condition: '', enabled: false, alias: '' };
}

const DEPENDENCY_FIELDS: FieldDecoders<Dependency> = {
  name: (v, t, f) => (t.name = decodeString(v, f)),
  version: (v, t, f) => (t.version = decodeString(v, f)),
  repository: (v, t, f) => (t.repository = decodeString(v, f)),
  condition: (v, t, f) => (t.condition = decodeString(v, f)),
  tags: (v, t, f) => {
    const x = decodeStringList(v, f);
    if (x) t.tags = x;
    else delete t.tags;
  },
  enabled: (v, t, f) => (t.enabled = decodeBool(v, f)),
  'import-values': (v, t, f) => {
    if (v === null) delete t.importValues;
    else if (!Array.isArray(v)) throw typeError(f, v, 'a list');
    else t.importValues = v.map((x, i) => toJsonAny(x, `${f}[${i}]`));
  },
  alias: (v, t, f) => (t.alias = decodeString(v, f)),
};

function decodeDependencies(v: GoYamlValue, field: string): (Dependency | null)[] | undefined {
  if (v === null) return undefined;
  if (!Array.isArray(v)) throw typeError(field, v, 'a list of dependencies');
  return v.map((x, i) => {
    if (x === null) return null;
    const d = emptyDependency();
    decodeStruct(x, d, DEPENDENCY_FIELDS, `${field}[${i}]`);
    return d;
  });
}

const METADATA_FIELDS: FieldDecoders<ChartMetadata> = {
  name: (v, t, f) => (t.name = decodeString(v, f)),
  home: (v, t, f) => (t.home = decodeString(v, f)),
  sources: (v, t, f) => {
    const x = decodeStringList(v, f);
    if (x) t.sources = x;
    else delete t.sources;
  },
  version: (v, t, f) => (t.version = decodeString(v, f)),
  description: (v, t, f) => (t.description = decodeString(v, f)),
  keywords: (v, t, f) => {
    const x = decodeStringList(v, f);
    if (x) t.keywords = x;
    else delete t.keywords;
  },
  maintainers: (v, t, f) => {
    if (v === null) {
      delete t.maintainers;
      return;
    }
    if (!Array.isArray(v)) throw typeError(f, v, 'a list of maintainers');
    t.maintainers = v.map((x, i) => {
      if (x === null) return null;
      const m: Maintainer = { name: '', email: '', url: '' };
      decodeStruct(
        x,
        m,
        {
          name: (y, mm, ff) => (mm.name = decodeString(y, ff)),
          email: (y, mm, ff) => (mm.email = decodeString(y, ff)),
          url: (y, mm, ff) => (mm.url = decodeString(y, ff)),
        },
        `${f}[${i}]`,
      );
      return m;
    });
  },
  icon: (v, t, f) => (t.icon = decodeString(v, f)),
  apiVersion: (v, t, f) => (t.apiVersion = decodeString(v, f)),
  condition: (v, t, f) => (t.condition = decodeString(v, f)),
  tags: (v, t, f) => (t.tags = decodeString(v, f)),
  appVersion: (v, t, f) => (t.appVersion = decodeString(v, f)),
  deprecated: (v, t, f) => (t.deprecated = decodeBool(v, f)),
  annotations: (v, t, f) => {
    const x = decodeStringMap(v, f);
    if (x) t.annotations = x;
    else delete t.annotations;
  },
  kubeVersion: (v, t, f) => (t.kubeVersion = decodeString(v, f)),
  dependencies: (v, t, f) => {
    const x = decodeDependencies(v, f);
    if (x) t.dependencies = x;
    else delete t.dependencies;
  },
  type: (v, t, f) => (t.type = decodeString(v, f)),
};

export function emptyMetadata(): ChartMetadata {
  return {
    name: '',
    home: '',
    version: '',
    description: '',
    icon: '',
    apiVersion: '',
    condition: '',
    tags: '',
    appVersion: '',
    deprecated: false,
    kubeVersion: '',
    type: '',
  };
}

function parseYamlText(text: string, file: string): GoYamlValue {
  try {
    return goYamlParse(text);
  } catch (e) {
    if (e instanceof GoYamlError) throw new ChartFileError(`${file} is not valid YAML: ${e.message}`);
    throw e;
  }
}

/** Chart.yaml text → Metadata, as `yaml.Unmarshal(data, &metadata)` leaves it (no defaults, no validation). */
export function decodeChartYaml(text: string): ChartMetadata {
  return decodeChartYamlInto(emptyMetadata(), text, 'Chart.yaml');
}

/** Decodes YAML onto existing metadata (how Helm 2's requirements.yaml adds dependencies). */
export function decodeChartYamlInto(md: ChartMetadata, text: string, file: string): ChartMetadata {
  decodeStruct(parseYamlText(text, file), md, METADATA_FIELDS, 'Chart.yaml');
  return md;
}

/**
 * The Go type names `%T` prints for the values of a Chart.yaml decoded into
 * map[string]interface{} (what `helm lint` type-checks version and appVersion with).
 */
export function chartYamlTypes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let v: GoYamlValue;
  try {
    v = goYamlParse(text);
  } catch {
    return out;
  }
  if (!(v instanceof GoYamlMap)) return out;
  for (const [k, x] of v.entries) {
    let key: string;
    try {
      key = keyToString(k, 'Chart.yaml');
    } catch {
      continue;
    }
    const t =
      x === null
        ? '<nil>'
        : typeof x === 'string'
          ? 'string'
          : typeof x === 'boolean'
            ? 'bool'
            : x instanceof GoInt || x instanceof GoFloat
              ? 'float64'
              : Array.isArray(x)
                ? '[]interface {}'
                : 'map[string]interface {}';
    out.set(key, t);
  }
  return out;
}

/** Chart.lock (or requirements.lock) text → Lock. */
export function decodeChartLock(text: string, file = 'Chart.lock'): ChartLock {
  const lock: ChartLock = { generated: '0001-01-01T00:00:00Z', digest: '' };
  decodeStruct(
    parseYamlText(text, file),
    lock,
    {
      generated: (v, t, f) => {
        if (v === null) return;
        const s = decodeString(v, f);
        t.generated = normalizeRfc3339(s, f);
      },
      digest: (v, t, f) => (t.digest = decodeString(v, f)),
      dependencies: (v, t, f) => {
        const x = decodeDependencies(v, f);
        if (x) t.dependencies = x;
        else delete t.dependencies;
      },
    },
    file === 'Chart.lock' ? 'Chart.lock' : file,
  );
  return lock;
}

/** time.Time's JSON round trip: RFC 3339 in, RFC3339Nano out (trailing zeros trimmed, "Z" for offset 0). */
export function normalizeRfc3339(s: string, field = 'generated'): string {
  const out = normalizeRFC3339Nano(s);
  if (out === undefined) throw new ChartFileError(`${field}: "${s}" is not an RFC 3339 time`);
  return out;
}

// ---------------------------------------------------------------------------------
// Load-time validation (Metadata.Validate): sanitises strings, rejects the rest.

const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const GO_PRINT = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

/** Helm's sanitizeString: whitespace becomes a space, non-printable characters go. */
export function sanitizeString(s: string): string {
  let out = '';
  for (const c of s) {
    if (GO_SPACE.test(c)) out += ' ';
    else if (c === ' ' || GO_PRINT.test(c)) out += c;
  }
  return out;
}

const ALIAS = /^[a-zA-Z0-9_-]+$/;

/** Go's filepath.Base. */
export function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

/**
 * Metadata.Validate: sanitises in place and returns the first problem (Helm's
 * message), or undefined.
 */
export function validateMetadata(md: ChartMetadata): string | undefined {
  md.name = sanitizeString(md.name);
  md.description = sanitizeString(md.description);
  md.home = sanitizeString(md.home);
  md.icon = sanitizeString(md.icon);
  md.condition = sanitizeString(md.condition);
  md.tags = sanitizeString(md.tags);
  md.appVersion = sanitizeString(md.appVersion);
  md.kubeVersion = sanitizeString(md.kubeVersion);
  if (md.sources) md.sources = md.sources.map(sanitizeString);
  if (md.keywords) md.keywords = md.keywords.map(sanitizeString);
  if (md.apiVersion === '') return 'chart.metadata.apiVersion is required';
  if (md.name === '') return 'chart.metadata.name is required';
  if (md.name !== goBase(md.name)) return `chart.metadata.name "${md.name}" is invalid`;
  if (md.version === '') return 'chart.metadata.version is required';
  if (!isVersion(md.version)) return `chart.metadata.version "${md.version}" is invalid`;
  if (!['', 'application', 'library'].includes(md.type)) return 'chart.metadata.type must be application or library';
  for (const m of md.maintainers ?? []) {
    if (m === null) return 'maintainers must not contain empty or null nodes';
    m.name = sanitizeString(m.name);
    m.email = sanitizeString(m.email);
    m.url = sanitizeString(m.url);
  }
  const seen = new Set<string>();
  for (const d of md.dependencies ?? []) {
    if (d === null) return 'dependencies must not contain empty or null nodes';
    d.name = sanitizeString(d.name);
    d.version = sanitizeString(d.version);
    d.repository = sanitizeString(d.repository);
    d.condition = sanitizeString(d.condition);
    if (d.tags) d.tags = d.tags.map(sanitizeString);
    if (d.alias !== '' && !ALIAS.test(d.alias)) return `dependency "${d.name}" has disallowed characters in the alias`;
    const key = d.alias !== '' ? d.alias : d.name;
    if (seen.has(key)) return `more than one dependency with name or alias "${key}"`;
    seen.add(key);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------
// Encoding

function dependencyStruct(d: Dependency | null): GoStruct | null {
  if (d === null) return null;
  const m: [string, unknown][] = [['name', d.name]];
  if (d.version) m.push(['version', d.version]);
  m.push(['repository', d.repository]);
  if (d.condition) m.push(['condition', d.condition]);
  if (d.tags?.length) m.push(['tags', d.tags]);
  if (d.enabled) m.push(['enabled', true]);
  if (d.importValues?.length) m.push(['import-values', d.importValues]);
  if (d.alias) m.push(['alias', d.alias]);
  return new GoStruct(m);
}

/** The Metadata struct as encoding/json sees it (omitempty fields left out). */
export function metadataStruct(md: ChartMetadata, opts: { omitDependencies?: boolean } = {}): GoStruct {
  const m: [string, unknown][] = [];
  const str = (k: string, v: string) => v !== '' && m.push([k, v]);
  str('name', md.name);
  str('home', md.home);
  if (md.sources?.length) m.push(['sources', md.sources]);
  str('version', md.version);
  str('description', md.description);
  if (md.keywords?.length) m.push(['keywords', md.keywords]);
  if (md.maintainers?.length) {
    m.push([
      'maintainers',
      md.maintainers.map((x) => {
        if (x === null) return null;
        const mm: [string, unknown][] = [];
        if (x.name) mm.push(['name', x.name]);
        if (x.email) mm.push(['email', x.email]);
        if (x.url) mm.push(['url', x.url]);
        return new GoStruct(mm);
      }),
    ]);
  }
  str('icon', md.icon);
  str('apiVersion', md.apiVersion);
  str('condition', md.condition);
  str('tags', md.tags);
  str('appVersion', md.appVersion);
  if (md.deprecated) m.push(['deprecated', true]);
  if (md.annotations && Object.keys(md.annotations).length) m.push(['annotations', md.annotations]);
  str('kubeVersion', md.kubeVersion);
  if (!opts.omitDependencies && md.dependencies?.length)
    m.push(['dependencies', md.dependencies.map(dependencyStruct)]);
  str('type', md.type);
  return new GoStruct(m);
}

/** The OCI config blob Helm pushes: json.Marshal(metadata). */
export function metadataConfigJson(md: ChartMetadata): Buffer {
  return Buffer.from(goJsonMarshal(metadataStruct(md)), 'utf8');
}

/** sigs.k8s.io/yaml.Marshal of a struct: JSON first, then YAML with sorted keys. */
export function structYaml(s: GoStruct): string {
  return goYamlMarshal(JSON.parse(goJsonMarshal(s)));
}

/** Chart.yaml as `helm package` writes it (dependencies left out for apiVersion v1). */
export function metadataYaml(md: ChartMetadata): string {
  return structYaml(metadataStruct(md, { omitDependencies: md.apiVersion === API_VERSION_V1 }));
}

/** Chart.lock as `helm package` writes it. */
export function lockYaml(lock: ChartLock): string {
  return structYaml(
    new GoStruct([
      ['generated', lock.generated],
      ['digest', lock.digest],
      ['dependencies', lock.dependencies ? lock.dependencies.map(dependencyStruct) : null],
    ]),
  );
}

/** Decodes the config blob of a pushed chart (JSON) into Metadata. */
export function decodeConfigJson(bytes: Buffer): ChartMetadata {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ChartFileError(`the chart config is not JSON: ${(e as Error).message}`);
  }
  // JSON is YAML: decode through the same field rules.
  const md = emptyMetadata();
  decodeStruct(jsonToGo(doc), md, METADATA_FIELDS, 'Chart.yaml');
  return md;
}

function jsonToGo(v: unknown): GoYamlValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? new GoInt(BigInt(v)) : new GoFloat(v);
  if (Array.isArray(v)) return v.map(jsonToGo);
  if (typeof v === 'object') return new GoYamlMap(Object.entries(v as object).map(([k, x]) => [k, jsonToGo(x)]));
  return null;
}
