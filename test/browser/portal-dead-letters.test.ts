import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser } from 'playwright-core';
import { startServer, type RunningServer } from '../../src/api/app';
import { storePortalSession } from '../support/portal';
import { TestReceiver } from '../support/receiver';
import { makeEvents, startSubscriberHarness, type SubscriberHarness } from '../support/subscriber';
import { createTimeSkippingEnv, testLogger } from '../support/temporal';
import { launchChromium } from './chromium';
import { controlsOf, openPortal, refreshUntil } from './portal-page';

const DAY = 24 * 3_600_000;

/**
 * Dead letters come 7 days after a batch's first attempt, so this runs on the time-skipping server:
 * the real API and worker over it, the endpoint down for 8 days, then the portal redelivers.
 */
describe('redelivering dead letters from the consumer portal', () => {
  let env: TestWorkflowEnvironment;
  let receiver: TestReceiver;
  let h: SubscriberHarness;
  let server: RunningServer;
  let browser: Browser;
  let endpointUp = false;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    receiver = await TestReceiver.start(() => ({ status: endpointUp ? 200 : 503 }));
    h = await startSubscriberHarness({
      client: env.client,
      connection: env.nativeConnection,
      timeSkipping: true,
    });
    await h.store.tenants.ensure([h.tenant], Date.now());
    server = await startServer({
      config: h.config,
      client: env.client,
      logger: testLogger,
      apiKeys: [],
      store: h.store,
      subscribers: h.core.subscribers,
      publisher: h.core.publisher,
      subscriptions: h.core.subscriptions,
      port: 0,
      workerReady: () => Promise.resolve(true),
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await h?.stop();
    await receiver?.close();
    await env?.teardown();
  });

  /** A portal link of the harness's tenant (which has no API key to make one through the API). */
  const link = async (readOnly: boolean) => {
    const token = await storePortalSession(h.store, h.tenant, {
      readOnly,
      expiresAt: Date.now() + 3_600_000,
    });
    return `${server.url}/portal/#token=${token}`;
  };

  it('lists the events given up on after 7 days and queues the chosen ones again, in order', async () => {
    const sub = await h.subscribe({ url: `${receiver.url}/down`, maxBatchSize: 2, name: 'Billing' });
    await h.publish(makeEvents(3, 'lost'));
    await receiver.waitFor((r) => r.length >= 1);
    // Down throughout: the first batch (2 events) dies at 7 days, the second (1 event) at 14.
    await env.sleep(15 * DAY);
    expect((await h.store.queues.deadLetters(sub.id, Date.now())).map((d) => d.event.id)).toEqual([
      'lost-000000',
      'lost-000001',
      'lost-000002',
    ]);

    const readOnly = await openPortal(browser, `${await link(true)}`);
    try {
      await readOnly.page.goto(`${server.url}/portal/#/subscriptions/${sub.id}/dead-letters`);
      await readOnly.page.getByRole('link', { name: 'lost-000000' }).waitFor();
      expect(await controlsOf(readOnly.page)).toEqual([]);
      expect(await readOnly.page.getByRole('checkbox').count()).toBe(0);
    } finally {
      await readOnly.close();
    }

    endpointUp = true;
    const portal = await openPortal(browser, await link(false));
    try {
      const { page } = portal;
      await page.getByRole('link', { name: 'Billing' }).click();
      await page.getByRole('link', { name: 'Dead letters' }).click();
      await page
        .getByRole('row', { name: /lost-000000/ })
        .getByText('503')
        .waitFor();
      const before = receiver.requests.length;
      await page.getByLabel('Select lost-000002').check();
      await page.getByLabel('Select lost-000000').check();
      await page.getByRole('button', { name: 'Redeliver selected (2)' }).click();
      await page.getByText('2 events queued again.').waitFor();
      await receiver.waitFor((r) => r.length > before);
      const sent = receiver.requests
        .slice(before)
        .flatMap((r) => JSON.parse(r.body).events.map((e: { id: string }) => e.id));
      expect(sent).toEqual(['lost-000000', 'lost-000002']);
      // The list reloads after the redelivery: the re-queued ones leave it, the third stays.
      await page.getByRole('link', { name: 'lost-000000' }).waitFor({ state: 'detached' });
      expect(await page.getByRole('link', { name: 'lost-000000' }).count()).toBe(0);
      await page.getByRole('link', { name: 'lost-000001' }).waitFor();

      await page.getByRole('link', { name: 'Deliveries' }).click();
      await refreshUntil(page, async () => (await page.locator('tr.ok').count()) > 0);
      expect(portal.problems).toEqual([]);
    } finally {
      await portal.close();
    }
  });
});
