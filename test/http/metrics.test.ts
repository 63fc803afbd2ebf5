/** GET /metrics: the Prometheus exposition, its series and labels, token and separate listener. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readEnv, resolveConfig, type ServeConfig } from '../../src/config/config.js';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { assertError, pushBlob, pushImage, repoName, req } from './helpers.js';

/** `name{labels} value` lines of an exposition, labels as written. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const hit = samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit?.value;
}

describe('metrics: off by default', () => {
  let s: InProcessStowage;
  before(async () => (s = await startInProcess({ fsync: false })));
  after(async () => s.stop());
  it('GET /metrics is 404 NOT_FOUND', async () => {
    assertError(await req(s.url, 'GET', '/metrics'), 404, 'UNSUPPORTED');
  });
});

describe('metrics: on the registry address', () => {
  let s: InProcessStowage;
  const repo = repoName('metrics');
  before(async () => (s = await startInProcess({ fsync: false, metrics: { enabled: true } })));
  after(async () => s.stop());

  it('counts requests by route template, method and status, never by raw path', async () => {
    const blob = Buffer.alloc(50_000, 7);
    await pushBlob(s.url, repo, blob);
    const pushed = await pushImage(s.url, repo, 'v1');
    assert.equal((await req(s.url, 'GET', `/v2/${repo}/manifests/v1`)).status, 200);
    assert.equal((await req(s.url, 'HEAD', `/v2/${repo}/manifests/${pushed.digest}`)).status, 200);
    assert.equal((await req(s.url, 'GET', `/v2/${repo}/manifests/nope`)).status, 404);
    assert.equal((await req(s.url, 'GET', '/no/such/path')).status, 404);
    const res = await req(s.url, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = res.text;
    assert.equal(value(text, 'registry_http_requests_total', { handler: 'manifest', method: 'PUT', code: '201' }), 1);
    assert.equal(value(text, 'registry_http_requests_total', { handler: 'manifest', method: 'GET', code: '200' }), 1);
    assert.equal(value(text, 'registry_http_requests_total', { handler: 'manifest', method: 'HEAD', code: '200' }), 1);
    assert.equal(value(text, 'registry_http_requests_total', { handler: 'manifest', method: 'GET', code: '404' }), 1);
    assert.equal(value(text, 'registry_http_requests_total', { handler: 'none', method: 'GET', code: '404' }), 1);
    assert.equal(
      value(text, 'registry_http_requests_total', { handler: 'blob_upload', method: 'POST', code: '201' }),
      3,
    );
    assert.equal(
      value(text, 'registry_http_request_duration_seconds_count', { handler: 'manifest', method: 'PUT', code: '201' }),
      1,
    );
    assert.equal(
      value(text, 'registry_http_request_duration_seconds_bucket', {
        handler: 'manifest',
        method: 'PUT',
        code: '201',
        le: '+Inf',
      }),
      1,
    );
    for (const sample of samples(text)) {
      if (sample.labels.handler !== undefined)
        assert.doesNotMatch(sample.labels.handler, /\/|metrics-/, `raw path as a label: ${sample.name}`);
    }
    // This scrape is in flight while it renders.
    assert.equal(value(text, 'registry_http_in_flight_requests', { handler: 'metrics' }), 1);
    assert.equal(value(text, 'stowage_uploads_in_flight'), 0);
    assert.ok((value(text, 'stowage_http_received_bytes_total', { handler: 'blob_upload' }) ?? 0) >= blob.length);
    assert.ok((value(text, 'stowage_http_sent_bytes_total', { handler: 'manifest' }) ?? 0) >= pushed.size);
    assert.ok((value(text, 'stowage_metadata_query_duration_seconds_count', { operation: 'putManifest' }) ?? 0) >= 1);
    assert.ok((value(text, 'process_cpu_seconds_total') ?? -1) >= 0);
    assert.ok(value(text, 'nodejs_eventloop_lag_seconds') !== undefined);
  });
});

describe('metrics: storage totals', () => {
  let s: InProcessStowage;
  before(async () => (s = await startInProcess({ fsync: false, metrics: { enabled: true } })));
  after(async () => s.stop());

  it('exports namespace bytes, blob and manifest counts from the maintained totals', async () => {
    const pushed = await pushImage(s.url, 'acme/app', 'v1');
    await pushImage(s.url, 'acme/tools/x', 'v1');
    const text = (await req(s.url, 'GET', '/metrics')).text;
    assert.equal(value(text, 'stowage_namespace_manifests', { namespace: 'acme' }), 2);
    assert.ok((value(text, 'stowage_namespace_bytes', { namespace: 'acme' }) ?? 0) >= 2 * pushed.size);
    assert.ok((value(text, 'stowage_namespace_blob_links', { namespace: 'acme' }) ?? 0) >= 2);
    assert.ok((value(text, 'stowage_blobs') ?? 0) >= 1);
    assert.equal(value(text, 'stowage_manifests'), 2);
  });
});

// A separate registry: a collector every 50 ms with no grace period would take
// the other test's layers between their upload and their manifest.
describe('metrics: garbage collection', () => {
  let s: InProcessStowage;
  before(
    async () =>
      (s = await startInProcess({
        fsync: false,
        metrics: { enabled: true },
        gc: { interval: '50ms', grace_period: 0 } as unknown as ServeConfig['gc'],
      })),
  );
  after(async () => s.stop());

  it('counts scheduled collections, their duration and the bytes they reclaim', async () => {
    const orphan = Buffer.alloc(12_345, 9);
    // With no grace period the collector may take the blob between the upload's claim
    // and its link: the fence then refuses the commit ("push it again"), as a client would.
    let digest = '';
    for (let attempt = 0; !digest; attempt++) {
      try {
        ({ digest } = await pushBlob(s.url, 'gcme', orphan));
      } catch (err) {
        if (attempt >= 20 || !String(err).includes('BLOB_UPLOAD_INVALID')) throw err;
      }
    }
    assert.equal((await req(s.url, 'DELETE', `/v2/gcme/blobs/${digest}`)).status, 202);
    let text = '';
    // The collector runs every 50 ms: wait for the one that takes the unlinked blob.
    for (let i = 0; i < 2400; i++) {
      text = (await req(s.url, 'GET', '/metrics')).text;
      if ((value(text, 'stowage_gc_reclaimed_bytes_total') ?? 0) >= orphan.length) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok((value(text, 'stowage_gc_reclaimed_bytes_total') ?? 0) >= orphan.length, text);
    assert.ok((value(text, 'stowage_gc_removed_total', { kind: 'blobs' }) ?? 0) >= 1);
    assert.ok((value(text, 'stowage_gc_runs_total', { result: 'completed' }) ?? 0) >= 1);
    assert.ok((value(text, 'stowage_gc_duration_seconds_count') ?? 0) >= 1);
  });
});

describe('metrics: bearer token and a separate listener', () => {
  let s: InProcessStowage;
  before(
    async () =>
      (s = await startInProcess({
        fsync: false,
        metrics: { enabled: true, address: '127.0.0.1:0', bearerToken: 's3cret-scrape' },
      })),
  );
  after(async () => s.stop());

  it('the registry address does not serve /metrics', async () => {
    assertError(await req(s.url, 'GET', '/metrics'), 404, 'UNSUPPORTED');
  });

  it('the metrics address wants the exact bearer token and serves only /metrics', async () => {
    const m = `http://${s.metricsAddress}`;
    assert.ok(s.metricsAddress);
    const none = await req(m, 'GET', '/metrics');
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer /);
    assert.equal((await req(m, 'GET', '/metrics', { headers: { Authorization: 'Bearer s3cret-scrapf' } })).status, 401);
    assert.equal(
      (await req(m, 'GET', '/metrics', { headers: { Authorization: 'Bearer s3cret-scrape-' } })).status,
      401,
    );
    assert.equal((await req(m, 'GET', '/v2/', { headers: { Authorization: 'Bearer s3cret-scrape' } })).status, 404);
    assert.equal((await req(s.url, 'GET', '/v2/')).status, 200);
    const ok = await req(m, 'GET', '/metrics', { headers: { Authorization: 'Bearer s3cret-scrape' } });
    assert.equal(ok.status, 200);
    assert.equal(value(ok.text, 'registry_http_requests_total', { handler: 'base', method: 'GET', code: '200' }), 1);
    assert.doesNotMatch(ok.text, /s3cret/);
  });
});

describe('metrics: config', () => {
  it('reads STOWAGE_METRICS_* over the file section, key by key', () => {
    const c = resolveConfig(
      { metrics: { enabled: false, address: '127.0.0.1:9100', bearer_token: 'from-file' } },
      readEnv({ STOWAGE_METRICS_ENABLED: 'true', STOWAGE_METRICS_BEARER_TOKEN: 'from-env' }),
      {},
    );
    assert.deepEqual(c.metrics, { enabled: true, address: '127.0.0.1:9100', bearerToken: 'from-env' });
    assert.deepEqual(resolveConfig({}, {}, {}).metrics, { enabled: false });
    assert.throws(
      () => resolveConfig({ metrics: { enabled: true, bearer_token: 'a', bearer_token_file: 'b' } }, {}, {}),
      /not both/,
    );
    assert.throws(() => resolveConfig({ metrics: { enable: true } }, {}, {}), /unknown setting "enable"/);
  });
});
