/**
 * Consumer portal sessions (#17): the short-lived tokens of portal links, stored hashed like API keys.
 * Never edit a migration after it landed: add the next number instead.
 */
import type { Kysely } from 'kysely';
import type { Dialect } from '../database';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('portal_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant', 'text', (c) => c.notNull())
    // The API key (made through the API) that made the session: deleting the key ends it. Null for
    // keys of API_KEYS.
    .addColumn('key_id', 'text')
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('read_only', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('portal_sessions_hash')
    .on('portal_sessions')
    .column('token_hash')
    .unique()
    .execute();
  await db.schema.createIndex('portal_sessions_expiry').on('portal_sessions').column('expires_at').execute();
}
