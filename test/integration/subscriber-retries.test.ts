import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { HooklineEvent, Subscription } from '../../src/domain/types';
import {
  deadLettersQuery,
  deleteSignal,
  deliveriesQuery,
  entryStatusQuery,
} from '../../src/workflows/messages';
import type { subscriberWorkflow } from '../../src/workflows/subscriber';
import type { WorkerHandle } from '../../src/worker';
import { TestReceiver, type ReceivedRequest } from '../support/receiver';
import { enqueueAll, makeEvents, makeSubscription, startSubscriber } from '../support/subscriber';
import { createTimeSkippingEnv, startTestWorker, uniqueTaskQueue } from '../support/temporal';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('retries over days, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let worker: WorkerHandle;
  let receiver: TestReceiver;
  let taskQueue: string;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  beforeEach(async () => {
    taskQueue = uniqueTaskQueue('retry');
    worker = await startTestWorker(taskQueue, { connection: env.nativeConnection, address: undefined });
    receiver = await TestReceiver.start();
  });
  afterEach(async () => {
    await worker.stop();
    await receiver.close();
  });

  const bodyIds = (r: ReceivedRequest) =>
    (JSON.parse(r.body) as { events: { id: string }[] }).events.map((e) => e.id);

  /**
   * Starts a subscriber whose endpoint answers `status(ms since the start, in workflow time)`, queues
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
    const started: { handle?: WorkflowHandle<typeof subscriberWorkflow> } = {};
    receiver.respond(async (req) => {
      const status = opts.status((await env.currentTimeMs()) - start);
      if (status < 300) {
        ok.push(req);
        // Before answering: once the workflow is idle, the server skips straight to its timeout.
        if (opts.done(ok)) await started.handle!.signal(deleteSignal);
      }
      return { status };
    });
    const handle = (started.handle = await startSubscriber(
      env.client,
      taskQueue,
      makeSubscription({ url: receiver.url, ...opts.subscription }),
      { timeSkipping: true },
    ));
    for (const batch of opts.batches) await enqueueAll(handle, batch);
    await handle.result();
    return { handle, ok, start };
  }

  it('an endpoint down for 6 days gets the batch with the same webhook-id, then later events in order', async () => {
    const { handle, ok } = await scenario({
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
    expect(await handle.query(deadLettersQuery)).toEqual([]);
  });

  it('an endpoint down for 8 days: the batch is dead-lettered at 7 days and the next batch is delivered', async () => {
    const { handle, ok, start } = await scenario({
      status: (elapsed) => (elapsed < 8 * DAY ? 503 : 200),
      subscription: { maxBatchSize: 2 },
      batches: [makeEvents(2, 'doomed'), makeEvents(2, 'next')],
      done: (ok) => ok.length >= 1,
    });

    const dead = await handle.query(deadLettersQuery);
    expect(dead.map((d) => d.event.id)).toEqual(['doomed-000000', 'doomed-000001']);
    expect(dead[0]!.lastStatusCode).toBe(503);
    const deadAfter = Date.parse(dead[0]!.deadAt) - start;
    expect(deadAfter).toBeGreaterThanOrEqual(7 * DAY);
    expect(deadAfter).toBeLessThan(7 * DAY + HOUR);
    expect(ok.flatMap(bodyIds)).toEqual(['next-000000', 'next-000001']);
    expect(ok[0]!.headers['webhook-id']).not.toBe(dead[0]!.msgId);
    expect(await handle.query(entryStatusQuery, 'doomed-000000')).toMatchObject({ status: 'dead' });
    expect(await handle.query(entryStatusQuery, 'next-000001')).toMatchObject({ status: 'delivered' });
  });

  it('spaces the attempts 1, 2, 4 … seconds apart, then hourly', async () => {
    const { handle } = await scenario({
      status: (elapsed) => (elapsed < 5 * HOUR ? 500 : 200),
      subscription: {},
      batches: [makeEvents(1, 'sched')],
      done: (ok) => ok.length >= 1,
    });

    const attempts = (await handle.query(deliveriesQuery, 100)).reverse();
    const gapsSeconds = attempts
      .slice(1)
      .map((a, i) => (Date.parse(a.at) - Date.parse(attempts[i]!.at)) / 1000);
    const expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600];
    expect(gapsSeconds.slice(0, expected.length).map(Math.round)).toEqual(expected);
    expect(attempts.at(-1)!.statusCode).toBe(200);
  });
});
