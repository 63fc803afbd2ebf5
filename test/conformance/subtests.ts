/**
 * node:test glue for the conformance port: one subtest per spec, so a run
 * reports spec by spec; a spec the suite itself skips is shown as skipped
 * with the suite's reason. `expectedFailures` maps spec titles to why the
 * registry is known to fail them: those must fail (so the list stays honest),
 * every other spec that runs must pass.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { specTitle, type ConformanceReport } from './index.js';

export async function reportSpecs(
  t: TestContext,
  report: ConformanceReport,
  expectedFailures: ReadonlyMap<string, string> = new Map(),
): Promise<void> {
  const titles = new Set(report.results.map(specTitle));
  for (const title of expectedFailures.keys()) assert.ok(titles.has(title), `expected failure names no spec: ${title}`);
  for (const r of report.results) {
    const title = specTitle(r);
    const known = expectedFailures.get(title);
    await t.test(title, (st) => {
      if (r.status === 'skipped') {
        assert.equal(known, undefined, `${title} is listed as a known failure but did not run`);
        st.skip(r.message ?? 'skipped by the suite');
        return;
      }
      if (known !== undefined) {
        assert.equal(r.status, 'failed', `listed as a known failure (${known}) but passed: take it off the list`);
        st.diagnostic(`fails as expected: ${known} — ${r.message}`);
        return;
      }
      if (r.status === 'failed') assert.fail(r.message);
    });
  }
  for (const w of report.warnings) t.diagnostic(`WARNING: ${w}`);
}
