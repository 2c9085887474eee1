import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Subscription } from '../../src/domain/types';
import { TestReceiver, type ReceivedRequest } from '../support/receiver';
import { makeEvents, startSubscriberHarness, type SubscriberHarness } from '../support/subscriber';
import { createTimeSkippingEnv } from '../support/temporal';

const DAY = 24 * 3_600_000;

const bodyIds = (r: ReceivedRequest) =>
  (JSON.parse(r.body) as { events: { id: string }[] }).events.map((e) => e.id);

/**
 * What an operator does in the Temporal Web UI ("Send a signal", name `redeliver`, JSON input): the
 * signal is sent by name with plain JSON, not through the typed definition, exactly as the UI sends it.
 */
describe('the redeliver signal, sent by name with JSON input as the Web UI does', () => {
  let env: TestWorkflowEnvironment;
  let h: SubscriberHarness;
  let receiver: TestReceiver;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    h = await startSubscriberHarness({
      client: env.client,
      connection: env.nativeConnection,
      timeSkipping: true,
    });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
    await env?.teardown();
  });

  it('re-sends dead letters in their original order, by eventIds and then by since', async () => {
    const start = await env.currentTimeMs();
    const sinceStart = new Date(start).toISOString();
    const ok: ReceivedRequest[] = [];
    const deadWhenRecovered: string[] = [];
    let sub: Subscription | null = null;
    const deadIds = async () =>
      (await h.store.queues.deadLetters(sub!.id, Date.now())).map((d) => d.event.id);

    // Down for 8 days: the first batch (3 events) dies at 7 days, the next one waits until day 8.
    receiver.respond(async (req) => {
      if ((await env.currentTimeMs()) - start < 8 * DAY) return { status: 503 };
      ok.push(req);
      const handle = h.handle(sub!);
      // Each signal goes before the answer, so it lands while that batch is still in flight.
      if (ok.length === 1) {
        deadWhenRecovered.push(...(await deadIds()));
        // Listed out of order, on purpose: the queue keeps the original order anyway.
        await handle.signal('redeliver', { eventIds: ['doomed-000002', 'doomed-000000'] });
      } else if (ok.length === 2) {
        await handle.signal('redeliver', { since: sinceStart });
      } else {
        await handle.signal('delete');
      }
      return { status: 200 };
    });

    sub = await h.subscribe({ url: receiver.url, maxBatchSize: 3 });
    await h.publish(makeEvents(3, 'doomed'));
    await h.publish(makeEvents(1, 'next'));
    await h.handle(sub).result();

    expect(deadWhenRecovered).toEqual(['doomed-000000', 'doomed-000001', 'doomed-000002']);
    expect(ok.map(bodyIds)).toEqual([['next-000000'], ['doomed-000000', 'doomed-000002'], ['doomed-000001']]);
    expect(await deadIds()).toEqual([]);
    for (const id of ['doomed-000000', 'doomed-000001', 'doomed-000002']) {
      const event = await h.store.events.get(h.tenant, id, Date.now());
      expect(await h.store.queues.entry(sub.id, event!.pk, id)).toMatchObject({ status: 'delivered' });
    }
  });
});
