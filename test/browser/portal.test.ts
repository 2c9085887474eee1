import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { portalCsp } from '../../src/api/routes/portal';
import { startTestApp, type TestApp } from '../support/app';
import { storePortalSession } from '../support/portal';
import { TestReceiver } from '../support/receiver';
import { launchChromium } from './chromium';
import { controlsOf, openPortal, refreshUntil, unlabelledControls, type PortalPage } from './portal-page';

/** Controls a read-only session may show: none of them changes anything. */
const READING_CONTROLS = ['Hide secret', 'Next page', 'Previous page', 'Refresh', 'Show secret'];

describe('the consumer portal in headless Chromium', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  let browser: Browser;
  /** While false the endpoint answers 500. */
  let endpointUp = false;
  beforeAll(async () => {
    app = await startTestApp();
    receiver = await TestReceiver.start(() => ({ status: endpointUp ? 200 : 500 }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await app?.stop();
  });

  const link = async (body: Record<string, unknown> = {}) => {
    const res = await app.call('POST', '/v1/portal/sessions', { body });
    expect(res.status).toBe(201);
    return res.body.url.replace('http://127.0.0.1:9', app.url) as string;
  };

  it('serves the page under a CSP that allows only this origin, with no inline script', async () => {
    const res = await fetch(`${app.url}/portal/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy');
    expect(csp).toBe(portalCsp([]));
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
    expect(scripts).toEqual([' defer src="/portal/portal.js"']);
    const script = await fetch(`${app.url}/portal/portal.js`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).not.toContain(process.cwd());
    expect((await fetch(`${app.url}/portal/../package.json`)).status).toBe(404);
    expect((await fetch(`${app.url}/portal/src/main.tsx`)).status).toBe(404);
  });

  describe('a read-write session', () => {
    let portal: PortalPage;
    let subscriptionId = '';
    beforeAll(async () => {
      portal = await openPortal(browser, await link());
    });
    afterAll(async () => {
      await portal?.close();
    });

    it('takes the token out of the address bar and lists the endpoints', async () => {
      const { page } = portal;
      await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
      expect(page.url()).not.toContain('token=');
      await page.getByText('No endpoints yet.').waitFor();
    });

    it('shows a refused field next to the field, then creates the endpoint', async () => {
      const { page } = portal;
      await page.getByRole('link', { name: 'Add endpoint' }).click();
      expect(await unlabelledControls(page)).toEqual([]);
      await page.getByLabel('Endpoint URL').fill(`${receiver.url}/orders`);
      await page.getByLabel('Name (optional)').fill('Orders to ERP');
      await page.getByLabel('Other types or patterns').fill('order.*');
      await page.getByLabel('Events per request').fill('500');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      const batchSize = page.getByLabel('Events per request');
      await page.getByText('Must be at most 100.').waitFor();
      // The message is the field's description, so a screen reader reads it with the field.
      expect(await batchSize.getAttribute('aria-invalid')).toBe('true');
      expect(await batchSize.getAttribute('aria-describedby')).toContain('maxBatchSize-error');
      expect((await app.call('GET', '/v1/subscriptions')).body.data).toEqual([]);

      await batchSize.fill('10');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await page.getByRole('heading', { name: 'Orders to ERP' }).waitFor();
      subscriptionId = /#\/subscriptions\/(sub_[0-9a-f]+)$/.exec(page.url())![1]!;
      const stored = await app.call('GET', `/v1/subscriptions/${subscriptionId}`);
      expect(stored.body).toMatchObject({
        url: `${receiver.url}/orders`,
        name: 'Orders to ERP',
        eventTypes: ['order.*'],
        maxBatchSize: 10,
      });
    });

    it('shows a failed delivery and the queue while the endpoint is down, then the successful one', async () => {
      const { page } = portal;
      const published = await app.call('POST', '/v1/events', {
        body: { id: 'order-1', type: 'order.created', subject: 'orders/1', data: { total: 42 } },
      });
      expect(published.status).toBe(202);
      await receiver.waitFor((r) => r.length >= 1);

      await page.getByRole('link', { name: 'Deliveries' }).click();
      const failed = page.locator('tr.failed', { hasText: '500' });
      await refreshUntil(page, async () => (await failed.count()) > 0);
      await failed.first().getByText('Failed').waitFor();
      await failed.first().getByRole('link', { name: 'order-1' }).waitFor();

      await page.getByRole('link', { name: 'Queue' }).click();
      await page.getByText('1 event waiting, oldest first.').waitFor();
      await page
        .getByRole('row', { name: /order-1/ })
        .getByText('order.created')
        .waitFor();

      endpointUp = true;
      await page.getByRole('link', { name: 'Deliveries' }).click();
      const ok = page.locator('tr.ok', { hasText: '200' });
      await refreshUntil(page, async () => (await ok.count()) > 0);
      await page.getByLabel('Show').selectOption('failed');
      // The unfiltered rows stay until the filtered page arrives: wait for the successful one to go.
      await page.locator('tr.ok').first().waitFor({ state: 'detached' });
      expect(await page.locator('tr.ok').count()).toBe(0);
      expect(await page.locator('tr.failed').count()).toBeGreaterThan(0);
    });

    it("shows one event's status and payload, and sends it again", async () => {
      const { page } = portal;
      await page.getByLabel('Show').selectOption('succeeded');
      await page.locator('tr.ok').getByRole('link', { name: 'order-1' }).click();
      await page.getByText('Delivered', { exact: true }).waitFor();
      expect(await page.locator('pre.json').first().innerText()).toContain('"total": 42');
      const before = receiver.requests.length;
      await page.getByRole('button', { name: 'Send again' }).click();
      await page.getByText('The event is queued again.').waitFor();
      await receiver.waitFor((r) => r.length > before);
      expect(JSON.parse(receiver.requests.at(-1)!.body).events.map((e: { id: string }) => e.id)).toEqual([
        'order-1',
      ]);
    });

    it('shows the secret and rotates it, explaining the 24-hour overlap', async () => {
      const { page } = portal;
      await page.goto(`${app.url}/portal/#/subscriptions/${subscriptionId}`);
      await page.getByRole('button', { name: 'Show secret' }).click();
      const old = (await app.call('GET', `/v1/subscriptions/${subscriptionId}/secret`)).body.secret as string;
      expect(await page.getByLabel('Secret value').innerText()).toBe(old);
      await page.getByText(/For 24 hours requests are signed with both the old and the new one/).waitFor();
      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await page.getByRole('button', { name: 'Rotate now' }).click();
      await page.getByText('Secret rotated: the old one keeps signing for 24 hours.').waitFor();
      const rotated = (await app.call('GET', `/v1/subscriptions/${subscriptionId}/secret`)).body
        .secret as string;
      expect(rotated).not.toBe(old);
      expect(await page.getByLabel('Secret value').innerText()).toBe(rotated);
      // The next delivery is signed with both.
      const before = receiver.requests.length;
      await app.call('POST', '/v1/events', { body: { id: 'order-2', type: 'order.created', data: {} } });
      await receiver.waitFor((r) => r.length > before);
      expect(String(receiver.requests.at(-1)!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    });

    it('pauses and resumes the endpoint, edits it, and works with the keyboard', async () => {
      const { page } = portal;
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.getByText('Paused', { exact: true }).waitFor();
      expect((await app.call('GET', `/v1/subscriptions/${subscriptionId}`)).body.status).toBe('paused');
      // Keyboard only: focus Resume and press Enter.
      await page.getByRole('button', { name: 'Resume' }).focus();
      await page.keyboard.press('Enter');
      await page.getByText('Active', { exact: true }).waitFor();
      expect((await app.call('GET', `/v1/subscriptions/${subscriptionId}`)).body.status).toBe('active');

      await page.getByRole('link', { name: 'Edit' }).click();
      await page.getByLabel('Extra headers').fill('X-Team: payments');
      await page.getByLabel('Requests per second at most').fill('5');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Changes saved.').waitFor();
      expect((await app.call('GET', `/v1/subscriptions/${subscriptionId}`)).body).toMatchObject({
        headers: { 'X-Team': 'payments' },
        rateLimitPerSecond: 5,
        name: 'Orders to ERP',
      });
    });

    it('loaded nothing from another origin and broke no CSP rule', () => {
      const origin = new URL(app.url).origin;
      const elsewhere = portal.requested.filter(
        (u) => !u.startsWith('data:') && new URL(u).origin !== origin,
      );
      expect(elsewhere).toEqual([]);
      expect(portal.problems).toEqual([]);
    });
  });

  it('a read-only link shows the same views with no control that changes anything', async () => {
    const made = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/read-only`, eventTypes: ['*'], name: 'Audit log' },
    });
    const id = made.body.id as string;
    const portal = await openPortal(browser, await link({ readOnly: true }));
    try {
      const { page } = portal;
      await page.getByText('Read-only', { exact: true }).waitFor();
      await page.getByRole('link', { name: 'Audit log' }).waitFor();
      expect(await controlsOf(page)).toEqual([]);
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
      expect(await controlsOf(page)).toEqual(['Show secret']);
      for (const tab of ['Deliveries', 'Queue', 'Dead letters']) {
        await page.getByRole('link', { name: tab, exact: true }).click();
        await page
          .getByRole('heading', { level: 2, name: tab === 'Deliveries' ? 'Delivery attempts' : tab })
          .waitFor();
        for (const control of await controlsOf(page)) expect(READING_CONTROLS).toContain(control);
      }
      // Typing an edit address shows the endpoint, not a form.
      await page.goto(`${app.url}/portal/#/subscriptions/${id}/edit`);
      await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
      expect(await page.locator('form').count()).toBe(0);
      await page.getByRole('link', { name: 'Event types' }).click();
      await page.getByRole('heading', { name: 'Event types' }).waitFor();
      expect(await controlsOf(page)).toEqual([]);
      expect(portal.problems).toEqual([]);
    } finally {
      await portal.close();
    }
  });

  it('an expired link shows a clear message', async () => {
    const token = await storePortalSession(app.store, app.tenants.acme, { expiresAt: Date.now() - 1000 });
    const portal = await openPortal(browser, `${app.url}/portal/#token=${token}`);
    try {
      await portal.page.getByRole('heading', { name: 'This link has expired' }).waitFor();
      await portal.page.getByText('Ask the team that sent it to you for a new link.').waitFor();
      // Opened again without the link (a reload): it asks for the link, it does not retry the token.
      await portal.page.goto(`${app.url}/portal/`);
      await portal.page.getByRole('heading', { name: 'Open the portal with your link' }).waitFor();
    } finally {
      await portal.close();
    }
  });

  describe('in a frame of another origin', () => {
    let outer: Server;
    let framed = '';
    beforeAll(async () => {
      outer = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          `<!doctype html><title>Dashboard</title><iframe src="${framed}" width="900" height="600"></iframe>`,
        );
      });
      await new Promise<void>((r) => outer.listen(0, '127.0.0.1', r));
    });
    afterAll(async () => {
      await new Promise((r) => outer.close(r));
    });
    const outerOrigin = () => `http://127.0.0.1:${(outer.address() as AddressInfo).port}`;

    /** Opens the dashboard framing `portal`; answers whether the portal rendered inside the frame. */
    const rendersFramed = async (portal: string) => {
      framed = portal;
      const page = await browser.newPage();
      try {
        await page.goto(outerOrigin());
        const frame = page.frameLocator('iframe');
        return await frame
          .getByRole('heading', { name: 'Open the portal with your link' })
          .waitFor({ timeout: 5000 })
          .then(() => true)
          .catch(() => false);
      } finally {
        await page.close();
      }
    };

    it('is refused by default, and shown where PORTAL_FRAME_ANCESTORS allows it', async () => {
      expect(await rendersFramed(`${app.url}/portal/`)).toBe(false);
      const allowing = await startTestApp({ PORTAL_FRAME_ANCESTORS: outerOrigin() });
      try {
        const res = await fetch(`${allowing.url}/portal/`);
        expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors ${outerOrigin()}`);
        expect(res.headers.get('x-frame-options')).toBeNull();
        expect(await rendersFramed(`${allowing.url}/portal/`)).toBe(true);
      } finally {
        await allowing.stop();
      }
    });
  });
});
