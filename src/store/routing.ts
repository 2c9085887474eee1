/**
 * What publishers route by: a tenant's live subscriptions and their filters, read as one table per
 * routing version (the tenants row's `routing_version`, bumped by every subscription change).
 */
import type { SubscriptionFilter } from '../domain/types';
import type { Db } from './database';
import { filterOf } from './subscription-columns';

/** What publishers route by, and what a subscriber workflow is started with in the Web UI. */
export interface RoutingEntry extends SubscriptionFilter {
  id: string;
  url: string;
}

export interface RoutingTable {
  version: number;
  entries: RoutingEntry[];
}

/** The tenant's live subscriptions as publishers route by them, in id order. */
export async function routingEntries(db: Db, tenant: string): Promise<RoutingEntry[]> {
  const rows = await db
    .selectFrom('subscriptions')
    .select(['id', 'url', 'event_types', 'subject', 'categories', 'labels'])
    .where('tenant', '=', tenant)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, url: r.url, ...filterOf(r) }));
}
