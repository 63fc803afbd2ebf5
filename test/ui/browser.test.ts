/**
 * The web UI in a real browser (Debian's chromium, playwright-core), against a real
 * `stowage serve` with token auth on and content pushed with the `stowage` CLI:
 * anonymous browsing, sign in, each kind of artifact, a verified signature, a
 * delete, and a chart whose README tries to run script. axe-core checks each main
 * page for serious or critical accessibility problems.
 *
 * STOWAGE_UI_SCREENSHOTS=1 (`npm run screenshots`) also saves the main pages as
 * docs/ui/*.png; CI leaves them as they are.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { assertAccessible, launchChromium } from '../helpers/browser.js';
import { removeDir } from '../helpers/tools.js';
import { PASSWORD, startUiFixture, type UiFixture } from './ui-fixtures.js';

const SCREENSHOTS = process.env.STOWAGE_UI_SCREENSHOTS === '1';
const DOCS_UI = fileURLToPath(new URL('../../../docs/ui/', import.meta.url));
const TIMEOUT = 15_000;

let fx: UiFixture;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Dialogs (alert, confirm, prompt) the page opened: script from pushed content must never get to. */
const dialogs: string[] = [];
const pageErrors: string[] = [];

async function newPage(ctx: BrowserContext): Promise<Page> {
  const p = await ctx.newPage();
  p.setDefaultTimeout(TIMEOUT);
  p.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  return p;
}

async function shot(p: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(DOCS_UI, { recursive: true });
  await p.screenshot({ path: `${DOCS_UI}${name}.png`, fullPage: false });
}

/** Waits for the page (client-rendered) to finish: the heading is there and main is not busy. */
async function settled(p: Page): Promise<void> {
  await p.locator('main[aria-busy="false"] #page-title').waitFor();
}

async function openRepository(name: string): Promise<void> {
  await page.goto(`${fx.registry.url}/`);
  await settled(page);
  await page.getByLabel('Search').fill(name);
  await page.locator('tbody th a', { hasText: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`) }).click();
  await settled(page);
  await page.locator('#page-title', { hasText: name }).waitFor();
}

async function openTag(tag: string): Promise<void> {
  await page.locator(`tr[data-tag="${tag}"] th a`).click();
  await settled(page);
  await page.locator('#overview').waitFor();
}

before(async () => {
  fx = await startUiFixture();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await newPage(context);
});

after(async () => {
  await browser?.close();
  await fx?.registry.stop();
  if (fx) await removeDir(fx.dir);
});

describe('the web UI in chromium', () => {
  test('anonymous: only public repositories, and a private one is not found', async () => {
    const anon = await browser.newContext();
    try {
      const p = await newPage(anon);
      await p.goto(`${fx.registry.url}/`);
      await settled(p);
      await p.locator('tbody th a', { hasText: 'library/public' }).waitFor();
      const names = await p.locator('tbody th a').allTextContents();
      assert.deepEqual(names, ['library/public']);
      assert.equal(await p.getByRole('link', { name: 'Sign in' }).count(), 1);
      await assertAccessible(p, 'repositories (anonymous)');
      await p.goto(`${fx.registry.url}/r/alice/app`);
      await settled(p);
      assert.equal(await p.locator('#page-title').textContent(), 'Not found');
      assert.equal(await p.locator('main').getByText('v1', { exact: true }).count(), 0);
    } finally {
      await anon.close();
    }
  });

  test('sign in with the registry user, then see her repositories', async () => {
    await page.goto(`${fx.registry.url}/signin`);
    await settled(page);
    await assertAccessible(page, 'sign in');
    await shot(page, 'signin');
    await page.getByLabel('User name').fill('alice');
    await page.getByLabel('Password or access token').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Wrong user name or password.').waitFor();
    await page.getByLabel('Password or access token').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as').waitFor();
    await settled(page);
    await page.locator('tbody th a', { hasText: 'alice/app' }).waitFor();
    const names = await page.locator('tbody th a').allTextContents();
    for (const n of [
      'alice/app',
      'alice/multi',
      'alice/charts/hello',
      'alice/manifests',
      'alice/policy',
      'library/public',
    ])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    await assertAccessible(page, 'repositories');
    await shot(page, 'repositories');
    // The kind filter runs on the server.
    await page.getByLabel('Kind').selectOption('helm-chart');
    await page.locator('tbody th a', { hasText: 'alice/app' }).waitFor({ state: 'detached' });
    const charts = await page.locator('tbody th a').allTextContents();
    assert.deepEqual(charts.sort(), ['alice/charts/evil', 'alice/charts/hello']);
  });

  test('an image: tags, signed badge, pull commands, config, layers, history, verified signature', async () => {
    await openRepository('alice/app');
    const v1 = page.locator('tr[data-tag="v1"]');
    await v1.waitFor();
    assert.match((await v1.textContent())!, /Signed/);
    assert.match((await v1.textContent())!, /Container image/);
    const commands = await page.locator('.commands code').allTextContents();
    assert.ok(
      commands.includes(`docker pull ${fx.host}/alice/app:v1`) ||
        commands.some((c) => c.startsWith(`docker pull ${fx.host}/alice/app`)),
      commands.join('\n'),
    );
    assert.ok(await page.getByRole('button', { name: /^Copy digest of v1$/ }).isVisible());
    await assertAccessible(page, 'repository');
    await shot(page, 'repository');

    await openTag('v1');
    await page.locator('#config').getByText('/app/bin/serve', { exact: false }).waitFor();
    assert.match((await page.locator('#config').textContent())!, /MODE=production/);
    assert.equal(await page.locator('#layers tbody tr').count(), 2);
    assert.ok((await page.locator('#history tbody tr').count()) >= 2);
    await page.locator('#referrers .badge', { hasText: 'Verified' }).first().waitFor();
    await assertAccessible(page, 'image');
    await shot(page, 'image');
    // The raw manifest, for anyone who wants it.
    await page.getByText('Manifest JSON', { exact: true }).click();
    assert.match((await page.locator('pre[aria-label="Manifest JSON"]').textContent())!, /"schemaVersion": 2/);
    await page.getByText(/^Config JSON/).click();
    await page.locator('pre[aria-label="Config JSON"]').waitFor();
    assert.match((await page.locator('pre[aria-label="Config JSON"]').textContent())!, /"architecture"/);
  });

  test('the signature, from its own page, links back to its subject', async () => {
    // The Sigstore bundle referrer (the legacy .sig tag's manifest has no subject field).
    const link = page.locator('#referrers tbody tr').filter({ hasNotText: '(tag ' }).first().locator('a').first();
    await link.click();
    await settled(page);
    await page.locator('#overview').getByText('Subject').waitFor();
    await page.locator('#overview a', { hasText: /^sha256:/ }).click();
    await settled(page);
    await page.locator('#layers').waitFor();
  });

  test('a multi-arch index: its platforms, each a link to its image', async () => {
    await openRepository('alice/multi');
    assert.match((await page.locator('tr[data-tag="v1"]').textContent())!, /Multi-arch index/);
    await openTag('v1');
    const platforms = await page.locator('#platforms tbody tr td:first-child').allTextContents();
    assert.deepEqual(platforms, ['linux/amd64', 'linux/arm64/v8']);
    await assertAccessible(page, 'index');
    await shot(page, 'index');
    await page.locator('#platforms tbody tr').nth(1).locator('a').click();
    await settled(page);
    await page.locator('#config').getByText('linux/arm64').waitFor();
  });

  test('a Helm chart: Chart.yaml fields, README rendered, values.yaml highlighted', async () => {
    await openRepository('alice/charts/hello');
    assert.ok((await page.locator('.commands code').allTextContents()).some((c) => c.startsWith('helm pull oci://')));
    await openTag('0.1.0');
    await page.locator('#readme h1, #readme h2', { hasText: 'Hello chart' }).first().waitFor();
    assert.equal(await page.locator('#readme strong', { hasText: 'hello' }).count(), 1);
    assert.match((await page.locator('#chart').textContent())!, /0\.1\.0/);
    assert.ok((await page.locator('#values pre .tok-key').count()) > 5, 'values.yaml keys highlighted');
    assert.match((await page.locator('#values pre').textContent())!, /replicaCount: 1/);
    await assertAccessible(page, 'chart');
    await shot(page, 'chart');
  });

  test('a Flux artifact: source, revision, and a file opened from its tree', async () => {
    await openRepository('alice/manifests');
    await openTag('v1');
    const flux = (await page.locator('#flux').textContent())!;
    assert.match(flux, /https:\/\/github\.com\/alice\/gitops/);
    assert.match(flux, /main@sha1:0123456789abcdef/);
    await assertAccessible(page, 'flux artifact');
    await page.getByRole('link', { name: 'Browse the files' }).click();
    await settled(page);
    await page.getByRole('link', { name: 'deployment.yaml' }).click();
    await settled(page);
    await page.locator('.file pre', { hasText: 'kind: Deployment' }).waitFor();
    assert.equal(await page.locator('.tree a[aria-current="page"]').textContent(), 'deployment.yaml');
    await assertAccessible(page, 'files');
    await shot(page, 'flux-files');
  });

  test('an OPA bundle: roots, rego files and data, a rego file viewable', async () => {
    await openRepository('alice/policy');
    await openTag('v1');
    const opa = (await page.locator('#opa').textContent())!;
    assert.match(opa, /authz/);
    await assertAccessible(page, 'policy');
    await shot(page, 'policy');
    await page.locator('#opa a', { hasText: /policy\.rego$/ }).click();
    await settled(page);
    await page.locator('.file pre', { hasText: 'package authz' }).waitFor();
  });

  test('a chart whose README carries script renders inert', async () => {
    await openRepository('alice/charts/evil');
    await openTag('0.1.0');
    await page.locator('#readme').getByText('Plain text survives.').waitFor();
    // Give anything that would fire (onerror, a late script) the chance to.
    await page.waitForLoadState('networkidle');
    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.equal(await page.evaluate('window.__xss'), undefined);
    assert.equal(
      await page.locator('#readme script, #readme iframe, #readme [onerror], #readme [onmouseover]').count(),
      0,
    );
    assert.equal(await page.locator('a[href^="javascript:" i]').count(), 0);
    // Chart.yaml and values.yaml are text: the markup in them is shown, not run.
    assert.match((await page.locator('#chart').textContent())!, /<img src=x onerror=alert\('description'\)>/);
    assert.match((await page.locator('#values pre').textContent())!, /<script>alert\('values'\)<\/script>/);
    assert.equal(await page.locator('main script, main img[onerror]').count(), 0);
    assert.deepEqual(dialogs, []);
  });

  test('delete a tag (confirmed in a dialog) and see it gone', async () => {
    await openRepository('alice/app');
    const row = page.locator('tr[data-tag="old"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Delete tag old' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.match((await dialog.textContent())!, /alice\/app:old/);
    await assertAccessible(page, 'delete dialog');
    // Cancel first: nothing happens.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await row.count(), 1);
    await row.getByRole('button', { name: 'Delete tag old' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete tag' }).click();
    await row.waitFor({ state: 'detached' });
    await page.reload();
    await settled(page);
    await page.locator('tr[data-tag="v1"]').waitFor();
    assert.equal(await page.locator('tr[data-tag="old"]').count(), 0);
    // The registry agrees.
    const listed = await fx.stowage(['inspect', `${fx.host}/alice/app:old`]).then(
      () => 'found',
      () => 'gone',
    );
    assert.equal(listed, 'gone');
  });

  test('sign out: back to anonymous', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await settled(page);
    assert.deepEqual(await page.locator('tbody th a').allTextContents(), ['library/public']);
  });

  test('no script error on any page', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(dialogs, []);
  });
});
