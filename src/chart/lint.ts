/**
 * `helm lint`'s Chart.yaml rules (pkg/lint/rules/chartfile.go), with Helm's messages
 * and severities, plus a hint saying how to fix each error:
 *
 *   error    unparsable YAML; name missing or with a path separator; apiVersion not
 *            v1/v2; version or appVersion not a YAML string; version missing, not
 *            SemVer, or not > 0.0.0-0; maintainer without name, bad email or URL;
 *            bad source or icon URL; `type` or `dependencies` with apiVersion v1
 *   warning  unknown fields (strict parse); version not strict SemVer 2
 *   info     no icon
 */
import { GoYamlError, goYamlParse, goYamlTopLevelScalars } from '../gocompat/yaml/decode.js';
import { GoYamlMap, type GoYamlValue } from '../gocompat/yaml/resolve.js';
import {
  API_VERSION_V1,
  API_VERSION_V2,
  ChartFileError,
  chartYamlTypes,
  decodeChartYaml,
  goBase,
  keyToString,
  type ChartMetadata,
} from './metadata.js';
import { compareVersions, parseStrictVersion, parseVersion, SemverError } from '../gocompat/semver.js';

export type LintSeverity = 'error' | 'warning' | 'info';

export interface LintMessage {
  severity: LintSeverity;
  /** The file the message is about ("Chart.yaml"). */
  path: string;
  message: string;
  hint?: string;
}

const LOCAL = "[a-zA-Z0-9!#$%&'*+/=?^_`{|}~\\-\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF]";
const DCHAR = 'a-zA-Z0-9\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF';
const EMAIL = new RegExp(
  `^${LOCAL}+(\\.${LOCAL}+)*@(([${DCHAR}]|[${DCHAR}][${DCHAR}\\-.~]*[${DCHAR}])\\.)+([a-zA-Z\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF]|[a-zA-Z\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF][${DCHAR}\\-.~]*[a-zA-Z\\u00A0-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFEF])\\.?$`,
);

/** govalidator.IsEmail (its ASCII-and-BMP regular expression, unquoted local parts). */
export function isEmail(s: string): boolean {
  return EMAIL.test(s);
}

const HOST_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%\u0080-\uffff]*$/;

/** govalidator.IsRequestURL: Go's url.ParseRequestURI accepts it and it has a scheme. */
export function isRequestUrl(s: string): boolean {
  // Go's url.ParseRequestURI refuses ASCII control characters.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\x00-\x1f\x7f]/.test(s)) return false;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(s);
  if (!m) return false;
  let rest = m[2]!;
  const q = rest.indexOf('?');
  if (q !== -1) rest = rest.slice(0, q);
  if (!rest.startsWith('/')) return true; // opaque ("mailto:x")
  if (!rest.startsWith('//')) return true;
  let authority = rest.slice(2);
  const slash = authority.indexOf('/');
  if (slash !== -1) authority = authority.slice(0, slash);
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) return false;
    authority = authority.slice(at + 1);
  }
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) return false;
    const port = authority.slice(close + 1);
    return port === '' || /^:\d*$/.test(port);
  }
  const colon = authority.lastIndexOf(':');
  if (colon !== -1 && !/^:\d*$/.test(authority.slice(colon))) return false;
  return HOST_CHARS.test(colon === -1 ? authority : authority.slice(0, colon));
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** govalidator.IsURL, approximated: an http(s)/ftp/ws… URL or a bare host, no spaces. */
export function isUrl(s: string): boolean {
  if (s === '' || Array.from(s).length >= 2083 || s.length <= 3 || s.startsWith('.')) return false;
  const m = /^(?:(ftp|tcp|udp|wss?|https?):\/\/)?(?:\S+(?::\S*)?@)?([^/?#:\s]+)(?::(\d{1,5}))?([/?#]\S*)?$/i.exec(s);
  if (!m) return false;
  const host = m[2]!;
  if (host.startsWith('.')) return false;
  if (IPV4.test(host) || host === 'localhost') return true;
  if (/^\d+(\.\d+)*$/.test(host)) return false;
  const labels = host.replace(/\.$/, '').split('.');
  return labels.every((l) =>
    /^[a-zA-Z0-9\u00a1-\uffff]([a-zA-Z0-9\u00a1-\uffff_-]*[a-zA-Z0-9\u00a1-\uffff])?$/.test(l),
  );
}

const KNOWN_FIELDS: Record<string, readonly string[]> = {
  '': [
    'name',
    'home',
    'sources',
    'version',
    'description',
    'keywords',
    'maintainers',
    'icon',
    'apiVersion',
    'condition',
    'tags',
    'appVersion',
    'deprecated',
    'annotations',
    'kubeVersion',
    'dependencies',
    'type',
  ],
  maintainers: ['name', 'email', 'url'],
  dependencies: ['name', 'version', 'repository', 'condition', 'tags', 'enabled', 'import-values', 'alias'],
};

function unknownFields(v: GoYamlValue): string[] {
  const out: string[] = [];
  const check = (m: GoYamlValue, known: readonly string[], where: string) => {
    if (!(m instanceof GoYamlMap)) return;
    const seen = new Set<string>();
    for (const [k] of m.entries) {
      let key: string;
      try {
        key = keyToString(k, where || 'Chart.yaml');
      } catch {
        continue;
      }
      if (seen.has(key)) out.push(`${where}${where ? '.' : ''}${key} is set twice`);
      seen.add(key);
      if (!known.some((f) => f.toLowerCase() === key.toLowerCase()))
        out.push(`unknown field "${where}${where ? '.' : ''}${key}"`);
    }
  };
  check(v, KNOWN_FIELDS['']!, '');
  if (v instanceof GoYamlMap) {
    for (const list of ['maintainers', 'dependencies'] as const) {
      const items = v.get(list);
      if (Array.isArray(items)) items.forEach((item, i) => check(item, KNOWN_FIELDS[list]!, `${list}[${i}]`));
    }
  }
  return out;
}

/** Lints Chart.yaml text as `helm lint` does (Chartfile rules). */
export function lintChartYaml(text: string | undefined): LintMessage[] {
  const msgs: LintMessage[] = [];
  const add = (severity: LintSeverity, message: string, hint?: string) =>
    msgs.push({ severity, path: 'Chart.yaml', message, ...(hint ? { hint } : {}) });
  if (text === undefined) {
    add(
      'error',
      'Chart.yaml file is missing',
      'every chart needs a Chart.yaml at its root; start one with `stowage chart create NAME`',
    );
    return msgs;
  }
  let md: ChartMetadata;
  try {
    md = decodeChartYaml(text);
  } catch (e) {
    if (e instanceof ChartFileError || e instanceof GoYamlError) {
      add('error', `unable to parse YAML: ${e.message}`, 'fix the YAML syntax or the field type it names');
      return msgs;
    }
    throw e;
  }
  try {
    for (const u of unknownFields(goYamlParse(text)))
      add(
        'warning',
        `failed to strictly parse chart metadata file: ${u}`,
        'Helm ignores fields it does not know: check the spelling',
      );
  } catch {
    /* already reported */
  }
  const types = chartYamlTypes(text);
  const raw = goYamlTopLevelScalars(text);

  if (md.name === '') add('error', 'name is required', 'add `name: <chart name>` to Chart.yaml');
  else if (goBase(md.name) !== md.name)
    add('error', `chart name "${md.name}" is invalid`, 'a chart name cannot contain "/"');

  if (md.apiVersion === '')
    add('error', 'apiVersion is required. The value must be either "v1" or "v2"', 'add `apiVersion: v2` to Chart.yaml');
  else if (md.apiVersion !== API_VERSION_V1 && md.apiVersion !== API_VERSION_V2)
    add(
      'error',
      `apiVersion '${md.apiVersion}' is not valid. The value must be either "v1" or "v2"`,
      'use `apiVersion: v2` (Helm 3 charts)',
    );

  const versionType = types.get('version');
  if (versionType !== undefined && versionType !== 'string')
    add(
      'error',
      `version should be of type string but it's of type ${versionType}`,
      `quote it in Chart.yaml: version: "${raw.get('version') ?? md.version}"`,
    );
  if (md.version === '') add('error', 'version is required', 'add `version: 0.1.0` (SemVer) to Chart.yaml');
  else {
    try {
      const v = parseVersion(md.version);
      const floor = parseVersion('0.0.0-0');
      if (compareVersions(v, floor) <= 0)
        add('error', `version ${md.version} is less than or equal to 0.0.0-0`, 'use a version above 0.0.0-0');
    } catch (e) {
      if (!(e instanceof SemverError)) throw e;
      add(
        'error',
        `version '${md.version}' is not a valid SemVer`,
        'use MAJOR.MINOR.PATCH with an optional -prerelease and +build, e.g. 1.2.3 or 1.2.3-rc.1',
      );
    }
  }
  const appVersionType = types.get('appVersion');
  if (appVersionType !== undefined && appVersionType !== 'string')
    add(
      'error',
      `appVersion should be of type string but it's of type ${appVersionType}`,
      `quote it in Chart.yaml: appVersion: "${raw.get('appVersion') ?? md.appVersion}"`,
    );

  for (const m of md.maintainers ?? []) {
    if (m === null) {
      add('error', 'a maintainer entry is empty', 'remove the empty "-" item under maintainers');
      break;
    }
    if (m.name === '') {
      add('error', 'each maintainer requires a name', 'give every maintainer a `name:`');
      break;
    }
    if (m.email !== '' && !isEmail(m.email)) {
      add('error', `invalid email '${m.email}' for maintainer '${m.name}'`);
      break;
    }
    if (m.url !== '' && !isUrl(m.url)) {
      add('error', `invalid url '${m.url}' for maintainer '${m.name}'`);
      break;
    }
  }
  for (const s of md.sources ?? []) {
    if (s === '' || !isRequestUrl(s)) {
      add('error', `invalid source URL '${s}'`, 'sources must be absolute URLs, e.g. https://github.com/org/repo');
      break;
    }
  }
  if (md.icon === '') add('info', 'icon is recommended');
  else if (!isRequestUrl(md.icon))
    add('error', `invalid icon URL '${md.icon}'`, 'icon must be an absolute URL, e.g. https://example.com/icon.png');
  if (md.type !== '' && md.apiVersion !== API_VERSION_V2)
    add(
      'error',
      `chart type is not valid in apiVersion '${md.apiVersion}'. It is valid in apiVersion '${API_VERSION_V2}'`,
      'set `apiVersion: v2` or remove `type`',
    );
  if ((md.dependencies?.length ?? 0) > 0 && md.apiVersion !== API_VERSION_V2)
    add(
      'error',
      `dependencies are not valid in the Chart file with apiVersion '${md.apiVersion}'. They are valid in apiVersion '${API_VERSION_V2}'`,
      'set `apiVersion: v2` (v1 charts list dependencies in requirements.yaml)',
    );
  if (md.version !== '') {
    try {
      parseStrictVersion(md.version);
    } catch {
      add(
        'warning',
        `version '${md.version}' is not a valid SemVerV2`,
        'OCI registries list chart versions by strict SemVer 2 tags',
      );
    }
  }
  return msgs;
}
