import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal as proto } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { deleteSignal, redeliverUpdate, setStatusUpdate } from '../../src/workflows/messages';
import { TestReceiver } from '../support/receiver';
import { enqueueAll, makeEvents, makeSubscription, startSubscriber } from '../support/subscriber';
import {
  connectDevServer,
  startTestWorker,
  uniqueTaskQueue,
  workflowBundle,
  type DevServerHarness,
} from '../support/temporal';

const fixtures = join(__dirname, '..', 'fixtures', 'histories');

/**
 * Histories recorded from the workflows as they shipped must replay on today's code without
 * non-determinism errors. `RECORD_HISTORIES=1 npx jest test/integration/replay.test.ts` records a new
 * fixture from the run below (do that when a workflow change ships, after its `patched` guard).
 */
describe('replaying subscriber histories', () => {
  let temporal: DevServerHarness;
  beforeAll(async () => {
    temporal = await connectDevServer();
  });
  afterAll(async () => {
    await temporal.close();
  });

  it('replays a fresh history that covers retries, pause, resume, redelivery and delete', async () => {
    const taskQueue = uniqueTaskQueue('replay');
    const worker = await startTestWorker(taskQueue);
    const receiver = await TestReceiver.start((_req, n) => ({ status: n === 0 ? 500 : 200 }));
    try {
      const handle = await startSubscriber(
        temporal.client,
        taskQueue,
        makeSubscription({ url: receiver.url, maxBatchSize: 5 }),
      );
      await enqueueAll(handle, makeEvents(12, 'r'), 4);
      await receiver.waitFor(() => receiver.eventIds().length >= 12, 30_000);
      await handle.executeUpdate(setStatusUpdate, {
        args: [{ status: 'paused', at: new Date().toISOString() }],
      });
      await enqueueAll(handle, makeEvents(3, 'p'));
      await handle.executeUpdate(setStatusUpdate, {
        args: [{ status: 'active', at: new Date().toISOString() }],
      });
      await receiver.waitFor(() => receiver.eventIds().length >= 15, 30_000);
      await handle.executeUpdate(redeliverUpdate, { args: [{ eventIds: ['none'] }] });
      await handle.signal(deleteSignal);
      await handle.result();

      const history = await handle.fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, handle.workflowId);
      if (process.env.RECORD_HISTORIES === '1') {
        writeFileSync(
          join(fixtures, `subscriber-${new Date().toISOString().slice(0, 10)}.binpb`),
          proto.api.history.v1.History.encode(history).finish(),
        );
      }
    } finally {
      await worker.stop();
      await receiver.close();
    }
  });

  // Binary protobuf as recorded above, or JSON as `temporal workflow show --output json` exports it.
  const recorded = existsSync(fixtures) ? readdirSync(fixtures).filter((f) => /\.(binpb|json)$/.test(f)) : [];
  it.each(recorded)('replays the recorded history %s', async (file) => {
    const raw = readFileSync(join(fixtures, file));
    const history = file.endsWith('.json')
      ? historyFromJSON(JSON.parse(raw.toString('utf8')))
      : proto.api.history.v1.History.decode(raw);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, file);
  });

  it('has at least one recorded history to hold today’s code against', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(1);
  });
});
