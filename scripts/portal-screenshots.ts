/**
 * Makes the README's consumer portal screenshots (docs/images/portal-*.png) from a real run.
 *
 *   npx tsx scripts/portal-screenshots.ts [output dir, default docs/images]
 *
 * It starts the service as `npm start` does (embedded dev server, temporary DATA_DIR, free ports), a
 * loopback receiver whose orders endpoint answers 503 twice and then 200, registers an event-type
 * catalog and three subscriptions, publishes events, makes a portal link, and drives the portal in
 * headless Chromium (Debian's `chromium`, see test/browser/chromium.ts). Everything it started is
 * stopped at the end.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { launchChromium } from '../test/browser/chromium';
import { root, shot, startService, until } from './screenshot-kit';

const outDir = resolve(process.argv[2] ?? join(root, 'docs', 'images'));

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  let orders = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const down = req.url === '/hooks/orders' && ++orders <= 2;
      res.writeHead(down ? 503 : 200, { 'content-type': 'application/json' });
      res.end(down ? '{"error":"maintenance"}' : '{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const service = await startService();
  const browser = await launchChromium();
  try {
    await service.post('/v1/event-types', {
      name: 'order.created',
      description: 'An order was placed.',
      schema: {
        type: 'object',
        required: ['order', 'total'],
        properties: { order: { type: 'integer' }, total: { type: 'string' } },
      },
    });
    await service.post('/v1/event-types', {
      name: 'order.cancelled',
      description: 'An order was cancelled.',
    });
    await service.post('/v1/event-types', { name: 'invoice.paid', description: 'An invoice was paid.' });
    const sub = await service.post('/v1/subscriptions', {
      url: `${target}/hooks/orders`,
      name: 'Orders to ERP',
      eventTypes: ['order.created', 'order.cancelled'],
      maxBatchSize: 10,
    });
    await service.post('/v1/subscriptions', {
      url: `${target}/hooks/ledger`,
      name: 'Ledger',
      eventTypes: ['invoice.paid'],
    });
    const audit = await service.post('/v1/subscriptions', {
      url: `${target}/hooks/audit`,
      name: 'Audit trail',
      eventTypes: ['*'],
      format: 'cloudevents',
    });
    await service.post(`/v1/subscriptions/${audit.id}/pause`, {});
    for (const n of [41, 42]) {
      await service.post('/v1/events', {
        id: `order-${n}-created`,
        type: 'order.created',
        subject: `orders/${n}`,
        data: { order: n, total: '19.90' },
      });
    }
    // Two failed attempts (503), then the batch goes through.
    await until('the orders batch to go through', 60_000, () =>
      Promise.resolve(orders >= 3 ? true : undefined),
    );
    const { url } = await service.post<{ url: string }>('/v1/portal/sessions', { expiresInSeconds: 3600 });

    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(url);
    await page.getByRole('link', { name: 'Audit trail' }).waitFor();
    await shot(page, outDir, 'portal-endpoints.png');

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${service.api}/portal/#/subscriptions/${sub.id}/deliveries`);
    await page.locator('tr.ok').first().waitFor();
    await shot(page, outDir, 'portal-deliveries.png');

    await page.setViewportSize({ width: 1280, height: 1100 });
    await page.goto(`${service.api}/portal/#/subscriptions/new`);
    await page.getByLabel('Endpoint URL').fill('http://169.254.169.254/latest');
    await page.getByLabel('order.created').check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.locator('.field-error').first().waitFor();
    await page.evaluate('window.scrollTo(0, 0)');
    await shot(page, outDir, 'portal-add-endpoint.png');
  } finally {
    await browser.close();
    receiver.closeAllConnections();
    receiver.close();
    await service.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
