/**
 * Tenants managed through the API (#16): their API keys (hashed), monthly usage, the event-type
 * catalog. Never edit a migration after it landed: add the next number instead.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  // 1 when the tenant named its cap (a number, or null for none); 0: DEFAULT_EVENTS_PER_MONTH applies.
  await db.schema
    .alterTable('tenants')
    .addColumn('events_per_month_set', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // Bumped by every change of the tenant's event types: publishers recompile its schemas.
  await db.schema
    .alterTable('tenants')
    .addColumn('catalog_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // Set by DELETE /v1/tenants/{id}: the row stays as a tombstone, so its id is never reused.
  await db.schema.alterTable('tenants').addColumn('deleted_at', 'bigint').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_keys_hash').on('api_keys').column('key_hash').unique().execute();
  await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant', 'created_at']).execute();

  await db.schema
    .createTable('usage')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('events', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_pk', ['tenant', 'period'])
    .execute();

  await db.schema
    .createTable('event_types')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('schema', 'text')
    .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_types_pk', ['tenant', 'name'])
    .execute();
}
