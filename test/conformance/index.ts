/**
 * A TypeScript port of the OCI distribution-spec conformance suite, v1.1.x
 * (opencontainers/distribution-spec, conformance/: setup.go, 01_pull_test.go,
 * 02_push_test.go, 03_discovery_test.go, 04_management_test.go, image.go,
 * reporter.go): the same specs, in the same order, with the same requests and
 * the same assertions, runnable against any registry URL.
 *
 *   const report = await runConformance('http://127.0.0.1:5000', { namespace: 'conformance/repo' });
 *   report.results   // one entry per spec: path, name, passed | failed | skipped, message
 *   report.text()    // what a console reporter prints
 *
 * It knows nothing of a test runner: callers decide what a failure means (the
 * Stowage tests assert every spec passes; the Distribution test asserts the
 * known failures fail). To run it through a load balancer in front of several
 * replicas, pass the balancer's URL: every request is a separate HTTP request
 * on a keep-alive pool, uploads follow the Location the server returns, and no
 * state is kept in the client beyond what the spec itself keeps — so a PATCH
 * can land on a different replica than its POST, as with any real client.
 * From the shell, `node dist/test/conformance/main.js` reads the same OCI_*
 * environment variables as the Go suite (see options.ts).
 */
import { Context } from './context.js';
import { discoveryWorkflow } from './discovery.js';
import { managementWorkflow } from './management.js';
import { WORKFLOWS, type ConformanceOptions, type Workflow } from './options.js';
import { pullWorkflow } from './pull.js';
import { pushWorkflow } from './push.js';
import { countResults, junitReport, textReport, type Counts } from './reporter.js';
import { SpecTree, type SpecResult } from './runner.js';

export type { ConformanceOptions, Workflow } from './options.js';
export { optionsFromEnv } from './options.js';
export type { SpecResult, SpecStatus } from './runner.js';
export { specTitle } from './reporter.js';

export interface ConformanceReport {
  results: SpecResult[];
  /** Things the registry does not support that the suite tolerates. */
  warnings: string[];
  counts: Counts;
  text(): string;
  junit(): string;
}

export interface RunHooks {
  /** Called after each spec, in order. */
  onResult?: (r: SpecResult) => void;
}

const DEFINE: Record<Workflow, (t: SpecTree, c: Context) => void> = {
  pull: pullWorkflow,
  push: pushWorkflow,
  contentDiscovery: discoveryWorkflow,
  contentManagement: managementWorkflow,
};

/** The skip report of setup.go's SkipIfDisabled. */
function skipReport(enabled: Partial<Record<Workflow, boolean>>): string {
  const settings = WORKFLOWS.map((w) => `${w}=${enabled[w] ? 'on' : 'off'}`).join(', ');
  return `you have skipped this test; if this is an error, check your settings: ${settings}`;
}

/** Runs the four workflows in order (Pull, Push, Content Discovery, Content Management). */
export async function runConformance(
  baseUrl: string,
  options: ConformanceOptions,
  hooks: RunHooks = {},
): Promise<ConformanceReport> {
  if (!options.namespace) throw new Error('a namespace (OCI_NAMESPACE) is required');
  const enabled: Partial<Record<Workflow, boolean>> = {};
  for (const w of WORKFLOWS) enabled[w] = options.workflows?.[w] ?? true;
  const ctx = new Context(baseUrl, options);
  const results: SpecResult[] = [];
  try {
    for (const w of WORKFLOWS) {
      const tree = new SpecTree();
      DEFINE[w](tree, ctx);
      results.push(...(await tree.run((r) => hooks.onResult?.(r), enabled[w] ? undefined : skipReport(enabled))));
    }
  } finally {
    ctx.client.close();
  }
  return {
    results,
    warnings: ctx.warnings,
    counts: countResults(results),
    text: () => textReport(results, ctx.warnings),
    junit: () => junitReport(results),
  };
}
