/**
 * Command-line entry, like the Go suite's binary: reads OCI_* variables, runs,
 * prints one line per spec, writes junit.xml to OCI_REPORT_DIR (unless
 * "none"), exits 1 when a spec failed.
 *
 *   OCI_ROOT_URL=http://127.0.0.1:5000 OCI_NAMESPACE=myorg/myrepo OCI_TEST_PULL=1 \
 *     OCI_TEST_PUSH=1 node dist/test/conformance/main.js
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { optionsFromEnv, runConformance } from './index.js';

const { rootUrl, options } = optionsFromEnv();
const report = await runConformance(rootUrl, options);
process.stdout.write(`${report.text()}\n`);
const dir = process.env.OCI_REPORT_DIR ?? '.';
if (dir !== 'none') await writeFile(join(dir, 'junit.xml'), report.junit());
process.exitCode = report.counts.failed > 0 ? 1 : 0;
