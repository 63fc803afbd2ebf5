/**
 * First paint of the web UI's repository page with 1,000 tags (issue 16: under
 * 1 s on this machine). Starts `stowage serve` (no auth, fsync off for a quick
 * seed), pushes one small image under 1,000 semver tags through /v2/, then loads
 * /r/bench/app in Debian's chromium, each run in a fresh browser context (cold
 * cache), and reads two times from the page's own clock, from navigation start:
 * first contentful paint, and the frame in which the tag rows were painted.
 *
 *   node dist/bench/ui-first-paint.js [--tags 1000] [--runs 7]
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { launchChromium } from '../test/helpers/browser.js';
import { startStowage } from '../test/helpers/server.js';

const { values } = parseArgs({
  options: { tags: { type: 'string', default: '1000' }, runs: { type: 'string', default: '7' } },
});
const TAGS = Number(values.tags);
const RUNS = Number(values.runs);
const REPO = 'bench/app';

function digest(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

async function ok(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

async function seed(url: string): Promise<void> {
  const layer = Buffer.from('a layer of the first-paint benchmark\n');
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: [digest(layer)] },
    }),
  );
  for (const blob of [layer, config]) {
    await ok(
      await fetch(`${url}/v2/${REPO}/blobs/uploads/?digest=${digest(blob)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: blob,
      }),
      'blob upload',
    );
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(layer), size: layer.length }],
  });
  for (let i = 0; i < TAGS; i++) {
    const tag = `1.${Math.floor(i / 100)}.${i % 100}`;
    await ok(
      await fetch(`${url}/v2/${REPO}/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
        body: manifest,
      }),
      `tag ${tag}`,
    );
  }
}

/** Records, in the page, the frame after the first tag row is in the document. */
const WATCH_ROWS = `
  new MutationObserver((_, observer) => {
    if (!document.querySelector('tr[data-tag]')) return;
    observer.disconnect();
    requestAnimationFrame(() => { window.__rowsPainted = performance.now(); });
  }).observe(document, { childList: true, subtree: true });
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const registry = await startStowage({ env: { STOWAGE_FSYNC: 'false', STOWAGE_LOG_LEVEL: 'warn' } });
  const browser = await launchChromium();
  try {
    await seed(registry.url);
    const fcp: number[] = [];
    const rows: number[] = [];
    let shown = 0;
    // One warm-up run: the server's first queries and chromium's first start are not what a user sees twice.
    for (let run = 0; run <= RUNS; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.addInitScript(WATCH_ROWS);
      await page.goto(`${registry.url}/r/${REPO}`);
      // A function, not a string: the page's CSP (no 'unsafe-eval') refuses evaluated strings.
      await page.waitForFunction(
        () => (window as unknown as { __rowsPainted?: number }).__rowsPainted !== undefined,
        undefined,
        {
          timeout: 30_000,
        },
      );
      const t = (await page.evaluate(`({
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
        rows: window.__rowsPainted,
        shown: document.querySelectorAll('tr[data-tag]').length,
      })`)) as { fcp: number; rows: number; shown: number };
      await context.close();
      if (run === 0) continue;
      fcp.push(t.fcp);
      rows.push(t.rows);
      shown = t.shown;
    }
    const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
    console.log(`repository page, ${TAGS} tags (${shown} rows on the first page), ${RUNS} cold runs:`);
    console.log(`  first contentful paint: ${fmt(fcp)}`);
    console.log(`  tag rows painted:       ${fmt(rows)}`);
  } finally {
    await browser.close();
    await registry.stop();
  }
}

await main();
