import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { validateEvents } from '../../src/api/ingress-validation';
import { createMetrics, workflowSinks, type Metrics } from '../../src/metrics';
import { deadLettersQuery, deleteSignal } from '../../src/workflows/messages';
import type { WorkerHandle } from '../../src/worker';
import { TestReceiver } from '../support/receiver';
import { parseExposition, sampleValue } from '../support/scrape';
import { enqueueAll, makeEvents, makeSubscription, startSubscriber } from '../support/subscriber';
import { createTimeSkippingEnv, startTestWorker, uniqueTaskQueue, workflowBundle } from '../support/temporal';

const DAY = 24 * 3_600_000;

const read = async (metrics: Metrics, name: string, labels: Record<string, string> = {}) =>
  sampleValue(parseExposition(await metrics.render()), name, labels);

/**
 * Dead letters happen 7 days after a batch's first attempt, so this runs on the time-skipping server.
 * The count comes from the subscriber workflow through a sink, which the worker runs after live
 * activations only: replaying the same history (a restarted worker, an evicted run) counts nothing.
 */
describe('dead-letter and backlog metrics from the subscriber workflow', () => {
  let env: TestWorkflowEnvironment;
  let receiver: TestReceiver;
  let worker: WorkerHandle | undefined;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver.close();
    await env?.teardown();
  });

  it('counts a batch dead-lettered at 7 days once, and a replay of its history counts nothing', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const taskQueue = uniqueTaskQueue('metrics-dead');
    worker = await startTestWorker(taskQueue, {
      connection: env.nativeConnection,
      address: undefined,
      deps: {
        clock: () => new Date(),
        http: undefined as never, // replaced by startTestWorker's loopback client
        version: 'test',
        origin: 'hookline.test',
        validateEvents,
        metrics,
      },
    });
    const start = await env.currentTimeMs();
    const sub = makeSubscription({ url: receiver.url, maxBatchSize: 2 });
    const started: { handle?: Awaited<ReturnType<typeof startSubscriber>> } = {};
    let backlogAtFirstAttempt: number | undefined;
    // Down for 8 days: the first batch (of 2) dies at 7 days, the second is delivered after 8.
    receiver.respond(async () => {
      backlogAtFirstAttempt ??= await read(metrics, 'hookline_backlog_events', { subscription: sub.id });
      if ((await env.currentTimeMs()) - start < 8 * DAY) return { status: 503 };
      // Delete with the delivery, so that the run ends and result() returns.
      await started.handle!.signal(deleteSignal);
      return { status: 200 };
    });
    const handle = (started.handle = await startSubscriber(env.client, taskQueue, sub, {
      timeSkipping: true,
    }));
    await enqueueAll(handle, makeEvents(4, 'doomed'));
    await handle.result();

    expect((await handle.query(deadLettersQuery)).map((d) => d.event.id)).toEqual([
      'doomed-000000',
      'doomed-000001',
    ]);
    // Reported by the workflow's activation before the first attempt: both batches queued.
    expect(backlogAtFirstAttempt).toBe(4);
    expect(await read(metrics, 'hookline_events_dead_lettered_total')).toBe(2);
    expect(await read(metrics, 'hookline_events_delivered_total')).toBe(2);
    const failed = await read(metrics, 'hookline_delivery_attempts_total', { outcome: 'status' });
    expect(failed).toBe(receiver.requests.length - 1);
    expect(failed).toBeGreaterThan(100); // doubling back-off, then hourly for 7 days
    // Deleted: the subscription's backlog series is gone.
    expect(await read(metrics, 'hookline_backlog_events', { subscription: sub.id })).toBeUndefined();

    // The same history replayed with the production sinks counts nothing; with sinks forced to run
    // during replay (the control) it counts the dead letters again, so the replay does reach them.
    const history = await handle.fetchHistory();
    const replayed = createMetrics({ defaultMetrics: false });
    await Worker.runReplayHistory(
      { workflowBundle: workflowBundle(), sinks: workflowSinks(replayed) },
      history,
      handle.workflowId,
    );
    expect(await read(replayed, 'hookline_events_dead_lettered_total')).toBe(0);
    expect(await read(replayed, 'hookline_backlog_events', { subscription: sub.id })).toBeUndefined();

    const control = createMetrics({ defaultMetrics: false });
    const always = workflowSinks(control);
    always.metrics.deadLettered.callDuringReplay = true;
    await Worker.runReplayHistory(
      { workflowBundle: workflowBundle(), sinks: always },
      history,
      handle.workflowId,
    );
    expect(await read(control, 'hookline_events_dead_lettered_total')).toBe(2);
  });
});
