/**
 * Migrations, applied at start-up by every process (Kysely's Migrator: on PostgreSQL it takes a lock,
 * so processes starting together apply each migration once). Numbered; never edited after they land.
 */
import { Migrator, type Migration } from 'kysely';
import type { Db, Dialect } from './database';
import * as initial from './migrations/0001-initial';
import * as tenants from './migrations/0002-tenants';
import * as portalSessions from './migrations/0003-portal-sessions';

const ALL: Record<string, { up(db: Parameters<typeof initial.up>[0], dialect: Dialect): Promise<void> }> = {
  '0001-initial': initial,
  '0002-tenants': tenants,
  '0003-portal-sessions': portalSessions,
};

export async function migrate(db: Db, dialect: Dialect): Promise<void> {
  const migrations: Record<string, Migration> = Object.fromEntries(
    Object.entries(ALL).map(([name, m]) => [name, { up: (d) => m.up(d, dialect) }]),
  );
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'hookline_migrations',
    migrationLockTableName: 'hookline_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(
      `store migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      {
        cause: error,
      },
    );
  }
}
