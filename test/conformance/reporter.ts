/**
 * Reports of a run: a one-line-per-spec text summary (the console reporter)
 * and JUnit XML (what reporter.go writes as junit.xml).
 */
import type { SpecResult } from './runner.js';

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export function countResults(results: readonly SpecResult[]): Counts {
  const c: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) c[r.status]++;
  return c;
}

/** "Pull / Pull manifests / HEAD request to …" — the ginkgo full text of a spec. */
export function specTitle(r: SpecResult): string {
  return [...r.path, r.name].join(' / ');
}

export function textReport(results: readonly SpecResult[], warnings: readonly string[] = []): string {
  const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' } as const;
  const lines = results.map(
    (r) => `${mark[r.status]} ${specTitle(r)}${r.status === 'failed' ? `\n       ${r.message}` : ''}`,
  );
  for (const w of warnings) lines.push(`WARNING: ${w}`);
  const c = countResults(results);
  lines.push(
    `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped (${c.passed + c.failed} run of ${results.length} specs)`,
  );
  return lines.join('\n');
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export function junitReport(results: readonly SpecResult[], suiteName = 'OCI Distribution Conformance Tests'): string {
  const c = countResults(results);
  const cases = results.map((r) => {
    const open = `    <testcase name="${xml(specTitle(r))}" classname="${xml(r.path[0] ?? '')}">`;
    if (r.status === 'failed')
      return `${open}\n      <failure message="${xml(r.message ?? '')}"></failure>\n    </testcase>`;
    if (r.status === 'skipped')
      return `${open}\n      <skipped message="${xml(r.message ?? '')}"></skipped>\n    </testcase>`;
    return `${open}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${c.failed}" skipped="${c.skipped}">`,
    `  <testsuite name="${xml(suiteName)}" tests="${results.length}" failures="${c.failed}" skipped="${c.skipped}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
