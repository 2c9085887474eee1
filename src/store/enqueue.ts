/**
 * Writing to a subscription's queue: one `queues` row (head, done, backlog bytes, the idle flag)
 * and its entries in sequence order. Every writer of a queue takes its row's lock first
 * (publishers, in subscription id order, so concurrent publishes cannot deadlock), which is what
 * makes sequence numbers commit in order and the idle/wake handshake free of lost wake-ups.
 */
import { sql } from 'kysely';
import type { Db, Dialect, QueueEntriesTable } from './database';

/** Most events and bytes one subscription holds queued; past them a publish answers 503. */
export interface BacklogLimits {
  maxEvents: number;
  maxBytes: number;
}

/** Retry-After of a 503 for a full backlog: enough for a few batches to drain. */
export const BACKLOG_RETRY_AFTER_SECONDS = 5;

/** Rows per multi-row statement (well under SQLite's and PostgreSQL's parameter limits). */
export const CHUNK = 500;

export interface LockedQueue {
  subscriptionId: string;
  headSeq: number;
  doneSeq: number;
  backlogBytes: number;
  idle: boolean;
}

/** A subscriber to wake after the commit: an enqueue found it idle. */
export interface Wake {
  subscriptionId: string;
  headSeq: number;
}

/** Locks the open queues of `ids` (sorted: a fixed lock order), and answers them by id. */
export async function lockQueues(db: Db, dialect: Dialect, ids: string[]): Promise<Map<string, LockedQueue>> {
  const out = new Map<string, LockedQueue>();
  const sorted = [...new Set(ids)].sort();
  for (let i = 0; i < sorted.length; i += CHUNK) {
    let q = db
      .selectFrom('queues')
      .select(['subscription_id', 'head_seq', 'done_seq', 'backlog_bytes', 'idle'])
      .where('subscription_id', 'in', sorted.slice(i, i + CHUNK))
      .where('open', '=', 1)
      .orderBy('subscription_id');
    if (dialect === 'postgres') q = q.forUpdate();
    for (const r of await q.execute()) {
      out.set(r.subscription_id, {
        subscriptionId: r.subscription_id,
        headSeq: r.head_seq,
        doneSeq: r.done_seq,
        backlogBytes: r.backlog_bytes,
        idle: r.idle === 1,
      });
    }
  }
  return out;
}

/** Why adding `events` events of `bytes` bytes to `queue` would exceed `limits`, or null. */
export function overLimit(
  queue: LockedQueue,
  events: number,
  bytes: number,
  limits: BacklogLimits,
): string | null {
  const count = queue.headSeq - queue.doneSeq + events;
  if (count > limits.maxEvents) return `${count} events would exceed ${limits.maxEvents}`;
  const total = queue.backlogBytes + bytes;
  if (total > limits.maxBytes) return `${total} bytes would exceed ${limits.maxBytes}`;
  return null;
}

export async function appendEntries(db: Db, rows: QueueEntriesTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto('queue_entries')
      .values(rows.slice(i, i + CHUNK))
      .execute();
  }
}

/**
 * Writes the new heads of queues that got entries: head, backlog bytes, and the idle flag cleared.
 * Answers the wakes owed: queues that were idle. `queues` must have been locked in this transaction.
 */
export async function saveHeads(
  db: Db,
  dialect: Dialect,
  queues: LockedQueue[],
  now: number,
): Promise<Wake[]> {
  const wakes = queues
    .filter((q) => q.idle)
    .map((q) => ({ subscriptionId: q.subscriptionId, headSeq: q.headSeq }));
  if (dialect === 'postgres') {
    for (let i = 0; i < queues.length; i += CHUNK) {
      const values = queues
        .slice(i, i + CHUNK)
        .map(
          (q) =>
            sql`(${q.subscriptionId}::text, ${q.headSeq}::bigint, ${q.backlogBytes}::bigint, ${q.idle ? now : null}::bigint)`,
        );
      await sql`
        update queues set head_seq = v.head, backlog_bytes = v.bytes, idle = 0,
          wake_owed_at = coalesce(queues.wake_owed_at, v.owed)
        from (values ${sql.join(values)}) as v(id, head, bytes, owed)
        where queues.subscription_id = v.id`.execute(db);
    }
    return wakes;
  }
  for (const q of queues) {
    await db
      .updateTable('queues')
      .set({
        head_seq: q.headSeq,
        backlog_bytes: q.backlogBytes,
        idle: 0,
        ...(q.idle ? { wake_owed_at: sql<number>`coalesce(wake_owed_at, ${now})` } : {}),
      })
      .where('subscription_id', '=', q.subscriptionId)
      .execute();
  }
  return wakes;
}

/** Marks that the subscriber must re-read its settings (the API changed them); locks the row. */
export async function owesSync(db: Db, subscriptionId: string, now: number): Promise<void> {
  await db
    .updateTable('queues')
    .set({ sync_owed_at: sql<number>`coalesce(sync_owed_at, ${now})` })
    .where('subscription_id', '=', subscriptionId)
    .execute();
}

/** The empty queue of a new subscription (in the transaction that inserts it). */
export async function openQueue(db: Db, subscriptionId: string): Promise<void> {
  await db
    .insertInto('queues')
    .values({
      subscription_id: subscriptionId,
      head_seq: 0,
      done_seq: 0,
      backlog_bytes: 0,
      idle: 0,
      wake_owed_at: null,
      sync_owed_at: null,
      open: 1,
    })
    .execute();
}

/**
 * Closes the queue of a subscription being deleted, under the row's lock, so no publish enqueues to
 * it after this commits; the subscriber is owed a sync (it must learn of the delete).
 */
export async function closeQueue(
  db: Db,
  dialect: Dialect,
  subscriptionId: string,
  now: number,
): Promise<void> {
  let lock = db.selectFrom('queues').select('subscription_id').where('subscription_id', '=', subscriptionId);
  if (dialect === 'postgres') lock = lock.forUpdate();
  await lock.execute();
  await db
    .updateTable('queues')
    .set({ open: 0, idle: 0, wake_owed_at: null, sync_owed_at: now })
    .where('subscription_id', '=', subscriptionId)
    .execute();
}
