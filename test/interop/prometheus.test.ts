/**
 * A real Prometheus (Debian's `prometheus`, scripts/services/prometheus.sh) scrapes
 * Stowage on loopback; after a push, its HTTP API must return the series.
 */
import assert from 'node:assert/strict';
import { writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startInProcess, type InProcessStowage } from '../helpers/server.js';
import { prometheus } from '../helpers/services.js';
import { pushImage, repoName } from '../http/helpers.js';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, promql: string): Promise<Sample[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] }; error?: string };
  assert.equal(body.status, 'success', body.error);
  return body.data.result;
}

/** Polls Prometheus until `promql` returns a sample (it scrapes every second), up to 60 s. */
async function eventually(base: string, promql: string): Promise<Sample[]> {
  for (let i = 0; i < 240; i++) {
    const result = await query(base, promql);
    if (result.length > 0) return result;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Prometheus never returned ${promql}`);
}

describe('metrics scraped by a real Prometheus', () => {
  let s: InProcessStowage;
  let prom: { url: string; dir: string };
  const target = `stowage-${process.pid}`;
  const repo = `promns/${repoName('app')}`;
  before(async () => {
    prom = await prometheus();
    s = await startInProcess({ fsync: false, metrics: { enabled: true } });
    await writeFile(
      join(prom.dir, 'targets', `${target}.json`),
      JSON.stringify([{ targets: [s.host], labels: { stowage_test: target } }]),
    );
  });
  after(async () => {
    await rm(join(prom.dir, 'targets', `${target}.json`), { force: true });
    await s.stop();
  });

  it('has the push in registry_http_requests_total, storage and process series', async () => {
    const pushed = await pushImage(s.url, repo, 'v1');
    const sel = `stowage_test="${target}"`;
    const up = await eventually(prom.url, `up{${sel}} == 1`);
    assert.equal(up[0]!.metric.job, 'stowage');
    const puts = await eventually(
      prom.url,
      `registry_http_requests_total{${sel},handler="manifest",method="PUT",code="201"} >= 1`,
    );
    assert.equal(puts[0]!.value[1], '1');
    const bytes = await eventually(prom.url, `stowage_namespace_bytes{${sel},namespace="promns"} > 0`);
    assert.ok(Number(bytes[0]!.value[1]) >= pushed.size);
    await eventually(prom.url, `stowage_namespace_manifests{${sel},namespace="promns"} == 1`);
    await eventually(prom.url, `registry_http_request_duration_seconds_count{${sel},handler="manifest"}`);
    await eventually(prom.url, `process_resident_memory_bytes{${sel}} > 0`);
  });
});
