/**
 * Each subscription's queue: one `queues` row (head, done, backlog bytes, the idle flag) and its
 * entries in sequence order. Every writer of a queue takes its row's lock first (publishers, in
 * subscription id order, so concurrent publishes cannot deadlock), which is what makes sequence
 * numbers commit in order and the idle/wake handshake free of lost wake-ups.
 */
import { sql } from 'kysely';
import type { HooklineEvent } from '../domain/types';
import type { Db, Dialect, QueueEntriesTable } from './database';
import { BacklogFullError, NotFoundError } from './errors';
import { toEvent } from './events';
import type { Sealer } from './sealing';

/** Most events and bytes one subscription holds queued; past them a publish answers 503. */
export interface BacklogLimits {
  maxEvents: number;
  maxBytes: number;
}

/** Retry-After of a 503 for a full backlog: enough for a few batches to drain. */
export const BACKLOG_RETRY_AFTER_SECONDS = 5;

/** A dead letter is kept this long after it died, then purged: the API's "7-day limit". */
export const DEAD_LETTER_RETENTION_MS = 7 * 24 * 3_600_000;

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

// ---- Views for the API ----

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

export interface DeadLetterView {
  event: HooklineEvent;
  enqueuedAt: string;
  msgId: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  deadAt: string;
}

/** The batch in flight as the store knows it: the newest attempt of a batch that has not finished. */
interface BatchInFlight {
  msgId: string;
  firstSeq: number;
  lastSeq: number;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

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

  private async head(db: Db, subscriptionId: string) {
    const row = await db
      .selectFrom('queues')
      .select(['head_seq', 'done_seq', 'backlog_bytes', 'idle', 'open'])
      .where('subscription_id', '=', subscriptionId)
      .executeTakeFirst();
    return row ?? null;
  }

  async inFlight(db: Db, subscriptionId: string, doneSeq: number): Promise<BatchInFlight | null> {
    const row = await db
      .selectFrom('attempts')
      .select(['msg_id', 'first_seq', 'last_seq', 'attempt', 'status_code', 'error', 'at'])
      .where('subscription_id', '=', subscriptionId)
      .where('last_seq', '>', doneSeq)
      .orderBy('pk', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return null;
    return {
      msgId: row.msg_id,
      firstSeq: row.first_seq,
      lastSeq: row.last_seq,
      attempt: row.attempt,
      statusCode: row.status_code,
      error: row.error,
      at: row.at,
    };
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
  async queue(subscriptionId: string, limit: number): Promise<QueueView> {
    const head = await this.head(this.db, subscriptionId);
    if (!head) throw new NotFoundError('subscription');
    const rows = await this.db
      .selectFrom('queue_entries as e')
      .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
      .select(['e.seq', 'ev.event_id', 'ev.type', 'e.enqueued_at', 'e.attempts'])
      .where('e.subscription_id', '=', subscriptionId)
      .where('e.seq', '>', head.done_seq)
      .orderBy('e.seq')
      .limit(limit)
      .execute();
    const batch = await this.inFlight(this.db, subscriptionId, head.done_seq);
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
  async entry(subscriptionId: string, eventPk: number, eventId: string): Promise<EntryStatus | null> {
    const entry = await this.db
      .selectFrom('queue_entries')
      .select(['seq', 'attempts'])
      .where('subscription_id', '=', subscriptionId)
      .where('event_pk', '=', eventPk)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const head = await this.head(this.db, subscriptionId);
    if (!entry || !head) return null;
    const attempt = await this.db
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
    const dead = await this.db
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

  /** Dead letters not yet expired or redelivered, oldest first (at most `limit`). */
  async deadLetters(subscriptionId: string, now: number, limit = 1000): Promise<DeadLetterView[]> {
    const rows = await this.db
      .selectFrom('dead_letters as d')
      .innerJoin('queue_entries as e', (j) =>
        j.onRef('e.subscription_id', '=', 'd.subscription_id').onRef('e.seq', '=', 'd.seq'),
      )
      .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
      .select([
        'd.msg_id',
        'd.attempts',
        'd.last_status_code',
        'd.last_error',
        'd.dead_at',
        'e.enqueued_at',
        'ev.event_id',
        'ev.type',
        'ev.source',
        'ev.subject',
        'ev.category',
        'ev.labels',
        'ev.time',
        'ev.data',
      ])
      .where('d.subscription_id', '=', subscriptionId)
      .where('d.requeued_at', 'is', null)
      .where('d.dead_at', '>', now - DEAD_LETTER_RETENTION_MS)
      .orderBy('d.seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      event: toEvent(r, this.sealer),
      enqueuedAt: iso(r.enqueued_at),
      msgId: r.msg_id,
      attempts: r.attempts,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      deadAt: iso(r.dead_at),
    }));
  }

  /**
   * Re-queues, at the end of the queue and in their original order, the dead letters named by id (or
   * every one first queued at or after `since`), then the delivered events named by id that are not
   * queued now. The backlog limits hold here as on publish. Answers the ids queued and the wake owed.
   */
  async redeliver(
    subscriptionId: string,
    req: { eventIds?: string[]; since?: string },
    limits: BacklogLimits,
    now: number,
  ): Promise<{ requeued: string[]; wake: Wake | null; headSeq: number }> {
    return this.db.transaction().execute(async (trx) => {
      const queue = (await lockQueues(trx, this.dialect, [subscriptionId])).get(subscriptionId);
      if (!queue) throw new NotFoundError('subscription');
      let dead = trx
        .selectFrom('dead_letters as d')
        .innerJoin('queue_entries as e', (j) =>
          j.onRef('e.subscription_id', '=', 'd.subscription_id').onRef('e.seq', '=', 'd.seq'),
        )
        .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
        .select(['d.seq', 'd.attempts', 'e.event_pk', 'e.bytes', 'e.enqueued_at', 'ev.event_id'])
        .where('d.subscription_id', '=', subscriptionId)
        .where('d.requeued_at', 'is', null)
        .where('d.dead_at', '>', now - DEAD_LETTER_RETENTION_MS)
        .orderBy('d.seq');
      if (req.eventIds) dead = dead.where('ev.event_id', 'in', req.eventIds);
      else dead = dead.where('e.enqueued_at', '>=', Date.parse(req.since ?? '9999-12-31T23:59:59Z'));
      const deadRows = await dead.execute();

      // Delivered events named by id: their newest entry here, finished and not dead, not queued again.
      const chosen = new Set(deadRows.map((d) => d.event_id));
      const others = (req.eventIds ?? []).filter((id) => !chosen.has(id));
      const delivered: { event_pk: number; bytes: number; event_id: string; seq: number }[] = [];
      if (others.length > 0) {
        const rows = await trx
          .selectFrom('queue_entries as e')
          .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
          .leftJoin('dead_letters as d', (j) =>
            j.onRef('d.subscription_id', '=', 'e.subscription_id').onRef('d.seq', '=', 'e.seq'),
          )
          .select(['e.seq', 'e.event_pk', 'e.bytes', 'ev.event_id', 'd.seq as dead_seq'])
          .where('e.subscription_id', '=', subscriptionId)
          .where('ev.event_id', 'in', others)
          .orderBy('e.seq')
          .execute();
        const newest = new Map<string, (typeof rows)[number]>();
        for (const r of rows) newest.set(r.event_id, r);
        for (const r of [...newest.values()].sort((a, b) => a.seq - b.seq)) {
          if (r.seq > queue.doneSeq || r.dead_seq !== null) continue; // queued now, or dead (handled above)
          delivered.push(r);
        }
      }
      const count = deadRows.length + delivered.length;
      const bytes = [...deadRows, ...delivered].reduce((sum, r) => sum + r.bytes, 0);
      if (count === 0) return { requeued: [], wake: null, headSeq: queue.headSeq };
      if (overLimit(queue, count, bytes, limits)) {
        throw new BacklogFullError([subscriptionId], BACKLOG_RETRY_AFTER_SECONDS);
      }
      const entries: QueueEntriesTable[] = [];
      for (const d of deadRows) {
        entries.push({
          subscription_id: subscriptionId,
          seq: ++queue.headSeq,
          event_pk: d.event_pk,
          bytes: d.bytes,
          attempts: d.attempts,
          enqueued_at: d.enqueued_at,
        });
      }
      for (const d of delivered) {
        entries.push({
          subscription_id: subscriptionId,
          seq: ++queue.headSeq,
          event_pk: d.event_pk,
          bytes: d.bytes,
          attempts: 0,
          enqueued_at: now,
        });
      }
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
      const [wake] = await saveHeads(trx, this.dialect, [queue], now);
      return {
        requeued: [...deadRows.map((d) => d.event_id), ...delivered.map((d) => d.event_id)],
        wake: wake ?? null,
        headSeq: queue.headSeq,
      };
    });
  }
}
