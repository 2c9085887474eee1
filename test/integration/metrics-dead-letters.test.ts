import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createMetrics, type Metrics } from '../../src/metrics';
import { TestReceiver } from '../support/receiver';
import { parseExposition, sampleValue } from '../support/scrape';
import { makeEvents, startSubscriberHarness, waitUntil } from '../support/subscriber';
import { createTimeSkippingEnv, workflowBundle } from '../support/temporal';

const DAY = 24 * 3_600_000;

const read = async (metrics: Metrics, name: string, labels: Record<string, string> = {}) =>
  sampleValue(parseExposition(await metrics.render()), name, labels);

/**
 * Dead letters happen 7 days after a batch's first attempt, so this runs on the time-skipping server.
 * The count comes from the activity that dead-letters the batch: it runs once, and a replay of the
 * workflow's history runs no activity, so a restarted worker or an evicted run counts nothing again.
 */
describe('dead-letter and backlog metrics', () => {
  let env: TestWorkflowEnvironment;
  let receiver: TestReceiver;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await receiver.close();
    await env?.teardown();
  });

  it('counts a batch dead-lettered at 7 days once, and a replay of its history counts nothing', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const h = await startSubscriberHarness({
      client: env.client,
      connection: env.nativeConnection,
      timeSkipping: true,
      metrics,
    });
    metrics.observeBacklog(() => h.store.queues.backlogs());
    try {
      const start = await env.currentTimeMs();
      let backlogAtFirstAttempt: number | undefined;
      let subId = '';
      // Down for 8 days: the first batch (of 2) dies at 7 days, the second is delivered after 8.
      receiver.respond(async () => {
        backlogAtFirstAttempt ??= await read(metrics, 'hookline_backlog_events', { subscription: subId });
        if ((await env.currentTimeMs()) - start < 8 * DAY) return { status: 503 };
        // Delete with the delivery, so that the run ends and result() returns.
        await env.client.workflow.getHandle(`hookline-sub-${subId}`).signal('delete');
        return { status: 200 };
      });
      const sub = await h.subscribe({ url: receiver.url, maxBatchSize: 2 });
      subId = sub.id;
      await h.publish(makeEvents(4, 'doomed'));
      await h.handle(sub).result();

      expect((await h.store.queues.deadLetters(sub.id, Date.now())).map((d) => d.event.id)).toEqual([
        'doomed-000000',
        'doomed-000001',
      ]);
      // Read from the store at the scrape before the first attempt: both batches queued.
      expect(backlogAtFirstAttempt).toBe(4);
      expect(await read(metrics, 'hookline_events_dead_lettered_total')).toBe(2);
      await waitUntil(async () => (await read(metrics, 'hookline_events_delivered_total')) === 2);
      const failed = await read(metrics, 'hookline_delivery_attempts_total', { outcome: 'status' });
      expect(failed).toBe(receiver.requests.length - 1);
      expect(failed).toBeGreaterThan(100); // doubling back-off, then hourly for 7 days
      // Deleted: the subscription's backlog series is gone.
      expect(await read(metrics, 'hookline_backlog_events', { subscription: sub.id })).toBeUndefined();

      // The same history replayed: no activity runs, so nothing is counted again.
      const history = await h.handle(sub).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, h.handle(sub).workflowId);
      expect(await read(metrics, 'hookline_events_dead_lettered_total')).toBe(2);
    } finally {
      await h.stop();
    }
  });
});
