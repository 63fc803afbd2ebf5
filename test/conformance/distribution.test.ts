/**
 * The conformance port checked against a reference implementation: Debian's
 * CNCF Distribution 2.8 (`docker-registry`). Every spec must pass there except
 * the ones Distribution 2.8 is known to fail, listed below with the reason;
 * those must fail, so the list stays honest (a spec that starts passing has to
 * come off it). A port that sent wrong requests or checked the wrong things
 * would show up here as an unexpected failure or an unexpected pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startDistribution } from '../helpers/distribution.js';
import { runConformance } from './index.js';
import { reportSpecs } from './subtests.js';

const REFERRERS =
  'Distribution 2.8 predates the referrers API (GET /v2/<name>/referrers/<digest> is 404 page not found)';
const TAG_PAGING =
  'Distribution 2.8 lists tags in storage order and ignores `n` without `last` (sorted, paged tag lists came in 3.0)';
const STALE_STATE =
  "Distribution 2.8 keeps the upload state in the Location URL (_state); the POST's stale Location is refused with 404 BLOB_UPLOAD_INVALID";

const KNOWN_FAILURES = new Map<string, string>([
  [
    'Pull / Error codes / 400 response body should contain OCI-conforming JSON message',
    'Distribution 2.8 answers GET manifests/sha256:totallywrong with 500 UNKNOWN (it looks the digest up as a tag path)',
  ],
  [
    'Push / Blob Upload Chunked / Out-of-order blob upload should return 416',
    'Distribution 2.8 ignores Content-Range on PATCH and appends the chunk (202)',
  ],
  ['Push / Blob Upload Chunked / Retry previous blob chunk should return 416', STALE_STATE],
  ['Push / Blob Upload Chunked / Get on stale blob upload should return 204 with a range and location', STALE_STATE],
  [
    'Content Discovery / Test content discovery endpoints (listing tags) / GET request to list tags should yield 200 response and be in sorted order',
    TAG_PAGING,
  ],
  [
    'Content Discovery / Test content discovery endpoints (listing tags) / GET number of tags should be limitable by `n` query parameter',
    TAG_PAGING,
  ],
  [
    'Content Discovery / Test content discovery endpoints (listing tags) / GET start of tag is set by `last` query parameter',
    TAG_PAGING,
  ],
  [
    'Content Discovery / Test content discovery endpoints (listing references) / GET request to nonexistent blob should result in empty 200 response',
    REFERRERS,
  ],
  [
    'Content Discovery / Test content discovery endpoints (listing references) / GET request to existing blob should yield 200',
    REFERRERS,
  ],
  [
    'Content Discovery / Test content discovery endpoints (listing references) / GET request to existing blob with filter should yield 200',
    REFERRERS,
  ],
  [
    'Content Discovery / Test content discovery endpoints (listing references) / GET request to missing manifest should yield 200',
    REFERRERS,
  ],
  [
    'Content Management / Manifest delete / DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)',
    'Distribution 2.8 refuses deleting a tag with 400 DIGEST_INVALID; the spec allows 400 only with UNSUPPORTED',
  ],
]);

describe('OCI conformance port against CNCF Distribution 2.8 (reference implementation)', () => {
  it('passes every spec but the known Distribution 2.8 failures, which fail', async (t) => {
    const d = await startDistribution({ deleteEnabled: true });
    try {
      const report = await runConformance(d.url, {
        namespace: 'conformance/repo',
        crossmountNamespace: 'conformance/cross',
      });
      await reportSpecs(t, report, KNOWN_FAILURES);
      assert.equal(report.counts.failed, KNOWN_FAILURES.size);
      assert.deepEqual(report.counts, { passed: 57, failed: 12, skipped: 5 });
    } finally {
      await d.stop();
    }
  });
});
