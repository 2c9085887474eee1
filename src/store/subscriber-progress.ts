/**
 * What a subscriber's activities read and write: its settings and progress (sync), the payloads of a
 * batch, the record of each attempt, dead letters. The workflow holds only sequence numbers; every
 * payload and secret stays here.
 */
import { sql } from 'kysely';
import type { SyncedProgress, UnfinishedBatch } from '../domain/progress';
import type { HooklineEvent, SubscriptionStatus } from '../domain/types';
import { batchInFlight } from './attempts';
import type { Db } from './database';
import { JOINED_EVENT_COLUMNS, toEvent } from './events';
import type { Sealer } from './sealing';

/**
 * A POST body is at most this many bytes unless one event alone is larger: batches are cut by size
 * as well as by count.
 */
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;
/**
 * Bytes a batch cut reserves per event beyond its stored JSON (a CloudEvent's extra attributes, the
 * envelope), so the cut holds for every format and is the same on every retry of the batch.
 */
export const PER_EVENT_ALLOWANCE_BYTES = 512;
const ENVELOPE_ALLOWANCE_BYTES = 4096;

/** Progress of a subscription as the store knows it. */
export interface StoredProgress extends SyncedProgress {
  /** Whether the subscriber was marked idle: it must now wait for a wake. */
  idle: boolean;
}

export interface BatchEntry {
  seq: number;
  bytes: number;
  event: HooklineEvent;
}

export interface AttemptRecord {
  msgId: string;
  firstSeq: number;
  lastSeq: number;
  events: number;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  errorClass: string | null;
  durationMs: number;
  /** ms since the epoch: when the attempt started. */
  at: number;
}

/** The queue after an activity: the head it saw, where it is done, and whether it is now idle. */
export interface QueueAfter {
  headSeq: number;
  doneSeq: number;
  idle: boolean;
}

export class SubscriberProgressRows {
  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  /**
   * Reads settings and progress under the queue row's lock, clears the signals owed to the subscriber
   * (it is reading everything now), and marks it idle when it is active with nothing to send.
   */
  async sync(subscriptionId: string): Promise<StoredProgress> {
    return this.db.transaction().execute(async (trx) => {
      const queue = await trx
        .updateTable('queues')
        .set({ sync_owed_at: null, wake_owed_at: null })
        .where('subscription_id', '=', subscriptionId)
        .returning(['head_seq', 'done_seq', 'open'])
        .executeTakeFirst();
      const sub = await trx
        .selectFrom('subscriptions')
        .select(['status', 'max_batch_size', 'rate_limit_per_second', 'handshake_id', 'deleted_at'])
        .where('id', '=', subscriptionId)
        .executeTakeFirst();
      if (!queue || !sub) {
        return {
          exists: false,
          deleted: true,
          status: 'paused',
          maxBatchSize: 1,
          rateLimitPerSecond: null,
          handshakeId: null,
          headSeq: 0,
          doneSeq: 0,
          idle: false,
          batch: null,
        };
      }
      const deleted = sub.deleted_at !== null || queue.open !== 1;
      const idle = !deleted && sub.status === 'active' && queue.head_seq === queue.done_seq;
      await trx
        .updateTable('queues')
        .set({ idle: idle ? 1 : 0 })
        .where('subscription_id', '=', subscriptionId)
        .execute();
      const flying = await batchInFlight(trx, subscriptionId, queue.done_seq);
      let batch: UnfinishedBatch | null = null;
      if (flying) {
        const first = await trx
          .selectFrom('attempts')
          .select((eb) => eb.fn.min<number>('at').as('first'))
          .where('subscription_id', '=', subscriptionId)
          .where('msg_id', '=', flying.msgId)
          .executeTakeFirstOrThrow();
        batch = {
          msgId: flying.msgId,
          firstSeq: flying.firstSeq,
          lastSeq: flying.lastSeq,
          attempts: flying.attempt,
          firstAttemptAt: Number(first.first),
          lastStatusCode: flying.statusCode,
          lastError: flying.error,
          lastAttemptAt: flying.at,
        };
      }
      return {
        exists: true,
        deleted,
        status: sub.status as SubscriptionStatus,
        maxBatchSize: sub.max_batch_size,
        rateLimitPerSecond: sub.rate_limit_per_second,
        handshakeId: sub.handshake_id,
        headSeq: queue.head_seq,
        doneSeq: queue.done_seq,
        idle,
        batch,
      };
    });
  }

  /**
   * The entries of a batch: those after `afterSeq` up to `maxSeq`, in order, cut so that the body
   * stays under MAX_BATCH_BODY_BYTES (always at least one). Deterministic: a retry of the batch with
   * the same bounds gets the same entries (they are all committed, and only finished entries are
   * ever purged).
   */
  async batch(subscriptionId: string, afterSeq: number, maxSeq: number): Promise<BatchEntry[]> {
    const rows = await this.db
      .selectFrom('queue_entries as e')
      .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
      .select(['e.seq', 'e.bytes', ...JOINED_EVENT_COLUMNS])
      .where('e.subscription_id', '=', subscriptionId)
      .where('e.seq', '>', afterSeq)
      .where('e.seq', '<=', maxSeq)
      .orderBy('e.seq')
      .execute();
    const out: BatchEntry[] = [];
    let bytes = ENVELOPE_ALLOWANCE_BYTES;
    for (const r of rows) {
      bytes += r.bytes + PER_EVENT_ALLOWANCE_BYTES;
      if (out.length > 0 && bytes > MAX_BATCH_BODY_BYTES) break;
      out.push({ seq: r.seq, bytes: r.bytes, event: toEvent(r, this.sealer) });
    }
    return out;
  }

  /**
   * Records one attempt and, when it succeeded, finishes its entries: done moves to `lastSeq` (once:
   * a repeated record of the same batch changes nothing) and the subscriber is marked idle if nothing
   * is left. `batchBytes`: the bytes of the batch's entries.
   */
  async recordAttempt(subscriptionId: string, a: AttemptRecord, batchBytes: number): Promise<QueueAfter> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('attempts')
        .values({
          subscription_id: subscriptionId,
          msg_id: a.msgId,
          first_seq: a.firstSeq,
          last_seq: a.lastSeq,
          events: a.events,
          attempt: a.attempt,
          ok: a.ok ? 1 : 0,
          status_code: a.statusCode,
          error: a.error,
          error_class: a.errorClass,
          duration_ms: Math.round(a.durationMs),
          at: a.at,
        })
        .execute();
      return a.ok ? this.finish(trx, subscriptionId, a.lastSeq, batchBytes) : this.touch(trx, subscriptionId);
    });
  }

  /** The entries up to `lastSeq` are finished: done moves there, bytes leave the backlog, idle if empty. */
  private async finish(trx: Db, subscriptionId: string, lastSeq: number, bytes: number): Promise<QueueAfter> {
    const row = await trx
      .updateTable('queues')
      .set({
        backlog_bytes: sql<number>`case when done_seq < ${lastSeq} then backlog_bytes - ${bytes} else backlog_bytes end`,
        done_seq: sql<number>`case when done_seq < ${lastSeq} then ${lastSeq} else done_seq end`,
        idle: sql<number>`case when head_seq <= ${lastSeq} and open = 1 then 1 else 0 end`,
        wake_owed_at: null,
      })
      .where('subscription_id', '=', subscriptionId)
      .returning(['head_seq', 'done_seq', 'idle'])
      .executeTakeFirst();
    return row
      ? { headSeq: row.head_seq, doneSeq: row.done_seq, idle: row.idle === 1 }
      : { headSeq: lastSeq, doneSeq: lastSeq, idle: false };
  }

  private async touch(trx: Db, subscriptionId: string): Promise<QueueAfter> {
    const row = await trx
      .updateTable('queues')
      .set({ wake_owed_at: null })
      .where('subscription_id', '=', subscriptionId)
      .returning(['head_seq', 'done_seq'])
      .executeTakeFirst();
    return { headSeq: row?.head_seq ?? 0, doneSeq: row?.done_seq ?? 0, idle: false };
  }

  /** The batch's retry window is over: its entries become dead letters, and the queue moves on. */
  async deadLetter(
    subscriptionId: string,
    batch: Omit<UnfinishedBatch, 'firstAttemptAt' | 'lastAttemptAt'>,
    now: number,
  ): Promise<QueueAfter & { count: number }> {
    return this.db.transaction().execute(async (trx) => {
      const entries = await trx
        .selectFrom('queue_entries')
        .select(['seq', 'bytes', 'attempts'])
        .where('subscription_id', '=', subscriptionId)
        .where('seq', '>=', batch.firstSeq)
        .where('seq', '<=', batch.lastSeq)
        .execute();
      const queue = await trx
        .selectFrom('queues')
        .select('done_seq')
        .where('subscription_id', '=', subscriptionId)
        .executeTakeFirst();
      if (!queue || queue.done_seq >= batch.lastSeq) {
        // Recorded before (the activity's result was lost): nothing to do twice.
        return { ...(await this.touch(trx, subscriptionId)), count: 0 };
      }
      if (entries.length > 0) {
        await trx
          .insertInto('dead_letters')
          .values(
            entries.map((e) => ({
              subscription_id: subscriptionId,
              seq: e.seq,
              msg_id: batch.msgId,
              attempts: e.attempts + batch.attempts,
              last_status_code: batch.lastStatusCode,
              last_error: batch.lastError,
              dead_at: now,
              requeued_at: null,
            })),
          )
          .onConflict((oc) => oc.columns(['subscription_id', 'seq']).doNothing())
          .execute();
      }
      const bytes = entries.reduce((sum, e) => sum + e.bytes, 0);
      const after = await this.finish(trx, subscriptionId, batch.lastSeq, bytes);
      return { ...after, count: entries.length };
    });
  }
}
