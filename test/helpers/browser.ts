/**
 * Debian's chromium, driven by playwright-core (which cannot download browsers
 * here), and axe-core injected into the page. A missing chromium fails the test
 * that needs it: scripts/test.sh installs it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requireTool } from './tools.js';

/** Debian's build (playwright's own builds cannot be downloaded here). */
export const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  assert.equal(requireTool('chromium'), CHROMIUM, 'Debian installs chromium as /usr/bin/chromium');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

/**
 * Runs axe-core on the page as it is now; returns the serious and critical
 * violations. The source is evaluated through the DevTools protocol, which the
 * page's CSP (script-src 'self') does not govern, so the UI keeps its real CSP.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axeSource);
  const violations = (await page.evaluate(`window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, html: n.html.slice(0, 200) })),
  })))`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Fails with axe's own words when the page has a serious or critical accessibility problem. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const bad = await axeViolations(page);
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `${what}: accessibility violations`,
  );
}
