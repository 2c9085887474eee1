/**
 * Each subscription's queue, as the API and the metrics see it: `store.queues`. The writing side
 * (locks, heads, limits) is ./enqueue.ts, the views ./queue-views.ts, dead letters and
 * redelivery ./dead-letters.ts; this class gives them their one place on the Store.
 */
import type { Db, Dialect } from './database';
import { listDeadLetters, redeliver, type DeadLetterView, type RedeliverQuery } from './dead-letters';
import type { BacklogLimits, Wake } from './enqueue';
import { entryStatus, queueView, type EntryStatus, type QueueView } from './queue-views';
import type { Sealer } from './sealing';

export type { BacklogLimits, Wake } from './enqueue';
export type { DeadLetterView } from './dead-letters';
export type { EntryStatus, QueueView } from './queue-views';

export class QueueRows {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly sealer: Sealer,
  ) {}

  /** Nothing is owed to a deleted subscription whose workflow is gone: it has nobody to tell. */
  async clearOwedOfDeleted(subscriptionId: string): Promise<void> {
    await this.db
      .updateTable('queues')
      .set({ wake_owed_at: null, sync_owed_at: null })
      .where('subscription_id', '=', subscriptionId)
      .where('open', '=', 0)
      .execute();
  }

  /** Events queued per open subscription (the backlog gauge, read at each scrape). */
  async backlogs(): Promise<{ subscriptionId: string; events: number }[]> {
    const rows = await this.db
      .selectFrom('queues')
      .select(['subscription_id', 'head_seq', 'done_seq'])
      .where('open', '=', 1)
      .execute();
    return rows.map((r) => ({ subscriptionId: r.subscription_id, events: r.head_seq - r.done_seq }));
  }

  /** Entries waiting, in delivery order (at most `limit`), and how many there are in all. */
  queue(subscriptionId: string, limit: number): Promise<QueueView> {
    return queueView(this.db, subscriptionId, limit);
  }

  /** Where one event stands at one subscription (its newest entry there), or null. */
  entry(subscriptionId: string, eventPk: number, eventId: string): Promise<EntryStatus | null> {
    return entryStatus(this.db, subscriptionId, eventPk, eventId);
  }

  /** Dead letters not yet expired or redelivered, oldest first (at most `limit`). */
  deadLetters(subscriptionId: string, now: number, limit = 1000): Promise<DeadLetterView[]> {
    return listDeadLetters(this.db, this.sealer, subscriptionId, now, limit);
  }

  /** See ./dead-letters.ts `redeliver`: dead letters and delivered events back at the queue's end. */
  redeliver(
    subscriptionId: string,
    req: RedeliverQuery,
    limits: BacklogLimits,
    now: number,
  ): Promise<{ requeued: string[]; wake: Wake | null; headSeq: number }> {
    return redeliver(this.db, this.dialect, subscriptionId, req, limits, now);
  }
}
