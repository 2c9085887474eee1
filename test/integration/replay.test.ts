import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal as proto } from '@temporalio/proto';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { deleteSignal, redeliverSignal } from '../../src/workflows/messages';
import { TestReceiver } from '../support/receiver';
import { makeEvents, startSubscriberHarness, type SubscriberHarness } from '../support/subscriber';
import { connectDevServer, workflowBundle, type DevServerHarness } from '../support/temporal';

const fixtures = join(__dirname, '..', 'fixtures', 'histories');

/** Every workflow Hookline ships: its histories must stay replayable. */
const SHIPPED_WORKFLOWS = ['subscriberWorkflow', 'ingressWorkflow', 'handshakeWorkflow'];

/**
 * Histories recorded from the workflows as they shipped must replay on today's code without
 * non-determinism errors. `npx tsx scripts/record-histories.ts` records a new set from a real run of the
 * service (do that when a workflow change ships, after its `patched` guard); old files stay.
 */
describe('replaying recorded histories', () => {
  let temporal: DevServerHarness;
  beforeAll(async () => {
    temporal = await connectDevServer();
  });
  afterAll(async () => {
    await temporal.close();
  });

  it('replays a fresh history that covers retries, pause, resume, redelivery and delete', async () => {
    const receiver = await TestReceiver.start((_req, n) => ({ status: n === 0 ? 500 : 200 }));
    let harness: SubscriberHarness | undefined;
    try {
      harness = await startSubscriberHarness({ client: temporal.client });
      const { core, tenant } = harness;
      const sub = await harness.subscribe({ url: receiver.url, maxBatchSize: 5 });
      const handle = harness.handle(sub);
      await harness.publish(makeEvents(12, 'r'), 4);
      await receiver.waitFor(() => receiver.eventIds().length >= 12, 30_000);
      await core.subscriptions.setStatus(tenant, sub.id, 'paused');
      await harness.publish(makeEvents(3, 'p'));
      await core.subscriptions.setStatus(tenant, sub.id, 'active');
      await receiver.waitFor(() => receiver.eventIds().length >= 15, 30_000);
      await handle.signal(redeliverSignal, { eventIds: ['r-000000'] });
      await receiver.waitFor(() => receiver.eventIds().length >= 16, 30_000);
      await handle.signal(deleteSignal);
      await handle.result();

      const history = await handle.fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, handle.workflowId);
    } finally {
      await harness?.stop();
      await receiver.close();
    }
  });

  // Binary protobuf as the script records it, or JSON as `temporal workflow show --output json` exports it.
  const recorded = existsSync(fixtures) ? readdirSync(fixtures).filter((f) => /\.(binpb|json)$/.test(f)) : [];
  const load = (file: string) => {
    const raw = readFileSync(join(fixtures, file));
    return file.endsWith('.json')
      ? historyFromJSON(JSON.parse(raw.toString('utf8')))
      : proto.api.history.v1.History.decode(raw);
  };

  describe('every file of test/fixtures/histories', () => {
    /** File name → its replay result, from one replay worker that runs them all. */
    const results = new Map<string, ReplayResult>();
    beforeAll(async () => {
      const histories = recorded.map((file) => ({ workflowId: file, history: load(file) }));
      for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle() }, histories)) {
        results.set(result.workflowId, result);
      }
    });

    it.each(recorded)('replays %s without non-determinism', (file) => {
      const result = results.get(file);
      expect(result).toBeDefined();
      // The error (DeterminismViolationError or ReplayError) names the command that no longer matches.
      expect(result!.error).toBeUndefined();
    });

    it('covers every shipped workflow', () => {
      const types = new Set(
        recorded.map(
          (file) => load(file).events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name,
        ),
      );
      for (const name of SHIPPED_WORKFLOWS) expect(types).toContain(name);
    });
  });
});
