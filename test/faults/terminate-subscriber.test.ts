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
import { logTimes } from './support/service';

/** ms between the reconciler's scans in the backlog case. */
const RECONCILE_MS = 2_000;
/** ms to wait for the new run before giving up: a bound of the wait, not a claim (it is reported). */
const NEW_RUN_WAIT_MS = 120_000;

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

  it('with a backlog behind a failing endpoint: the reconciler starts it again, it resumes at the first undelivered entry, and everything drains in order', async () => {
    const c = (fc = await startFaultCase({
      name: 'terminate-backlog',
      service: { kind: 'processes' },
      env: { RECONCILE_INTERVAL_MS: String(RECONCILE_MS) },
    }));
    const { ledger, receiver } = c;
    let sick = false;
    // Retry-After: 1 keeps the back-off at 1 s, so the failing batch is tried often.
    receiver.behave = (post) =>
      sick && post.path === '/sick'
        ? { kind: 'answer', status: 503, headers: { 'retry-after': '1' } }
        : { kind: 'answer', status: 200 };
    const service = await c.start('all');
    const sickId = await c.subscribe('/sick', { maxBatchSize: 10 });
    await c.subscribe('/healthy', { maxBatchSize: 10 });
    const producer = c.producer({ prefix: 'tb', batchSize: 5, ratePerSecond: 20 });
    const sickPosts = () => receiver.posts.filter((p) => p.path === '/sick');

    // Some of /sick delivered first, so "the first undelivered entry" is not simply the first one.
    await until(() => sickPosts().filter((p) => p.answered === 200).length >= 3, 60_000, '/sick delivering');
    sick = true;
    // A backlog builds up behind the failing batch.
    await until(
      () => sickPosts().filter((p) => p.answered === 503).length >= 2,
      60_000,
      'two failed attempts',
    );
    const client = await c.temporal();
    const workflowId = subscriberWorkflowId(sickId);
    const oldRunId = await terminate(client, workflowId);
    const terminatedAt = Date.now();
    const postsAtTerminate = sickPosts().length;
    const retried = sickPosts().at(-1)!;
    const acked = new Set(sickPosts().flatMap((p) => (p.answered === 200 ? p.eventIds : [])));
    const firstUndelivered = ledger.accepted.find((id) => !acked.has(id))!;
    // Every accepted event is owed to /sick: what it has not acknowledged is its backlog.
    const backlogAtTerminate = ledger.accepted.filter((id) => !acked.has(id)).length;
    const acceptedAtTerminate = ledger.accepted.length;

    // Publishing goes on; no wake is owed (the queue is not idle), so only the scan can notice.
    await until(
      async () => (await newRun(client, workflowId, oldRunId)) !== null,
      NEW_RUN_WAIT_MS,
      'a new run of the terminated subscriber',
      100,
    );
    const terminateToNewRunMs = Date.now() - terminatedAt;
    const acceptedWhileTerminated = ledger.accepted.length - acceptedAtTerminate;
    const starts = logTimes(service.output(), 'started subscriber workflows that were missing');
    expect(starts.filter((t) => t >= terminatedAt).length).toBeGreaterThan(0);

    // The new run's first attempt: the batch the old run was retrying, same webhook-id, from the
    // first entry not yet delivered (the store recorded the attempts; the workflow state is gone).
    await until(() => sickPosts().length > postsAtTerminate, 60_000, 'an attempt of the new run');
    const resumed = sickPosts()[postsAtTerminate]!;
    expect(resumed.webhookId).toBe(retried.webhookId);
    expect(resumed.eventIds).toEqual(retried.eventIds);
    expect(resumed.eventIds[0]).toBe(firstUndelivered);

    // The endpoint recovers; the backlog, and what was published meanwhile, drain in order.
    sick = false;
    const recoveredAt = Date.now();
    await producer.stop();
    const verdict = await c.drain({
      recoveredAt,
      timeoutMs: 120_000,
      extra: {
        reconcileIntervalMs: RECONCILE_MS,
        terminateToNewRunMs,
        backlogAtTerminate,
        acceptedWhileTerminated,
        resumedWebhookId: resumed.webhookId,
        resumedAtEvent: firstUndelivered,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.bySubscription[sickId]!.failedPosts).toBeGreaterThanOrEqual(2);
    expect(verdict.total.delivered).toBe(ledger.accepted.length * c.subscriptions.length);
    expect(backlogAtTerminate).toBeGreaterThan(0);
  });

  it('with an idle queue: the next publish’s wake starts it again, without the reconciler', async () => {
    // The reconciler's scan for missing workflows never runs during this case (once an hour).
    const c = (fc = await startFaultCase({
      name: 'terminate-idle',
      service: { kind: 'processes' },
      env: { RECONCILE_INTERVAL_MS: '3600000' },
    }));
    const { ledger, receiver } = c;
    const worker = await c.start('worker');
    await c.start('api');
    const id = await c.subscribe('/idle', { maxBatchSize: 10 });
    const first = c.producer({ prefix: 'ti-first', batchSize: 5, maxEvents: 5 });
    await first.waitForAccepted(5, 30_000);
    await until(() => ledger.outstanding(receiver.posts) === 0, 60_000, 'the first events delivered');
    await until(async () => (await c.queued()) === 0, 60_000, 'the first events recorded in the store');

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
    // The scan did not do it (it never ran); the publish's wake found no workflow and started one
    // (or, if that start failed, the owed wake's re-send did: reported).
    expect(worker.output()).not.toContain('started subscriber workflows that were missing');
    const owedResends = logTimes(worker.output(), 'sent wakes the store owed').length;
    const verdict = await c.drain({
      recoveredAt: publishedAt,
      timeoutMs: 30_000,
      extra: { publishToDeliveredMs, owedResends },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.delivered).toBe(10);
  });
});
