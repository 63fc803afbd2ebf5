/**
 * Helm charts, without I/O beyond the chart's own files: Chart.yaml / Chart.lock as
 * Helm models and writes them, `helm lint`'s Chart.yaml rules, .helmignore, the
 * `helm create` scaffold, the loader, and the packager writing .tgz files laid out
 * as `helm package` does, and Helm's OCI format. The registry side is src/client/ops/chart-*.ts.
 *
 *   semver            Masterminds/semver v3: versions and constraints
 *   metadata          Chart.yaml, Chart.lock: decode, validate, encode
 *   lint              `helm lint` Chart.yaml rules
 *   ignore            .helmignore
 *   archive           Helm's tar members and gzip header (Go's tar and gzip: src/gocompat), archive reader
 *   loader            directory / archive → Chart
 *   package           Chart → NAME-VERSION.tgz
 *   scaffold          `helm create`
 *   oci-manifest      Helm's OCI media types, tags, annotations and manifest
 */
export { GoStruct, goJsonMarshal, goJsonString } from '../gocompat/json.js';
export { goYamlMarshal } from '../gocompat/yaml/marshal.js';
export { goYamlParse } from '../gocompat/yaml/decode.js';
export { goFormatFloat } from '../gocompat/strconv.js';
export {
  parseVersion,
  parseStrictVersion,
  parseConstraint,
  compareVersions,
  formatVersion,
  isVersion,
  isStrictVersion,
  SemverError,
} from '../gocompat/semver.js';
export type { Version, Constraint } from '../gocompat/semver.js';
export {
  API_VERSION_V1,
  API_VERSION_V2,
  ChartFileError,
  decodeChartYaml,
  decodeChartLock,
  decodeConfigJson,
  emptyMetadata,
  lockYaml,
  metadataConfigJson,
  metadataStruct,
  metadataYaml,
  sanitizeString,
  validateMetadata,
} from './metadata.js';
export type { ChartMetadata, ChartLock, Dependency, Maintainer } from './metadata.js';
export { lintChartYaml, isEmail, isUrl, isRequestUrl } from './lint.js';
export type { LintMessage, LintSeverity } from './lint.js';
export { IgnoreRules, IgnoreSyntaxError, goMatch } from './ignore.js';
export {
  helmTarEntry,
  helmGzip,
  readChartArchive,
  looksLikeGzip,
  HELM_GZIP_EXTRA,
  ChartArchiveError,
} from './archive.js';
export type { ArchiveFile } from './archive.js';
export {
  loadChartDir,
  loadChartArchive,
  loadChartFiles,
  walkChartDir,
  readIgnoreRules,
  ChartLoadError,
} from './loader.js';
export type { Chart, ChartFile } from './loader.js';
export { packageChart, chartArchive, chartEntries, missingDependencies, ChartInvalidError } from './package.js';
export type { PackageOptions, PackageResult, MtimePolicy, ArchiveEntry } from './package.js';
export { createChart, scaffoldFiles, checkChartName, ScaffoldError, CHART_NAME_PATTERN } from './scaffold.js';
export type { CreateResult } from './scaffold.js';
export {
  HELM_MEDIA_TYPES,
  MAX_CHART_BYTES,
  NotAChartError,
  chartManifestLayers,
  chartTag,
  helmAnnotations,
  helmManifest,
  tagVersion,
} from './oci-manifest.js';
export type { ChartManifestLayers } from './oci-manifest.js';
