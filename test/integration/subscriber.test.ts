import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import {
  deadLettersQuery,
  deleteSignal,
  deliveriesQuery,
  enqueueUpdate,
  entryStatusQuery,
  eventsSignal,
  queueQuery,
  setStatusUpdate,
  subscriptionQuery,
} from '../../src/workflows/messages';
import { TestReceiver } from '../support/receiver';
import { enqueueAll, makeEvents, makeSubscription, startSubscriber } from '../support/subscriber';
import {
  connectDevServer,
  startTestWorker,
  uniqueTaskQueue,
  type DevServerHarness,
} from '../support/temporal';
import type { WorkerHandle } from '../../src/worker';

describe('the subscriber workflow on the dev server', () => {
  let temporal: DevServerHarness;
  let receiver: TestReceiver;
  let worker: WorkerHandle;
  let taskQueue: string;

  beforeAll(async () => {
    temporal = await connectDevServer();
  });
  afterAll(async () => {
    await temporal.close();
  });
  beforeEach(async () => {
    taskQueue = uniqueTaskQueue('sub');
    worker = await startTestWorker(taskQueue);
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await worker.stop();
    await receiver.close();
  });

  const webhookIds = () => receiver.requests.map((r) => r.headers['webhook-id'] as string);

  async function endWith(handle: WorkflowHandle) {
    await handle.signal(deleteSignal);
    await handle.result();
  }

  it('delivers 1,000 events in order, never more than 100 in one POST', async () => {
    const handle = await startSubscriber(temporal.client, taskQueue, makeSubscription({ url: receiver.url }));
    const events = makeEvents(1000);
    await enqueueAll(handle, events, 37);
    await receiver.waitFor(() => receiver.eventIds().length >= 1000);
    expect(receiver.eventIds()).toEqual(events.map((e) => e.id));
    const sizes = receiver.requests.map((r) => (JSON.parse(r.body) as { events: unknown[] }).events.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(new Set(webhookIds()).size).toBe(receiver.requests.length);
    await waitUntil(
      async () => (await handle.query(entryStatusQuery, events[999]!.id))?.status === 'delivered',
    );
    // The newest 500 delivered entries are remembered in detail (CAPS.delivered); older ones are not.
    expect(await handle.query(entryStatusQuery, events[900]!.id)).toMatchObject({
      status: 'delivered',
      attempts: 1,
    });
    expect(await handle.query(entryStatusQuery, events[0]!.id)).toBeNull();
    await endWith(handle);
  });

  it('when the endpoint answers 500 three times, the batch arrives on the 4th attempt with the same webhook-id', async () => {
    receiver.respond((_req, n) => ({ status: n < 3 ? 500 : 200, body: n < 3 ? 'boom' : 'ok' }));
    const handle = await startSubscriber(temporal.client, taskQueue, makeSubscription({ url: receiver.url }));
    await enqueueAll(handle, makeEvents(3));
    await receiver.waitFor((r) => r.length >= 4, 30_000);
    expect(new Set(webhookIds()).size).toBe(1);
    expect(webhookIds()[0]).toMatch(/^msg_[0-9a-f]{32}$/);
    await waitUntil(async () => (await handle.query(deliveriesQuery, 10)).length === 4);
    const deliveries = await handle.query(deliveriesQuery, 10);
    expect(deliveries.map((d) => [d.attempt, d.statusCode])).toEqual([
      [4, 200],
      [3, 500],
      [2, 500],
      [1, 500],
    ]);
    expect(deliveries[1]!.error).toBe('HTTP 500: boom');
    // Back-off: 1 s, then 2 s, then 4 s between attempts.
    const gaps = receiver.requests.slice(1).map((r, i) => r.at - receiver.requests[i]!.at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(1000 * 2 ** i - 50));
    await endWith(handle);
  });

  it('crosses many continue-as-new runs without losing or reordering an event', async () => {
    const handle = await startSubscriber(
      temporal.client,
      taskQueue,
      makeSubscription({ url: receiver.url, maxBatchSize: 10 }),
    );
    const events = makeEvents(2500, 'can');
    await enqueueAll(handle, events, 50);
    await receiver.waitFor(() => receiver.eventIds().length >= events.length, 240_000);
    expect(receiver.eventIds()).toEqual(events.map((e) => e.id));
    const runs = temporal.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` });
    let continued = 0;
    for await (const run of runs) if (run.status.name === 'CONTINUED_AS_NEW') continued++;
    expect(continued).toBeGreaterThanOrEqual(3);
    await endWith(handle);
  });

  it('when the worker stops mid-delivery and another starts, nothing is lost', async () => {
    receiver.respond((_req, n) => ({ status: 200, delayMs: n === 0 ? 3_000 : 0 }));
    const handle = await startSubscriber(temporal.client, taskQueue, makeSubscription({ url: receiver.url }));
    const events = makeEvents(300, 'crash');
    await enqueueAll(handle, events.slice(0, 200));
    await receiver.waitFor((r) => r.length >= 1);
    await worker.stop(); // mid-request: the first POST is still waiting for its answer
    // With no worker polling, events still queue by signal: the server keeps them in history.
    await handle.signal(eventsSignal, { events: events.slice(200) });
    worker = await startTestWorker(taskQueue);
    await receiver.waitFor(() => new Set(receiver.eventIds()).size >= 300, 90_000);
    const ids = receiver.eventIds();
    // In order; a duplicate may only be a whole batch sent again under its own webhook-id.
    expect([...new Set(ids)]).toEqual(events.map((e) => e.id));
    await endWith(handle);
  });

  it('pauses and resumes; paused subscriptions keep queueing', async () => {
    const handle = await startSubscriber(temporal.client, taskQueue, makeSubscription({ url: receiver.url }));
    const paused = await handle.executeUpdate(setStatusUpdate, {
      args: [{ status: 'paused', at: new Date().toISOString() }],
    });
    expect(paused.status).toBe('paused');
    await enqueueAll(handle, makeEvents(5, 'p'));
    expect((await handle.query(queueQuery)).size).toBe(5);
    expect(receiver.requests).toHaveLength(0);
    await handle.executeUpdate(setStatusUpdate, {
      args: [{ status: 'active', at: new Date().toISOString() }],
    });
    await receiver.waitFor(() => receiver.eventIds().length >= 5);
    await waitUntil(async () => (await handle.query(queueQuery)).size === 0);
    await endWith(handle);
  });

  it('410 Gone disables the subscription; its events keep queueing until it is resumed', async () => {
    receiver.respond((_req, n) => ({ status: n === 0 ? 410 : 200 }));
    const handle = await startSubscriber(temporal.client, taskQueue, makeSubscription({ url: receiver.url }));
    await enqueueAll(handle, makeEvents(2, 'g'));
    await receiver.waitFor((r) => r.length >= 1);
    await waitUntil(async () => (await handle.query(subscriptionQuery)).status === 'disabled');
    await enqueueAll(handle, makeEvents(3, 'later'));
    expect((await handle.query(queueQuery)).size).toBe(5);
    await handle.executeUpdate(setStatusUpdate, {
      args: [{ status: 'active', at: new Date().toISOString() }],
    });
    await receiver.waitFor(() => receiver.eventIds().length >= 7);
    expect(receiver.eventIds().slice(2)).toEqual([
      'g-000000',
      'g-000001',
      'later-000000',
      'later-000001',
      'later-000002',
    ]);
    await endWith(handle);
  });

  it('a delete ends the workflow cleanly while a batch is retrying', async () => {
    receiver.respond(() => ({ status: 503, headers: { 'retry-after': '3600' } }));
    const handle = await startSubscriber(temporal.client, taskQueue, makeSubscription({ url: receiver.url }));
    await enqueueAll(handle, makeEvents(2, 'd'));
    await receiver.waitFor((r) => r.length >= 1);
    await handle.signal(deleteSignal);
    await expect(handle.result()).resolves.toBeUndefined();
    expect(receiver.requests).toHaveLength(1);
    expect(await handle.query(deadLettersQuery)).toEqual([]);
  });

  it('refuses events beyond the backlog cap explicitly, and keeps the ones it accepted', async () => {
    receiver.respond(() => ({ status: 500 }));
    const handle = await startSubscriber(
      temporal.client,
      taskQueue,
      makeSubscription({ url: receiver.url }),
      { limits: { maxEvents: 10, maxBytes: 1_000_000 } },
    );
    await enqueueAll(handle, makeEvents(8, 'cap'));
    const refused = handle.executeUpdate(enqueueUpdate, { args: [{ events: makeEvents(5, 'over') }] });
    await expect(refused).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(refused).rejects.toMatchObject({ cause: { type: 'BacklogFull' } });
    const queue = await handle.query(queueQuery);
    expect(queue.size).toBe(8);
    expect(queue.data.every((d) => d.eventId.startsWith('cap-'))).toBe(true);
    await endWith(handle);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
