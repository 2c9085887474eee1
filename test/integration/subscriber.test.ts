import { BacklogFullError } from '../../src/store/errors';
import { TestReceiver } from '../support/receiver';
import { makeEvents, startSubscriberHarness, waitUntil, type SubscriberHarness } from '../support/subscriber';
import { connectDevServer, type DevServerHarness } from '../support/temporal';

describe('the subscriber workflow on the dev server', () => {
  let temporal: DevServerHarness;
  let receiver: TestReceiver;
  let h: SubscriberHarness;

  beforeAll(async () => {
    temporal = await connectDevServer();
  });
  afterAll(async () => {
    await temporal.close();
  });
  beforeEach(async () => {
    h = await startSubscriberHarness({ client: temporal.client });
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await h.stop();
    await receiver.close();
  });

  const webhookIds = () => receiver.requests.map((r) => r.headers['webhook-id'] as string);
  const entry = (subId: string, eventId: string) => h.core.subscriptions.entry(h.tenant, subId, eventId);

  it('delivers 1,000 events in order, never more than 100 in one POST', async () => {
    const sub = await h.subscribe({ url: receiver.url });
    const events = makeEvents(1000);
    await h.publish(events, 37);
    await receiver.waitFor(() => receiver.eventIds().length >= 1000);
    expect(receiver.eventIds()).toEqual(events.map((e) => e.id));
    const sizes = receiver.requests.map((r) => (JSON.parse(r.body) as { events: unknown[] }).events.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(new Set(webhookIds()).size).toBe(receiver.requests.length);
    await waitUntil(async () => (await entry(sub.id, events[999]!.id)).status === 'delivered');
    // Every entry is remembered in the store, the oldest too (for 7 days).
    for (const e of [events[0]!, events[500]!]) {
      expect(await entry(sub.id, e.id)).toMatchObject({
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 200,
      });
    }
  });

  it('when the endpoint answers 500 three times, the batch arrives on the 4th attempt with the same webhook-id', async () => {
    receiver.respond((_req, n) => ({ status: n < 3 ? 500 : 200, body: n < 3 ? 'boom' : 'ok' }));
    const sub = await h.subscribe({ url: receiver.url });
    await h.publish(makeEvents(3));
    await receiver.waitFor((r) => r.length >= 4, 30_000);
    expect(new Set(webhookIds()).size).toBe(1);
    expect(webhookIds()[0]).toMatch(/^msg_[0-9a-f]{32}$/);
    await waitUntil(
      async () => (await h.core.subscriptions.deliveries(h.tenant, sub.id, { limit: 10 })).data.length === 4,
    );
    const deliveries = (await h.core.subscriptions.deliveries(h.tenant, sub.id, { limit: 10 })).data;
    expect(deliveries.map((d) => [d.attempt, d.statusCode])).toEqual([
      [4, 200],
      [3, 500],
      [2, 500],
      [1, 500],
    ]);
    expect(deliveries[1]!.error).toBe('HTTP 500: boom');
    expect(deliveries[0]!.eventIds).toEqual(makeEvents(3).map((e) => e.id));
    // Back-off: 1 s, then 2 s, then 4 s between attempts.
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - receiver.requests[i]!.at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(1000 * 2 ** i - 50));
  });

  it('crosses many continue-as-new runs without losing or reordering an event', async () => {
    const sub = await h.subscribe({ url: receiver.url, maxBatchSize: 10 });
    const events = makeEvents(2500, 'can');
    await h.publish(events, 50);
    await receiver.waitFor(() => receiver.eventIds().length >= events.length, 240_000);
    expect(receiver.eventIds()).toEqual(events.map((e) => e.id));
    const runs = temporal.client.workflow.list({ query: `WorkflowId = '${h.handle(sub).workflowId}'` });
    let continued = 0;
    for await (const run of runs) if (run.status.name === 'CONTINUED_AS_NEW') continued++;
    expect(continued).toBeGreaterThanOrEqual(3);
  });

  it('when the worker stops mid-delivery and another starts, nothing is lost', async () => {
    receiver.respond((_req, n) => ({ status: 200, delayMs: n === 0 ? 3_000 : 0 }));
    await h.subscribe({ url: receiver.url });
    const events = makeEvents(300, 'crash');
    await h.publish(events.slice(0, 200));
    await receiver.waitFor((r) => r.length >= 1);
    await h.stopWorker(); // mid-request: the first POST is still waiting for its answer
    // With no worker polling, publishing goes on: the store takes the events.
    await h.publish(events.slice(200));
    await h.restartWorker();
    await receiver.waitFor(() => new Set(receiver.eventIds()).size >= 300, 90_000);
    const ids = receiver.eventIds();
    // In order; a duplicate may only be a whole batch sent again under its own webhook-id.
    expect([...new Set(ids)]).toEqual(events.map((e) => e.id));
  });

  it('pauses and resumes; paused subscriptions keep queueing', async () => {
    const sub = await h.subscribe({ url: receiver.url });
    const paused = await h.core.subscriptions.setStatus(h.tenant, sub.id, 'paused');
    expect(paused.status).toBe('paused');
    await h.publish(makeEvents(5, 'p'));
    expect((await h.core.subscriptions.queue(h.tenant, sub.id)).size).toBe(5);
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.requests).toHaveLength(0);
    await h.core.subscriptions.setStatus(h.tenant, sub.id, 'active');
    await receiver.waitFor(() => receiver.eventIds().length >= 5);
    await waitUntil(async () => (await h.core.subscriptions.queue(h.tenant, sub.id)).size === 0);
  });

  it('410 Gone disables the subscription; its events keep queueing until it is resumed', async () => {
    receiver.respond((_req, n) => ({ status: n === 0 ? 410 : 200 }));
    const sub = await h.subscribe({ url: receiver.url });
    await h.publish(makeEvents(2, 'g'));
    await receiver.waitFor((r) => r.length >= 1);
    await waitUntil(async () => (await h.core.subscriptions.get(h.tenant, sub.id)).status === 'disabled');
    await h.publish(makeEvents(3, 'later'));
    expect((await h.core.subscriptions.queue(h.tenant, sub.id)).size).toBe(5);
    await h.core.subscriptions.setStatus(h.tenant, sub.id, 'active');
    await receiver.waitFor(() => receiver.eventIds().length >= 7);
    expect(receiver.eventIds().slice(2)).toEqual([
      'g-000000',
      'g-000001',
      'later-000000',
      'later-000001',
      'later-000002',
    ]);
  });

  it('a delete ends the workflow cleanly while a batch is retrying', async () => {
    receiver.respond(() => ({ status: 503, headers: { 'retry-after': '3600' } }));
    const sub = await h.subscribe({ url: receiver.url });
    await h.publish(makeEvents(2, 'd'));
    await receiver.waitFor((r) => r.length >= 1);
    await h.core.subscriptions.remove(h.tenant, sub.id);
    await expect(h.handle(sub).result()).resolves.toBeUndefined();
    expect(receiver.requests).toHaveLength(1);
    expect(await h.store.queues.deadLetters(sub.id, Date.now())).toEqual([]);
  });

  it('refuses events beyond the backlog cap explicitly, and keeps the ones it accepted', async () => {
    await h.stop();
    h = await startSubscriberHarness({ client: temporal.client, env: { MAX_BACKLOG: '10' } });
    receiver.respond(() => ({ status: 500 }));
    const sub = await h.subscribe({ url: receiver.url });
    await h.publish(makeEvents(8, 'cap'));
    await expect(h.publish(makeEvents(5, 'over'))).rejects.toBeInstanceOf(BacklogFullError);
    const queue = await h.core.subscriptions.queue(h.tenant, sub.id);
    expect(queue.size).toBe(8);
    expect(queue.data.every((d) => d.eventId.startsWith('cap-'))).toBe(true);
  });
});
