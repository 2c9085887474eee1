/**
 * The first schema: tenants, subscriptions, their queues, events, delivery attempts, dead letters.
 * Never edit a migration after it landed: add the next number instead.
 */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  /** A generated 64-bit key: `integer primary key autoincrement` on SQLite, `bigserial` on PostgreSQL. */
  const serialKey = dialect === 'sqlite' ? ('integer' as const) : ('bigserial' as const);

  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('events_per_month', 'bigint')
    .addColumn('routing_version', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('event_types', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('categories', 'text')
    .addColumn('labels', 'text')
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('require_validation', 'integer', (c) => c.notNull())
    .addColumn('max_batch_size', 'integer', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('rate_limit_per_second', 'integer')
    .addColumn('description', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('secrets', 'text', (c) => c.notNull())
    .addColumn('handshake_id', 'text')
    .addColumn('handshake_code', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute();
  // URL uniqueness per tenant among live subscriptions (a deleted one frees its URL).
  await db.schema
    .createIndex('subscriptions_tenant_url')
    .on('subscriptions')
    .columns(['tenant', 'url'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('subscriptions_tenant_id')
    .on('subscriptions')
    .columns(['tenant', 'id'])
    .execute();

  await db.schema
    .createTable('queues')
    .addColumn('subscription_id', 'text', (c) => c.primaryKey())
    .addColumn('head_seq', 'bigint', (c) => c.notNull())
    .addColumn('done_seq', 'bigint', (c) => c.notNull())
    .addColumn('backlog_bytes', 'bigint', (c) => c.notNull())
    .addColumn('idle', 'integer', (c) => c.notNull())
    .addColumn('wake_owed_at', 'bigint')
    .addColumn('sync_owed_at', 'bigint')
    .addColumn('open', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('queues_wake_owed').on('queues').column('wake_owed_at').execute();
  await db.schema.createIndex('queues_sync_owed').on('queues').column('sync_owed_at').execute();

  await db.schema
    .createTable('queue_entries')
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('event_pk', 'bigint', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('enqueued_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('queue_entries_pk', ['subscription_id', 'seq'])
    .execute();
  await db.schema.createIndex('queue_entries_event').on('queue_entries').column('event_pk').execute();
  await db.schema.createIndex('queue_entries_enqueued').on('queue_entries').column('enqueued_at').execute();

  await db.schema
    .createTable('events')
    .addColumn('pk', serialKey, (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('idem_key', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('category', 'text')
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('time', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('published_at', 'bigint', (c) => c.notNull())
    .execute();
  // Idempotency by (tenant, event id) while the key holds; also how EventGet finds an event.
  await db.schema
    .createIndex('events_tenant_idem_key')
    .on('events')
    .columns(['tenant', 'idem_key'])
    .unique()
    .execute();
  await db.schema.createIndex('events_published').on('events').column('published_at').execute();

  await db.schema
    .createTable('attempts')
    .addColumn('pk', serialKey, (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('msg_id', 'text', (c) => c.notNull())
    .addColumn('first_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('events', 'integer', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('error_class', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  // Newest first per subscription (the deliveries log), and the batch covering a sequence number.
  await db.schema
    .createIndex('attempts_subscription')
    .on('attempts')
    .columns(['subscription_id', 'pk'])
    .execute();
  await db.schema
    .createIndex('attempts_subscription_last_seq')
    .on('attempts')
    .columns(['subscription_id', 'last_seq'])
    .execute();
  await db.schema.createIndex('attempts_at').on('attempts').column('at').execute();

  await db.schema
    .createTable('dead_letters')
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('msg_id', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('dead_at', 'bigint', (c) => c.notNull())
    .addColumn('requeued_at', 'bigint')
    .addPrimaryKeyConstraint('dead_letters_pk', ['subscription_id', 'seq'])
    .execute();
  await db.schema.createIndex('dead_letters_dead_at').on('dead_letters').column('dead_at').execute();
}
