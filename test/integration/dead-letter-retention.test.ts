import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { deadLettersQuery, deleteSignal, entryStatusQuery } from '../../src/workflows/messages';
import type { WorkerHandle } from '../../src/worker';
import { TestReceiver } from '../support/receiver';
import { enqueueAll, makeEvents, makeSubscription, startSubscriber } from '../support/subscriber';
import { createTimeSkippingEnv, startTestWorker, uniqueTaskQueue } from '../support/temporal';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('dead-letter retention, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let worker: WorkerHandle;
  let receiver: TestReceiver;
  let taskQueue: string;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    taskQueue = uniqueTaskQueue('dead-retention');
    worker = await startTestWorker(taskQueue, { connection: env.nativeConnection, address: undefined });
    receiver = await TestReceiver.start(() => ({ status: 503 }));
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await env?.teardown();
  });

  it('an idle subscription drops its dead letters 7 days after they died, without any new event', async () => {
    const start = await env.currentTimeMs();
    const handle = await startSubscriber(
      env.client,
      taskQueue,
      makeSubscription({ url: receiver.url, maxBatchSize: 2 }),
      { timeSkipping: true },
    );
    await enqueueAll(handle, makeEvents(2, 'doomed'));

    // 7 days of retries (503 every time), then the batch dies.
    await env.sleep(7 * DAY + 2 * HOUR);
    const dead = await handle.query(deadLettersQuery);
    expect(dead.map((d) => d.event.id)).toEqual(['doomed-000000', 'doomed-000001']);
    const diedAfter = Date.parse(dead[0]!.deadAt) - start;
    expect(diedAfter).toBeGreaterThanOrEqual(7 * DAY);
    const requestsWhenDead = receiver.requests.length;

    // Six more days: still kept, and still redeliverable.
    await env.sleep(6 * DAY);
    expect(await handle.query(deadLettersQuery)).toHaveLength(2);

    // Past 7 days after death: the workflow woke by itself and purged them.
    await env.sleep(DAY + HOUR);
    expect(await handle.query(deadLettersQuery)).toEqual([]);
    expect(await handle.query(entryStatusQuery, 'doomed-000000')).toBeNull();
    // Nothing was sent while it waited: the wake-up is a timer, not a delivery.
    expect(receiver.requests.length).toBe(requestsWhenDead);

    // The wake-up timer is labelled for the Web UI.
    const history = await handle.fetchHistory();
    const timerSummaries = (history.events ?? [])
      .filter((e) => e.timerStartedEventAttributes && e.userMetadata?.summary)
      .map((e) => defaultPayloadConverter.fromPayload<string>(e.userMetadata!.summary!));
    expect(timerSummaries).toContain('dead letters expire');

    await handle.signal(deleteSignal);
    await handle.result();
  });
});
