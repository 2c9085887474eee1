/**
 * A subscription's queue as the API shows it: the entries waiting, and where one event stands. Read
 * without locks: a view may be a moment old, never inconsistent within one entry.
 */
import { batchInFlight } from './attempts';
import type { Db } from './database';
import { NotFoundError } from './errors';

export interface QueueView {
  data: {
    eventId: string;
    type: string;
    enqueuedAt: string;
    status: 'pending' | 'delivering';
    attempts: number;
  }[];
  size: number;
}

export interface EntryStatus {
  eventId: string;
  status: 'pending' | 'delivering' | 'delivered' | 'dead';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
}

/** RFC 3339 of ms since the epoch. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** The queue row of `subscriptionId` (open or closed), or null. */
export async function queueHead(db: Db, subscriptionId: string) {
  const row = await db
    .selectFrom('queues')
    .select(['head_seq', 'done_seq', 'backlog_bytes', 'idle', 'open'])
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirst();
  return row ?? null;
}

/** Entries waiting, in delivery order (at most `limit`), and how many there are in all. */
export async function queueView(db: Db, subscriptionId: string, limit: number): Promise<QueueView> {
  const head = await queueHead(db, subscriptionId);
  if (!head) throw new NotFoundError('subscription');
  const rows = await db
    .selectFrom('queue_entries as e')
    .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
    .select(['e.seq', 'ev.event_id', 'ev.type', 'e.enqueued_at', 'e.attempts'])
    .where('e.subscription_id', '=', subscriptionId)
    .where('e.seq', '>', head.done_seq)
    .orderBy('e.seq')
    .limit(limit)
    .execute();
  const batch = await batchInFlight(db, subscriptionId, head.done_seq);
  return {
    data: rows.map((r) => {
      const delivering = batch !== null && r.seq >= batch.firstSeq && r.seq <= batch.lastSeq;
      return {
        eventId: r.event_id,
        type: r.type,
        enqueuedAt: iso(r.enqueued_at),
        status: delivering ? ('delivering' as const) : ('pending' as const),
        attempts: r.attempts + (delivering ? batch.attempt : 0),
      };
    }),
    size: head.head_seq - head.done_seq,
  };
}

/** Where one event stands at one subscription (its newest entry there), or null. */
export async function entryStatus(
  db: Db,
  subscriptionId: string,
  eventPk: number,
  eventId: string,
): Promise<EntryStatus | null> {
  const entry = await db
    .selectFrom('queue_entries')
    .select(['seq', 'attempts'])
    .where('subscription_id', '=', subscriptionId)
    .where('event_pk', '=', eventPk)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const head = await queueHead(db, subscriptionId);
  if (!entry || !head) return null;
  const attempt = await db
    .selectFrom('attempts')
    .select(['attempt', 'ok', 'status_code', 'error', 'at', 'duration_ms', 'first_seq'])
    .where('subscription_id', '=', subscriptionId)
    .where('last_seq', '>=', entry.seq)
    .orderBy('last_seq')
    .orderBy('attempt', 'desc')
    .limit(1)
    .executeTakeFirst();
  const covering = attempt && attempt.first_seq <= entry.seq ? attempt : null;
  const base = {
    eventId,
    attempts: entry.attempts + (covering?.attempt ?? 0),
    lastStatusCode: covering?.status_code ?? null,
    lastError: covering?.error ?? null,
    lastAttemptAt: covering ? iso(covering.at) : null,
    deliveredAt: null,
  };
  if (entry.seq > head.done_seq) return { ...base, status: covering ? 'delivering' : 'pending' };
  const dead = await db
    .selectFrom('dead_letters')
    .select(['attempts', 'last_status_code', 'last_error'])
    .where('subscription_id', '=', subscriptionId)
    .where('seq', '=', entry.seq)
    .executeTakeFirst();
  if (dead) {
    return {
      ...base,
      status: 'dead',
      attempts: dead.attempts,
      lastStatusCode: dead.last_status_code,
      lastError: dead.last_error,
    };
  }
  return {
    ...base,
    status: 'delivered',
    lastError: null,
    deliveredAt: covering ? iso(covering.at + covering.duration_ms) : null,
  };
}
