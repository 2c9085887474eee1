/**
 * A child process of test/store/migrations.test.ts: opens the store of `$DATA_DIR` (migrating it),
 * lists its tables, closes it. Exits 0 and prints the table names, or exits 1 with the error.
 */
import { sql } from 'kysely';
import { openStore } from '../../../src/store';

async function main(): Promise<void> {
  const store = await openStore({
    url: process.env.DATABASE_URL ?? null,
    dataDir: process.env.DATA_DIR!,
    sqliteSynchronous: 'normal',
    encryption: null,
  });
  const tables =
    store.dialect === 'sqlite'
      ? await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' order by name`.execute(store.db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema() order by 1`.execute(
          store.db,
        );
  console.log(JSON.stringify(tables.rows.map((r) => r.name)));
  await store.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
