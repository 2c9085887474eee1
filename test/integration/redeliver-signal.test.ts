import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { deadLettersQuery, entryStatusQuery } from '../../src/workflows/messages';
import type { subscriberWorkflow } from '../../src/workflows/subscriber';
import type { WorkerHandle } from '../../src/worker';
import { TestReceiver, type ReceivedRequest } from '../support/receiver';
import { enqueueAll, makeEvents, makeSubscription, startSubscriber } from '../support/subscriber';
import { createTimeSkippingEnv, startTestWorker, uniqueTaskQueue } from '../support/temporal';

const DAY = 24 * 3_600_000;

const bodyIds = (r: ReceivedRequest) =>
  (JSON.parse(r.body) as { events: { id: string }[] }).events.map((e) => e.id);

/**
 * What an operator does in the Temporal Web UI ("Send a signal", name `redeliver`, JSON input): the
 * signal is sent by name with plain JSON, not through the typed definition, exactly as the UI sends it.
 */
describe('the redeliver signal, sent by name with JSON input as the Web UI does', () => {
  let env: TestWorkflowEnvironment;
  let worker: WorkerHandle;
  let receiver: TestReceiver;
  const taskQueue = uniqueTaskQueue('redeliver');

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    worker = await startTestWorker(taskQueue, { connection: env.nativeConnection, address: undefined });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await worker?.stop();
    await receiver?.close();
    await env?.teardown();
  });

  it('re-sends dead letters in their original order, by eventIds and then by since', async () => {
    const start = await env.currentTimeMs();
    const sinceStart = new Date(start).toISOString();
    const ok: ReceivedRequest[] = [];
    const deadWhenRecovered: string[] = [];
    const started: { handle?: WorkflowHandle<typeof subscriberWorkflow> } = {};

    // Down for 8 days: the first batch (3 events) dies at 7 days, the next one waits until day 8.
    receiver.respond(async (req) => {
      if ((await env.currentTimeMs()) - start < 8 * DAY) return { status: 503 };
      ok.push(req);
      const handle = started.handle!;
      // Each signal goes before the answer, so it lands while that batch is still in flight.
      if (ok.length === 1) {
        deadWhenRecovered.push(...(await handle.query(deadLettersQuery)).map((d) => d.event.id));
        // Listed out of order, on purpose: the queue keeps the original order anyway.
        await handle.signal('redeliver', { eventIds: ['doomed-000002', 'doomed-000000'] });
      } else if (ok.length === 2) {
        await handle.signal('redeliver', { since: sinceStart });
      } else {
        await handle.signal('delete');
      }
      return { status: 200 };
    });

    const handle = (started.handle = await startSubscriber(
      env.client,
      taskQueue,
      makeSubscription({ url: receiver.url, maxBatchSize: 3 }),
      { timeSkipping: true },
    ));
    await enqueueAll(handle, makeEvents(3, 'doomed'));
    await enqueueAll(handle, makeEvents(1, 'next'));
    await handle.result();

    expect(deadWhenRecovered).toEqual(['doomed-000000', 'doomed-000001', 'doomed-000002']);
    expect(ok.map(bodyIds)).toEqual([['next-000000'], ['doomed-000000', 'doomed-000002'], ['doomed-000001']]);
    expect(await handle.query(deadLettersQuery)).toEqual([]);
    for (const id of ['doomed-000000', 'doomed-000001', 'doomed-000002']) {
      expect(await handle.query(entryStatusQuery, id)).toMatchObject({ status: 'delivered' });
    }
  });
});
