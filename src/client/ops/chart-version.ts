/**
 * Which chart version a reference names, as `helm pull REF [--version V]` resolves
 * it: the ref's tag, an exact version, or a Masterminds constraint matched against
 * the repository's strict-SemVer tags ("_" read as "+").
 */
import {
  chartTag,
  compareVersions,
  formatVersion,
  isVersion,
  parseConstraint,
  parseStrictVersion,
  tagVersion,
  type Version,
} from '../../chart/index.js';
import type { RegistryClient, Repository } from '../client.js';
import { clientError, isClientError } from '../errors.js';
import { formatReference, parseReference, type Reference } from '../reference.js';

/** A chart reference: oci://HOST/NS/NAME[:TAG|@DIGEST], with "+" in a tag taken as "_". */
export function parseChartReference(input: string): Reference {
  let text = input.trim();
  const at = text.lastIndexOf('@');
  const digest = at === -1 ? '' : text.slice(at);
  let rest = at === -1 ? text : text.slice(0, at);
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && !rest.slice(colon + 1).includes('/'))
    rest = `${rest.slice(0, colon + 1)}${chartTag(rest.slice(colon + 1))}`;
  text = rest + digest;
  if (!/^oci:\/\//i.test(text)) text = `oci://${text}`;
  return parseReference(text, { defaultTag: null });
}

/**
 * The repository's tags that are strict SemVer once "_" is read as "+", highest
 * first (Client.Tags), as versions.
 */
export async function chartVersions(repo: Repository): Promise<{ version: Version; tag: string }[]> {
  const out: { version: Version; tag: string }[] = [];
  for (const tag of await repo.tags()) {
    try {
      out.push({ version: parseStrictVersion(tagVersion(tag)), tag });
    } catch {
      /* not a chart version */
    }
  }
  return out.sort((a, b) => compareVersions(b.version, a.version));
}

/** GetTagMatchingVersionOrConstraint: exact string first, else the highest version satisfying it. */
export function matchVersion(versions: readonly string[], wanted: string): string | undefined {
  if (wanted !== '' && versions.includes(wanted)) return wanted;
  let constraint;
  try {
    constraint = parseConstraint(wanted === '' ? '*' : wanted);
  } catch (e) {
    throw clientError('CHART_CONSTRAINT_INVALID', { constraint: wanted, detail: (e as Error).message });
  }
  for (const v of versions) {
    let parsed: Version;
    try {
      parsed = parseStrictVersion(v);
    } catch {
      continue;
    }
    if (constraint.check(parsed)) return v;
  }
  return undefined;
}

export interface ResolvedChart {
  ref: Reference;
  /** The tag pulled (absent when pulled by digest alone). */
  tag?: string;
  /** The versions listed to choose one, when a constraint was resolved. */
  candidates?: string[];
}

/** Versions `--devel` lets in when no version is given: every one, pre-releases too (helm's ">0.0.0-0"). */
export const DEVEL_CONSTRAINT = '>0.0.0-0';

/**
 * Which tag (or digest) `helm pull REF [--version V] [--devel]` fetches; `devel`
 * counts only when neither `version` nor the reference names one, as in helm.
 */
export async function resolveChartVersion(
  client: RegistryClient,
  refInput: string,
  version?: string,
  devel = false,
): Promise<ResolvedChart> {
  const ref = parseChartReference(refInput);
  const repo = client.repository(ref);
  const base = { registry: ref.registry, repository: ref.repository };
  let wanted = version ?? '';
  if (wanted === '' && ref.tag) wanted = tagVersion(ref.tag);
  else if (wanted === '' && devel && !ref.digest) wanted = DEVEL_CONSTRAINT;
  else if (wanted !== '' && ref.tag && chartTag(wanted) !== ref.tag) {
    throw clientError('CHART_VERSION_MISMATCH', {
      reference: formatReference(ref),
      tag: tagVersion(ref.tag),
      version: wanted,
    });
  }
  if (ref.digest) {
    if (wanted === '') return { ref: { ...base, digest: ref.digest } };
    // The tag, when it exists, must point at the digest.
    const at = await repo.manifestExists(chartTag(wanted));
    if (at && at.digest !== ref.digest)
      throw clientError('DIGEST_MISMATCH', {
        what: `${formatReference({ ...base, tag: chartTag(wanted) })}`,
        expected: ref.digest,
        actual: at.digest,
      });
    return { ref: { ...base, digest: ref.digest }, tag: chartTag(wanted) };
  }
  if (wanted !== '' && isVersion(wanted)) return { ref: { ...base, tag: chartTag(wanted) }, tag: chartTag(wanted) };
  let versions: string[];
  try {
    versions = (await chartVersions(repo)).map((v) => formatVersion(v.version));
  } catch (e) {
    if (isClientError(e, 'REPOSITORY_NOT_FOUND')) versions = [];
    else throw e;
  }
  const match = versions.length ? matchVersion(versions, wanted) : undefined;
  if (match === undefined)
    throw clientError('CHART_VERSION_NOT_FOUND', { repository: formatReference(base), constraint: wanted, versions });
  return { ref: { ...base, tag: chartTag(match) }, tag: chartTag(match), candidates: versions };
}
