/** Tenants: one row each, created on first use; its routing version tells publishers to reload. */
import { sql } from 'kysely';
import type { Db } from './database';

/** Creates the tenant's row if it is missing (tenants of API_KEYS, or first use). */
export async function ensureTenant(db: Db, tenant: string, now: number): Promise<void> {
  await db
    .insertInto('tenants')
    .values({
      id: tenant,
      name: null,
      events_per_month: null,
      routing_version: 0,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** Marks the tenant's routing table changed; call in the transaction that changes a subscription. */
export async function bumpRoutingVersion(db: Db, tenant: string, now: number): Promise<void> {
  await db
    .updateTable('tenants')
    .set({ routing_version: sql<number>`routing_version + 1`, updated_at: now })
    .where('id', '=', tenant)
    .execute();
}

/** The tenant's routing version (0 for a tenant without a row: it has no subscriptions). */
export async function routingVersion(db: Db, tenant: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select('routing_version')
    .where('id', '=', tenant)
    .executeTakeFirst();
  return row?.routing_version ?? 0;
}
