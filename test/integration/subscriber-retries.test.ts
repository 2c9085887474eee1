import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Subscription } from '../../src/domain/types';
import { TestReceiver, type ReceivedRequest } from '../support/receiver';
import { makeEvents, startSubscriberHarness, type SubscriberHarness } from '../support/subscriber';
import { createTimeSkippingEnv } from '../support/temporal';
import type { HooklineEvent } from '../../src/domain/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('retries over days, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let h: SubscriberHarness;
  let receiver: TestReceiver;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  beforeEach(async () => {
    h = await startSubscriberHarness({
      client: env.client,
      connection: env.nativeConnection,
      timeSkipping: true,
    });
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await h.stop();
    await receiver.close();
  });

  const bodyIds = (r: ReceivedRequest) =>
    (JSON.parse(r.body) as { events: { id: string }[] }).events.map((e) => e.id);

  /**
   * Starts a subscriber whose endpoint answers `status(ms since the start, in workflow time)`, publishes
   * `batches`, and runs until `done` holds over the requests answered 2xx; the subscription is deleted
   * with that last answer. Waiting on the workflow's result is what lets the test server skip time.
   */
  async function scenario(opts: {
    status: (elapsedMs: number) => number;
    subscription: Partial<Subscription>;
    batches: HooklineEvent[][];
    done: (ok: ReceivedRequest[]) => boolean;
  }) {
    const start = await env.currentTimeMs();
    const ok: ReceivedRequest[] = [];
    let sub: Subscription | null = null;
    receiver.respond(async (req) => {
      const status = opts.status((await env.currentTimeMs()) - start);
      if (status < 300) {
        ok.push(req);
        // Before answering: once the workflow is idle, the server skips straight to its timeout.
        if (opts.done(ok)) await h.handle(sub!).signal('delete');
      }
      return { status };
    });
    sub = await h.subscribe({ url: receiver.url, ...opts.subscription });
    for (const batch of opts.batches) await h.publish(batch);
    await h.handle(sub).result();
    return { sub, ok, start };
  }
  /** The store's view of an entry: the subscription is deleted by then, so read it by id. */
  const entryStatus = async (subId: string, eventId: string) => {
    const event = await h.store.events.get(h.tenant, eventId, Date.now());
    return h.store.queues.entry(subId, event!.pk, eventId);
  };

  it('an endpoint down for 6 days gets the batch with the same webhook-id, then later events in order', async () => {
    const { sub, ok } = await scenario({
      status: (elapsed) => (elapsed < 6 * DAY ? 500 : 200),
      subscription: { maxBatchSize: 3 },
      batches: [makeEvents(3, 'first'), makeEvents(4, 'later')],
      done: (ok) => ok.flatMap(bodyIds).length >= 7,
    });

    const firstBatch = receiver.requests.filter((r) => bodyIds(r)[0] === 'first-000000');
    expect(firstBatch.length).toBeGreaterThan(100); // 12 doubling attempts, then hourly for 6 days
    expect(new Set(firstBatch.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(ok[0]!.headers['webhook-id']).toBe(firstBatch[0]!.headers['webhook-id']);
    expect(ok.flatMap(bodyIds)).toEqual([
      'first-000000',
      'first-000001',
      'first-000002',
      'later-000000',
      'later-000001',
      'later-000002',
      'later-000003',
    ]);
    expect(await h.store.queues.deadLetters(sub.id, Date.now())).toEqual([]);
  });

  it('an endpoint down for 8 days: the batch is dead-lettered at 7 days and the next batch is delivered', async () => {
    const { sub, ok, start } = await scenario({
      status: (elapsed) => (elapsed < 8 * DAY ? 503 : 200),
      subscription: { maxBatchSize: 2 },
      batches: [makeEvents(2, 'doomed'), makeEvents(2, 'next')],
      done: (ok) => ok.length >= 1,
    });

    // Dead letters are kept 7 days after they died, by the store's clock (real time here).
    const dead = await h.store.queues.deadLetters(sub.id, Date.now());
    expect(dead.map((d) => d.event.id)).toEqual(['doomed-000000', 'doomed-000001']);
    expect(dead[0]!.lastStatusCode).toBe(503);
    const deadAfter = Date.parse(dead[0]!.deadAt) - start;
    expect(deadAfter).toBeGreaterThanOrEqual(7 * DAY);
    expect(deadAfter).toBeLessThan(7 * DAY + HOUR);
    expect(ok.flatMap(bodyIds)).toEqual(['next-000000', 'next-000001']);
    expect(ok[0]!.headers['webhook-id']).not.toBe(dead[0]!.msgId);
    expect(await entryStatus(sub.id, 'doomed-000000')).toMatchObject({ status: 'dead' });
    expect(await entryStatus(sub.id, 'next-000001')).toMatchObject({ status: 'delivered' });
  });

  it('spaces the attempts 1, 2, 4 … seconds apart, then hourly', async () => {
    const { sub } = await scenario({
      status: (elapsed) => (elapsed < 5 * HOUR ? 500 : 200),
      subscription: {},
      batches: [makeEvents(1, 'sched')],
      done: (ok) => ok.length >= 1,
    });

    const attempts = (await h.store.attempts.page(sub.id, { limit: 100 })).data.reverse();
    const gapsSeconds = attempts
      .slice(1)
      .map((a, i) => (Date.parse(a.at) - Date.parse(attempts[i]!.at)) / 1000);
    const expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600];
    expect(gapsSeconds.slice(0, expected.length).map(Math.round)).toEqual(expected);
    expect(attempts.at(-1)!.statusCode).toBe(200);
  });
});
