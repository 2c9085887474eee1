/**
 * Retention: events, queue entries, attempts and idempotency keys go 7 days after publish, dead
 * letters 7 days after they died, deleted subscriptions 7 days after their delete, portal sessions once expired. Each statement
 * deletes at most `batch` rows, so a purge never holds the write lock long enough to stall publishing.
 * An entry is only purged once finished (or its subscription deleted): nothing accepted is dropped
 * because it waited long.
 */
import { sql } from 'kysely';
import type { Db } from './database';
import { IDEMPOTENCY_WINDOW_MS } from './events';
import { DEAD_LETTER_RETENTION_MS } from './dead-letters';

export const RETENTION_MS = 7 * 24 * 3_600_000;

export interface PurgeCounts {
  attempts: number;
  deadLetters: number;
  entries: number;
  events: number;
  keys: number;
  subscriptions: number;
  portalSessions: number;
}

const affected = (result: { numAffectedRows?: bigint }) => Number(result.numAffectedRows ?? 0n);

export class Retention {
  constructor(private readonly db: Db) {}

  /** One round of bounded deletes; call again while any count equals `batch`. */
  async purgeOnce(now: number, batch: number): Promise<PurgeCounts> {
    const cutoff = now - RETENTION_MS;
    const attempts = await sql`delete from attempts where pk in
      (select pk from attempts where at < ${cutoff} limit ${batch})`.execute(this.db);
    const deadLetters = await sql`delete from dead_letters where (subscription_id, seq) in
      (select subscription_id, seq from dead_letters
        where dead_at < ${now - DEAD_LETTER_RETENTION_MS} or requeued_at is not null limit ${batch})`.execute(
      this.db,
    );
    const entries = await sql`delete from queue_entries where (subscription_id, seq) in
      (select e.subscription_id, e.seq from queue_entries e
        join queues q on q.subscription_id = e.subscription_id
        where e.enqueued_at < ${cutoff} and (e.seq <= q.done_seq or q.open = 0)
          and not exists (select 1 from dead_letters d where d.subscription_id = e.subscription_id and d.seq = e.seq)
        limit ${batch})`.execute(this.db);
    const events = await sql`delete from events where pk in
      (select pk from events ev where ev.published_at < ${cutoff}
        and not exists (select 1 from queue_entries e where e.event_pk = ev.pk) limit ${batch})`.execute(
      this.db,
    );
    // Events still needed by an unfinished entry or a dead letter stay, but their id is free again.
    const keys = await sql`update events set idem_key = null where pk in
      (select pk from events where published_at < ${now - IDEMPOTENCY_WINDOW_MS} and idem_key is not null limit ${batch})`.execute(
      this.db,
    );
    const subscriptions = await sql`delete from subscriptions where id in
      (select s.id from subscriptions s where s.deleted_at < ${cutoff}
        and not exists (select 1 from queue_entries e where e.subscription_id = s.id) limit ${batch})`.execute(
      this.db,
    );
    const portalSessions = await sql`delete from portal_sessions where id in
      (select id from portal_sessions where expires_at < ${now} limit ${batch})`.execute(this.db);
    await sql`delete from queues where open = 0 and not exists
      (select 1 from subscriptions s where s.id = queues.subscription_id)`.execute(this.db);
    return {
      attempts: affected(attempts),
      deadLetters: affected(deadLetters),
      entries: affected(entries),
      events: affected(events),
      keys: affected(keys),
      subscriptions: affected(subscriptions),
      portalSessions: affected(portalSessions),
    };
  }

  /** Purges until nothing is due, yielding between rounds. Answers the totals. */
  async purge(now: number, batch = 1000, pauseMs = 20): Promise<PurgeCounts> {
    const total: PurgeCounts = {
      attempts: 0,
      deadLetters: 0,
      entries: 0,
      events: 0,
      keys: 0,
      subscriptions: 0,
      portalSessions: 0,
    };
    for (;;) {
      const round = await this.purgeOnce(now, batch);
      for (const k of Object.keys(total) as (keyof PurgeCounts)[]) total[k] += round[k];
      if (!Object.values(round).some((n) => n >= batch)) return total;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
