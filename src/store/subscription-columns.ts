/**
 * A `subscriptions` row and the Subscription it stores: the one mapping between the two, and the
 * lookups of live rows that every subscription change starts from. Sealed columns (headers,
 * secrets, handshake codes) go through the Sealer both ways.
 */
import type { Selectable } from 'kysely';
import type { Subscription, SubscriptionFilter, SubscriptionStatus } from '../domain/types';
import type { Db, Dialect, SubscriptionsTable } from './database';
import type { Sealer } from './sealing';

export type SubscriptionRow = Selectable<SubscriptionsTable>;

/** The routing columns of a row, parsed. */
export function filterOf(
  row: Pick<SubscriptionRow, 'event_types' | 'subject' | 'categories' | 'labels'>,
): SubscriptionFilter {
  return {
    eventTypes: JSON.parse(row.event_types) as string[],
    subject: row.subject,
    categories: row.categories === null ? null : (JSON.parse(row.categories) as string[]),
    labels: row.labels === null ? null : (JSON.parse(row.labels) as Record<string, string>),
  };
}

export function toSubscription(row: SubscriptionRow, sealer: Sealer): Subscription {
  return {
    id: row.id,
    tenant: row.tenant,
    url: row.url,
    name: row.name,
    ...filterOf(row),
    format: row.format as Subscription['format'],
    status: row.status as SubscriptionStatus,
    requireValidation: row.require_validation === 1,
    maxBatchSize: row.max_batch_size,
    headers: sealer.openJson<Record<string, string>>(row.headers),
    rateLimitPerSecond: row.rate_limit_per_second,
    description: row.description,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The settings columns of `s` (everything a PATCH may touch, plus status). */
export function settingsColumns(s: Subscription, sealer: Sealer) {
  return {
    url: s.url,
    name: s.name,
    event_types: JSON.stringify(s.eventTypes),
    subject: s.subject,
    categories: s.categories === null ? null : JSON.stringify(s.categories),
    labels: s.labels === null ? null : JSON.stringify(s.labels),
    format: s.format,
    status: s.status,
    max_batch_size: s.maxBatchSize,
    headers: sealer.sealJson(s.headers),
    rate_limit_per_second: s.rateLimitPerSecond,
    description: s.description,
    metadata: JSON.stringify(s.metadata),
  };
}

/** A database error for a unique index (SQLite or PostgreSQL). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** The id of `tenant`'s live subscription to `url`, or null. */
export async function liveIdByUrl(db: Db, tenant: string, url: string): Promise<string | null> {
  const row = await db
    .selectFrom('subscriptions')
    .select('id')
    .where('tenant', '=', tenant)
    .where('url', '=', url)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row?.id ?? null;
}

/**
 * The live row `id` (of `tenant`, unless null), locked for the transaction when `lock` (PostgreSQL;
 * on SQLite the transaction holds the write lock already).
 */
export async function liveRow(
  db: Db,
  dialect: Dialect,
  tenant: string | null,
  id: string,
  lock = false,
): Promise<SubscriptionRow | undefined> {
  let q = db.selectFrom('subscriptions').selectAll().where('id', '=', id).where('deleted_at', 'is', null);
  if (tenant !== null) q = q.where('tenant', '=', tenant);
  if (lock && dialect === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}
