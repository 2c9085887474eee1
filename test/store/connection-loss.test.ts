import { sql } from 'kysely';
import { openTestStore, type TestStore } from '../support/store';

/**
 * PostgreSQL going away under a process (a restart, a failover, an administrator's
 * pg_terminate_backend) fails the queries in flight; it must not take the process down. The stack
 * suite's restart-postgres case found an API process killed by it: a connection that ended while
 * checked out of the pool, between two queries of a transaction, emitted an unhandled 'error'.
 */
describe('the PostgreSQL store when its connection is terminated', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore('postgres');
  });
  afterAll(async () => {
    await store.dispose();
  });

  it('fails the transaction that held it, and the next query runs on a new connection', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // Jest's own handler fails the test run on an uncaught exception; listen alongside it.
    process.on('uncaughtException', onUncaught);
    try {
      const failed = await store.db
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          // From another connection: the backend of this transaction is ended between its queries.
          await sql`select pg_terminate_backend(${rows[0]!.pid})`.execute(store.db);
          await new Promise((r) => setTimeout(r, 500));
          await sql`select 1`.execute(trx);
        })
        .then(
          () => null,
          (err: unknown) => err,
        );
      expect(failed).toBeInstanceOf(Error);
      expect(uncaught).toEqual([]);
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
