/**
 * Monthly usage: accepted, non-duplicate events per tenant and calendar month (UTC). Counted by the
 * publish transaction under the tenant row's lock, so concurrent publishers never pass a cap.
 */
import { sql } from 'kysely';
import type { Db } from './database';

/** `YYYY-MM` of `now`, UTC. */
export function periodOf(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** ms of the first day of the month after `now`'s, 00:00 UTC. */
export function nextPeriodStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Whole seconds from `now` until the next period starts (at least 1). */
export function secondsUntilNextPeriod(now: number): number {
  return Math.max(1, Math.ceil((nextPeriodStart(now) - now) / 1000));
}

/** Events counted for the tenant in `period` (0 when none). */
export async function usedEvents(db: Db, tenant: string, period: string): Promise<number> {
  const row = await db
    .selectFrom('usage')
    .select('events')
    .where('tenant', '=', tenant)
    .where('period', '=', period)
    .executeTakeFirst();
  return row?.events ?? 0;
}

/** Adds `events` to the tenant's count of `period`. Call under the tenant row's lock. */
export async function addUsage(db: Db, tenant: string, period: string, events: number): Promise<void> {
  if (events <= 0) return;
  await db
    .insertInto('usage')
    .values({ tenant, period, events })
    .onConflict((oc) =>
      oc.columns(['tenant', 'period']).doUpdateSet({ events: sql<number>`usage.events + ${events}` }),
    )
    .execute();
}
