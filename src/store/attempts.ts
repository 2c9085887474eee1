/**
 * Delivery attempts, one row per POST of one batch: the deliveries log (every attempt of the last
 * 7 days, newest first, paged by attempt key) and the batch a subscriber has in flight.
 */
import type { AttemptView } from '../domain/types';
import type { Db } from './database';

/** An attempt in the deliveries log, with the ids of the events its batch carried. */
export interface DeliveryAttempt extends AttemptView {
  eventIds: string[];
}

export interface AttemptPageQuery {
  limit: number;
  /** Attempts older than this one (the API wraps it in an opaque cursor). */
  before?: number;
  outcome?: 'succeeded' | 'failed';
}

/** The batch in flight as the store knows it: the newest attempt of a batch that has not finished. */
export interface BatchInFlight {
  msgId: string;
  firstSeq: number;
  lastSeq: number;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  /** ms since the epoch: when that attempt started. */
  at: number;
}

/** The batch of `subscriptionId` in flight past `doneSeq`, or null when every attempted batch finished. */
export async function batchInFlight(
  db: Db,
  subscriptionId: string,
  doneSeq: number,
): Promise<BatchInFlight | null> {
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

export class AttemptRows {
  constructor(private readonly db: Db) {}

  async page(
    subscriptionId: string,
    q: AttemptPageQuery,
  ): Promise<{ data: DeliveryAttempt[]; next: number | null }> {
    let query = this.db
      .selectFrom('attempts')
      .selectAll()
      .where('subscription_id', '=', subscriptionId)
      .orderBy('pk', 'desc')
      .limit(q.limit + 1);
    if (q.before !== undefined) query = query.where('pk', '<', q.before);
    if (q.outcome) query = query.where('ok', '=', q.outcome === 'succeeded' ? 1 : 0);
    const rows = await query.execute();
    const page = rows.slice(0, q.limit);
    const ids = await this.eventIds(subscriptionId, page);
    return {
      data: page.map((r) => ({
        msgId: r.msg_id,
        eventIds: ids(r.first_seq, r.last_seq),
        attempt: r.attempt,
        statusCode: r.status_code,
        error: r.error,
        errorClass: r.error_class,
        durationMs: r.duration_ms,
        at: new Date(r.at).toISOString(),
      })),
      next: rows.length > q.limit ? page.at(-1)!.pk : null,
    };
  }

  /** Event ids by sequence range, for the attempts of one page (one query over the page's span). */
  private async eventIds(subscriptionId: string, page: { first_seq: number; last_seq: number }[]) {
    if (page.length === 0) return () => [];
    const low = Math.min(...page.map((p) => p.first_seq));
    const high = Math.max(...page.map((p) => p.last_seq));
    const rows = await this.db
      .selectFrom('queue_entries as e')
      .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
      .select(['e.seq', 'ev.event_id'])
      .where('e.subscription_id', '=', subscriptionId)
      .where('e.seq', '>=', low)
      .where('e.seq', '<=', high)
      .orderBy('e.seq')
      .execute();
    const bySeq = new Map(rows.map((r) => [r.seq, r.event_id]));
    return (first: number, last: number) => {
      const out: string[] = [];
      for (let s = first; s <= last; s++) {
        const id = bySeq.get(s);
        if (id !== undefined) out.push(id);
      }
      return out;
    };
  }
}
