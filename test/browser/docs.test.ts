import type { Browser, Page } from 'playwright-core';
import { DOCS_CSP } from '../../src/api/routes/docs';
import { KEYS, startTestApp, type TestApp } from '../support/app';
import { launchChromium } from './chromium';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of the served OpenAPI document, as `METHOD path`. */
async function operationsOf(app: TestApp): Promise<string[]> {
  const res = await fetch(`${app.url}/openapi.json`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m))
      .map((m) => `${m.toUpperCase()} ${path}`),
  );
}

describe('GET /docs', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('serves the page without an API key, under a CSP that allows only this origin', async () => {
    const res = await fetch(`${app.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(DOCS_CSP);
    expect(DOCS_CSP).toContain("default-src 'self'");
    expect(DOCS_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    // No inline script: every <script> has a src on this origin.
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const attrs of scripts) expect(attrs).toMatch(/\bsrc="\/docs\//);
  });

  it('serves the Swagger UI files from the installed package, and nothing else of it', async () => {
    const bundle = await fetch(`${app.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect(await bundle.text()).toContain('SwaggerUIBundle');
    const css = await fetch(`${app.url}/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    for (const file of ['index.html', 'swagger-ui-bundle.js.map', 'package.json', '..%2Fpackage.json']) {
      const res = await fetch(`${app.url}/docs/assets/${file}`);
      expect(res.status).toBe(404);
    }
  });

  describe('in headless Chromium', () => {
    let browser: Browser;
    let page: Page;
    const requested: string[] = [];
    const problems: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium();
      page = await browser.newPage();
      page.on('request', (req) => requested.push(req.url()));
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
      });
      // CSP violations are reported as DOM events, whether or not they reach the console.
      // (Browser code as a string: this project's TypeScript has no DOM types.)
      await page.addInitScript({
        content: `document.addEventListener('securitypolicyviolation', (e) =>
          console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`,
      });
      const res = await page.goto(`${app.url}/docs`);
      expect(res?.status()).toBe(200);
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('renders every operation of /openapi.json, with its method and path', async () => {
      const expected = await operationsOf(app);
      expect(expected.length).toBeGreaterThanOrEqual(20);
      await page.waitForSelector('.opblock', { timeout: 60_000 });
      await page.waitForFunction(`document.querySelectorAll('.opblock').length >= ${expected.length}`, null, {
        timeout: 30_000,
      });
      const rendered = await page.$$eval('.opblock', (blocks) =>
        blocks.map((b) => {
          const method = b.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '';
          const path = b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
          return `${method.toUpperCase()} ${path}`;
        }),
      );
      expect([...rendered].sort()).toEqual([...expected].sort());
      expect(await page.textContent('.info .title')).toContain('Hookline');
    });

    it('expands an operation into its request body schema', async () => {
      const block = page.locator('.opblock-post', {
        has: page.locator('.opblock-summary-path[data-path="/v1/subscriptions"]'),
      });
      await block.locator('.opblock-summary').click();
      await block.locator('.opblock-body').waitFor({ timeout: 30_000 });
      await block.getByText('eventTypes').first().waitFor({ timeout: 30_000 });
    });

    it('tries a call from the page with an API key given in the Authorize dialog', async () => {
      await page.locator('.auth-wrapper .authorize').click();
      // The tenant key goes in bearerAuth (operatorAuth is the /v1/tenants… scheme).
      const tenantAuth = page.locator('.auth-container', { hasText: 'bearerAuth' });
      await tenantAuth.locator('input').first().fill(KEYS.acme);
      await tenantAuth.locator('.modal-btn.authorize').click();
      await page.locator('.modal-ux .btn-done').first().click();
      const block = page.locator('.opblock-get', {
        has: page.locator('.opblock-summary-path[data-path="/v1/subscriptions"]'),
      });
      await block.locator('.opblock-summary').click();
      await block.getByRole('button', { name: 'Try it out' }).click();
      await block.getByRole('button', { name: 'Execute' }).click();
      const status = block.locator('.live-responses-table .response .response-col_status');
      await status.waitFor({ timeout: 30_000 });
      expect((await status.textContent())?.trim()).toBe('200');
      await expect(
        block.locator('.live-responses-table .response .response-col_description').textContent(),
      ).resolves.toContain('"nextCursor"');
    });

    it('loaded nothing from another origin and broke no CSP rule', () => {
      const origin = new URL(app.url).origin;
      const elsewhere = requested.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
      expect(elsewhere).toEqual([]);
      expect(requested).toContain(`${origin}/openapi.json`);
      expect(problems).toEqual([]);
    });
  });
});
