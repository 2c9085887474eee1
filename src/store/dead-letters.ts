/**
 * Dead letters: the entries of a batch whose 7-day retry window ran out (written by
 * SubscriberProgressRows.deadLetter), listed for the API until they expire, and re-queued on
 * request. A re-queued dead letter keeps its row (`requeued_at` set) and gets a new entry at the end
 * of the queue.
 */
import type { HooklineEvent } from '../domain/types';
import type { Db, Dialect, QueueEntriesTable } from './database';
import {
  appendEntries,
  BACKLOG_RETRY_AFTER_SECONDS,
  lockQueues,
  overLimit,
  saveHeads,
  type BacklogLimits,
  type Wake,
} from './enqueue';
import { BacklogFullError, NotFoundError } from './errors';
import { JOINED_EVENT_COLUMNS, toEvent } from './events';
import { iso } from './queue-views';
import type { Sealer } from './sealing';

/** A dead letter is kept this long after it died, then purged: the API's "7-day limit". */
export const DEAD_LETTER_RETENTION_MS = 7 * 24 * 3_600_000;

export interface DeadLetterView {
  event: HooklineEvent;
  enqueuedAt: string;
  msgId: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deadAt: string;
}

/** What a redelivery names: events by id (dead or delivered), or every dead letter since a time. */
export interface RedeliverQuery {
  eventIds?: string[];
  /** RFC 3339: every dead letter first queued at or after it. */
  since?: string;
}

/** The dead letters of `subscriptionId` neither expired nor redelivered, oldest first, with entry and event. */
function kept(db: Db, subscriptionId: string, now: number) {
  return db
    .selectFrom('dead_letters as d')
    .innerJoin('queue_entries as e', (j) =>
      j.onRef('e.subscription_id', '=', 'd.subscription_id').onRef('e.seq', '=', 'd.seq'),
    )
    .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
    .where('d.subscription_id', '=', subscriptionId)
    .where('d.requeued_at', 'is', null)
    .where('d.dead_at', '>', now - DEAD_LETTER_RETENTION_MS)
    .orderBy('d.seq');
}

/** Dead letters not yet expired or redelivered, oldest first (at most `limit`). */
export async function listDeadLetters(
  db: Db,
  sealer: Sealer,
  subscriptionId: string,
  now: number,
  limit: number,
): Promise<DeadLetterView[]> {
  const rows = await kept(db, subscriptionId, now)
    .select([
      'd.msg_id',
      'd.attempts',
      'd.last_status_code',
      'd.last_error',
      'd.dead_at',
      'e.enqueued_at',
      ...JOINED_EVENT_COLUMNS,
    ])
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    event: toEvent(r, sealer),
    enqueuedAt: iso(r.enqueued_at),
    msgId: r.msg_id,
    attempts: r.attempts,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    deadAt: iso(r.dead_at),
  }));
}

/**
 * Of the events `eventIds`, those delivered here: their newest entry, finished (at or below
 * `doneSeq`) and not dead, in queue order. An event queued now, or never queued here, is left out.
 */
async function deliveredEntries(db: Db, subscriptionId: string, eventIds: string[], doneSeq: number) {
  if (eventIds.length === 0) return [];
  const rows = await db
    .selectFrom('queue_entries as e')
    .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
    .leftJoin('dead_letters as d', (j) =>
      j.onRef('d.subscription_id', '=', 'e.subscription_id').onRef('d.seq', '=', 'e.seq'),
    )
    .select(['e.seq', 'e.event_pk', 'e.bytes', 'ev.event_id', 'd.seq as dead_seq'])
    .where('e.subscription_id', '=', subscriptionId)
    .where('ev.event_id', 'in', eventIds)
    .orderBy('e.seq')
    .execute();
  const newest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) newest.set(r.event_id, r);
  return [...newest.values()]
    .sort((a, b) => a.seq - b.seq)
    .filter((r) => r.seq <= doneSeq && r.dead_seq === null);
}

/**
 * Re-queues, at the end of the queue and in their original order, the dead letters named by id (or
 * every one first queued at or after `since`), then the delivered events named by id that are not
 * queued now. The backlog limits hold here as on publish. Answers the ids queued and the wake owed.
 */
export async function redeliver(
  db: Db,
  dialect: Dialect,
  subscriptionId: string,
  req: RedeliverQuery,
  limits: BacklogLimits,
  now: number,
): Promise<{ requeued: string[]; wake: Wake | null; headSeq: number }> {
  return db.transaction().execute(async (trx) => {
    const queue = (await lockQueues(trx, dialect, [subscriptionId])).get(subscriptionId);
    if (!queue) throw new NotFoundError('subscription');
    let dead = kept(trx, subscriptionId, now).select([
      'd.seq',
      'd.attempts',
      'e.event_pk',
      'e.bytes',
      'e.enqueued_at',
      'ev.event_id',
    ]);
    if (req.eventIds) dead = dead.where('ev.event_id', 'in', req.eventIds);
    else dead = dead.where('e.enqueued_at', '>=', Date.parse(req.since ?? '9999-12-31T23:59:59Z'));
    const deadRows = await dead.execute();
    const chosen = new Set(deadRows.map((d) => d.event_id));
    const others = (req.eventIds ?? []).filter((id) => !chosen.has(id));
    const delivered = await deliveredEntries(trx, subscriptionId, others, queue.doneSeq);

    const count = deadRows.length + delivered.length;
    const bytes = [...deadRows, ...delivered].reduce((sum, r) => sum + r.bytes, 0);
    if (count === 0) return { requeued: [], wake: null, headSeq: queue.headSeq };
    if (overLimit(queue, count, bytes, limits)) {
      throw new BacklogFullError([subscriptionId], BACKLOG_RETRY_AFTER_SECONDS);
    }
    // A dead letter keeps its attempts and its first enqueue time; a delivered event starts afresh.
    const requeued = [
      ...deadRows.map((d) => ({ ...d, enqueuedAt: d.enqueued_at })),
      ...delivered.map((d) => ({ ...d, attempts: 0, enqueuedAt: now })),
    ];
    const entries: QueueEntriesTable[] = requeued.map((r) => ({
      subscription_id: subscriptionId,
      seq: ++queue.headSeq,
      event_pk: r.event_pk,
      bytes: r.bytes,
      attempts: r.attempts,
      enqueued_at: r.enqueuedAt,
    }));
    await appendEntries(trx, entries);
    if (deadRows.length > 0) {
      await trx
        .updateTable('dead_letters')
        .set({ requeued_at: now })
        .where('subscription_id', '=', subscriptionId)
        .where(
          'seq',
          'in',
          deadRows.map((d) => d.seq),
        )
        .execute();
    }
    queue.backlogBytes += bytes;
    const [wake] = await saveHeads(trx, dialect, [queue], now);
    return { requeued: requeued.map((r) => r.event_id), wake: wake ?? null, headSeq: queue.headSeq };
  });
}
