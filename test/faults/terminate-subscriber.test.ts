/**
 * A subscriber workflow terminated from outside (the Web UI's Terminate, `temporal workflow
 * terminate`): the queue lives in the store, so nothing is lost, but something must start the
 * workflow again. With a backlog that is the reconciler's scan (every RECONCILE_INTERVAL_MS); with an
 * idle queue, the next publish's wake finds no workflow and starts one.
 */
import type { Client } from '@temporalio/client';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import { sleep, until } from './support/env';
import { startFaultCase, type FaultCase } from './support/harness';

/** ms between the reconciler's scans in the backlog case. */
const RECONCILE_MS = 2_000;
/** ms the reconciler may take to notice: two scans, the list query and the start, on a loaded machine. */
const NOTICE_LIMIT_MS = 3 * RECONCILE_MS + 10_000;

/** The run id of the workflow's current run once it is running and is not `oldRunId`. */
async function newRun(client: Client, workflowId: string, oldRunId: string): Promise<string | null> {
  const d = await client.workflow
    .getHandle(workflowId)
    .describe()
    .catch(() => null);
  return d && d.runId !== oldRunId && d.status.name === 'RUNNING' ? d.runId : null;
}

/** Terminates the workflow's current run, as the Web UI's Terminate does; answers its run id. */
async function terminate(client: Client, workflowId: string): Promise<string> {
  const handle = client.workflow.getHandle(workflowId);
  const { runId } = await handle.describe();
  await handle.terminate('fault suite: terminated from outside');
  return runId;
}

describe('a subscriber workflow terminated from outside', () => {
  let fc: FaultCase | null = null;

  afterEach(async () => {
    await fc?.cleanup();
    fc = null;
  });

  it('with a backlog behind a failing endpoint: the reconciler starts it again and the backlog drains in order', async () => {
    const c = (fc = await startFaultCase({
      name: 'terminate-backlog',
      service: { kind: 'processes' },
      env: { RECONCILE_INTERVAL_MS: String(RECONCILE_MS) },
    }));
    const { ledger, receiver } = c;
    let sick = true;
    receiver.behave = (post) =>
      sick && post.path === '/sick' ? { kind: 'answer', status: 503 } : { kind: 'answer', status: 200 };
    const service = await c.start('all');
    const sickId = await c.subscribe('/sick', { maxBatchSize: 10 });
    await c.subscribe('/healthy', { maxBatchSize: 10 });
    c.producer({ prefix: 'tb', batchSize: 5, ratePerSecond: 20 });

    // A backlog builds up behind the failing batch.
    await until(
      () => receiver.posts.filter((p) => p.path === '/sick').length >= 2,
      60_000,
      'two failed attempts at /sick',
    );
    const client = await c.temporal();
    const workflowId = subscriberWorkflowId(sickId);
    const oldRunId = await terminate(client, workflowId);
    const terminatedAt = Date.now();
    const backlogAtTerminate = ledger.outstanding(receiver.posts.filter((p) => p.path === '/sick'));

    // Publishing goes on; no wake is owed (the queue is not idle), so only the scan can notice.
    let runId: string | null = null;
    await until(
      async () => (runId = await newRun(client, workflowId, oldRunId)) !== null,
      NOTICE_LIMIT_MS,
      'a new run of the terminated subscriber',
      100,
    );
    const noticedMs = Date.now() - terminatedAt;
    expect(service.output()).toContain('started subscriber workflows that were missing');

    // The endpoint recovers; the new run resumes the batch the old one was retrying (same webhook-id).
    await sleep(3_000);
    sick = false;
    const recoveredAt = Date.now();
    const verdict = await c.drain({
      recoveredAt,
      timeoutMs: 120_000,
      extra: {
        reconcileIntervalMs: RECONCILE_MS,
        terminateToNewRunMs: noticedMs,
        backlogAtTerminate,
        newRunId: runId,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.bySubscription[sickId]!.failedPosts).toBeGreaterThanOrEqual(2);
    expect(verdict.total.delivered).toBe(ledger.accepted.length * c.subscriptions.length);
    expect(backlogAtTerminate).toBeGreaterThan(0);
  });

  it('with an idle queue: the next publish’s wake starts it again, without the reconciler', async () => {
    // The reconciler scans once a minute (the default): too late to be what restarts it here.
    const c = (fc = await startFaultCase({ name: 'terminate-idle', service: { kind: 'processes' } }));
    const { ledger, receiver } = c;
    const worker = await c.start('worker');
    await c.start('api');
    const id = await c.subscribe('/idle', { maxBatchSize: 10 });
    const first = c.producer({ prefix: 'ti-first', batchSize: 5, maxEvents: 5 });
    await first.waitForAccepted(5, 30_000);
    await until(() => ledger.outstanding(receiver.posts) === 0, 60_000, 'the first events delivered');

    const client = await c.temporal();
    const workflowId = subscriberWorkflowId(id);
    const oldRunId = await terminate(client, workflowId);
    // Nothing restarts an idle subscription's workflow by itself (no backlog, nothing owed).
    await sleep(3_000);
    expect(await newRun(client, workflowId, oldRunId)).toBeNull();

    const publishedAt = Date.now();
    const second = c.producer({ prefix: 'ti-second', batchSize: 5, maxEvents: 5 });
    await second.waitForAccepted(5, 30_000);
    const ids = Array.from({ length: 5 }, (_, i) => `ti-second-${i}`);
    let settledAt: number | null = null;
    await until(
      () => (settledAt = ledger.settledAt(receiver.posts, ids)) !== null,
      30_000,
      'the events published after the terminate delivered',
    );
    const publishToDeliveredMs = settledAt! - publishedAt;
    expect(await newRun(client, workflowId, oldRunId)).not.toBeNull();
    // Neither of the reconciler's paths did it: no owed wake came due, no scan started it.
    expect(worker.output()).not.toContain('sent wakes the store owed');
    expect(worker.output()).not.toContain('started subscriber workflows that were missing');
    const verdict = await c.drain({
      recoveredAt: publishedAt,
      timeoutMs: 30_000,
      extra: { publishToDeliveredMs },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.delivered).toBe(10);
  });
});
