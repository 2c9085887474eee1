import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitUntil } from '../support/subscriber';

/** A portal page in a fresh browser context, recording what it requested and what went wrong in it. */
export interface PortalPage {
  page: Page;
  context: BrowserContext;
  /** Every URL the page requested. */
  requested: string[];
  /** Page errors, console errors and CSP violations. */
  problems: string[];
  close(): Promise<void>;
}

export async function openPortal(browser: Browser, link: string): Promise<PortalPage> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const requested: string[] = [];
  const problems: string[] = [];
  page.on('request', (req) => requested.push(req.url()));
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A refused API call logs "Failed to load resource": the page shows those as messages itself.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${msg.text()}`);
    }
  });
  // Browser code as a string: this project's TypeScript has no DOM types.
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (e) =>
      console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
  });
  await page.goto(link);
  return { page, context, requested, problems, close: () => context.close() };
}

/** The names of the buttons and the link-buttons the page shows now. */
export async function controlsOf(page: Page): Promise<string[]> {
  const buttons = await page.getByRole('button').allInnerTexts();
  const linkButtons = await page.locator('a.button').allInnerTexts();
  return [...buttons, ...linkButtons].map((t) => t.trim()).sort();
}

/** Form controls with no accessible name from a label or aria-label (should be none). */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.$$eval('input, select, textarea', (controls) =>
    controls
      .filter((c) => {
        const labelled = (c as unknown as { labels: { length: number } | null }).labels;
        return !(labelled && labelled.length > 0) && !c.getAttribute('aria-label');
      })
      .map((c) => c.outerHTML),
  );
}

/** Clicks `Refresh` until `done` holds (the lists do not poll by themselves). */
export function refreshUntil(page: Page, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  return waitUntil(async () => {
    if (await done()) return true;
    await page.getByRole('button', { name: 'Refresh' }).click();
    return false;
  }, timeoutMs);
}
