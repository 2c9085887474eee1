/**
 * Keeps subscriber workflows in step with the store, from every worker process:
 * - a wake or settings change the store still owes (its process crashed between the commit and the
 *   signal, or Temporal was down) is sent again after OWED_GRACE_MS, then every OWED_GRACE_MS;
 * - every `scanIntervalMs`, subscriptions that need their workflow now (a backlog, or a handshake to
 *   run) but have none running (terminated in the Web UI, failed, never started) get it started
 *   again from the store; it resumes at the first undelivered entry.
 * Several processes may run this at once: wakes and starts are idempotent.
 */
import type { Client } from '@temporalio/client';
import { sql } from 'kysely';
import type { Logger } from '../logger';
import type { Store } from '../store';
import { subscriberWorkflowId } from '../workflows/ids';
import type { Subscribers } from './subscribers';

/** ms a wake may be owed before it is sent again. */
export const OWED_GRACE_MS = 5_000;

export interface ReconcilerOptions {
  store: Store;
  client: Client;
  subscribers: Subscribers;
  taskQueue: string;
  logger: Logger;
  /** ms between scans for missing workflows (owed wakes are checked every OWED_GRACE_MS / 2). */
  scanIntervalMs: number;
}

export class Reconciler {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ReconcilerOptions) {}

  start(): void {
    const every = (ms: number, job: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        this.running = this.running
          .then(job)
          .catch((err: unknown) =>
            this.opts.logger.warn({ err }, 'reconciler round failed; next round retries'),
          );
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(OWED_GRACE_MS / 2, () => this.resendOwed(Date.now()));
    every(this.opts.scanIntervalMs, () => this.restartMissing());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running.catch(() => undefined);
  }

  /** Sends the wakes owed for longer than OWED_GRACE_MS; answers how many. */
  async resendOwed(now: number): Promise<number> {
    const cutoff = now - OWED_GRACE_MS;
    const rows = await this.opts.store.db
      .selectFrom('queues')
      .select(['subscription_id', 'head_seq', 'wake_owed_at', 'sync_owed_at'])
      // A sync is owed to deleted subscriptions too: that is how their workflows hear of the delete.
      .where((eb) =>
        eb.or([
          eb.and([eb('open', '=', 1), eb('wake_owed_at', '<', cutoff)]),
          eb('sync_owed_at', '<', cutoff),
        ]),
      )
      .limit(500)
      .execute();
    if (rows.length === 0) return 0;
    // Owed from now on again: the next resend comes after another grace period, not every round.
    // The cast: with only `null` beside it, PostgreSQL would type the parameter as text.
    await this.opts.store.db
      .updateTable('queues')
      .set({
        wake_owed_at: sql<number>`case when wake_owed_at is null then null else cast(${now} as bigint) end`,
        sync_owed_at: sql<number>`case when sync_owed_at is null then null else cast(${now} as bigint) end`,
      })
      .where(
        'subscription_id',
        'in',
        rows.map((r) => r.subscription_id),
      )
      .execute();
    for (const r of rows) {
      this.opts.subscribers.wake(r.subscription_id, {
        headSeq: r.head_seq,
        changed: r.sync_owed_at !== null,
      });
    }
    this.opts.logger.info({ count: rows.length }, 'sent wakes the store owed');
    return rows.length;
  }

  /** Starts the workflows that should run and do not; answers how many were started. */
  async restartMissing(): Promise<number> {
    const needed = await this.opts.store.db
      .selectFrom('queues as q')
      .innerJoin('subscriptions as s', 's.id', 'q.subscription_id')
      .select(['s.id'])
      .where('q.open', '=', 1)
      .where('s.deleted_at', 'is', null)
      .where((eb) =>
        eb.or([eb('q.head_seq', '>', eb.ref('q.done_seq')), eb('s.status', '=', 'pending_validation')]),
      )
      .execute();
    if (needed.length === 0) return 0;
    const running = new Set<string>();
    const query = `WorkflowType = 'subscriberWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.opts.taskQueue.replace(/'/g, '')}'`;
    for await (const execution of this.opts.client.workflow.list({ query }))
      running.add(execution.workflowId);
    let started = 0;
    for (const { id } of needed) {
      if (running.has(subscriberWorkflowId(id))) continue;
      try {
        if (await this.opts.subscribers.start(id)) started++;
      } catch (err) {
        this.opts.logger.warn({ err, subscriptionId: id }, 'could not start a missing subscriber');
      }
    }
    if (started > 0) this.opts.logger.warn({ started }, 'started subscriber workflows that were missing');
    return started;
  }
}
