/**
 * The SQL database behind the store: SQLite (embedded default, a file in $DATA_DIR, WAL) or
 * PostgreSQL (DATABASE_URL), behind one Kysely instance. Table types live here; the queries live in
 * one module per table beside this one.
 *
 * Conventions, the same on both dialects: times are ms since the epoch (bigint), booleans are
 * integers 0/1, JSON is text. Columns marked "sealed" hold JSON text, or `sealed:…` ciphertext when
 * PAYLOAD_ENCRYPTION_KEY is set (src/store/sealing.ts).
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  CompiledQuery,
  type DatabaseConnection,
  type Generated,
} from 'kysely';
import pg from 'pg';

export type Dialect = 'sqlite' | 'postgres';

export interface TenantsTable {
  id: string;
  name: string | null;
  /** null: no cap (or DEFAULT_EVENTS_PER_MONTH). */
  events_per_month: number | null;
  /** Bumped by every change of the tenant's subscriptions: publishers reload their routing table. */
  routing_version: number;
  created_at: number;
  updated_at: number;
  /** 1 when the tenant named its cap (a number, or null for none); 0: DEFAULT_EVENTS_PER_MONTH applies. */
  events_per_month_set: number;
  /** Bumped by every change of the tenant's event types: publishers recompile its schemas. */
  catalog_version: number;
  /** Set when the tenant was deleted: the row stays, so the id is never reused. */
  deleted_at: number | null;
}

/** Tenant API keys made through the API (those of API_KEYS live in the config only). */
export interface ApiKeysTable {
  id: string;
  tenant: string;
  name: string | null;
  /** Hex SHA-256 of the key: the key itself is shown once and never stored. */
  key_hash: string;
  created_at: number;
  /** Coarse: written at most once a minute per key and process (src/api/auth.ts). */
  last_used_at: number | null;
}

/** Consumer portal sessions: a link's token, stored as its hex SHA-256, valid until `expires_at`. */
export interface PortalSessionsTable {
  id: string;
  tenant: string;
  /** The api_keys row that made it (its delete ends the session); null for a key of API_KEYS. */
  key_id: string | null;
  token_hash: string;
  /** 1: the token may only read. */
  read_only: number;
  created_at: number;
  /** ms since the epoch; the token answers 401 from then on, and retention removes the row. */
  expires_at: number;
}

/** Accepted, non-duplicate events per tenant and calendar month (UTC). */
export interface UsageTable {
  tenant: string;
  /** `YYYY-MM`, UTC. */
  period: string;
  events: number;
}

/** The event-type catalog, per tenant. */
export interface EventTypesTable {
  tenant: string;
  name: string;
  description: string | null;
  /** JSON text of a JSON Schema (draft 2020-12) for `data`, or null. */
  schema: string | null;
  archived: number;
  created_at: number;
  updated_at: number;
}

export interface SubscriptionsTable {
  id: string;
  tenant: string;
  /** Normalised (src/net/url.ts); unique per tenant among live subscriptions. */
  url: string;
  name: string | null;
  /** JSON string[]. */
  event_types: string;
  subject: string | null;
  /** JSON string[] or null. */
  categories: string | null;
  /** JSON record or null. */
  labels: string | null;
  format: string;
  status: string;
  require_validation: number;
  max_batch_size: number;
  /** Sealed JSON record: static header values may be credentials. */
  headers: string;
  rate_limit_per_second: number | null;
  description: string | null;
  /** JSON record. */
  metadata: string;
  version: number;
  /** Sealed JSON SigningSecret[]. */
  secrets: string;
  /** The handshake in progress or last granted (random id), null when none was ever needed. */
  handshake_id: string | null;
  /** Sealed JSON string: the 32-alphanumeric code of that handshake's callback URL. */
  handshake_code: string | null;
  created_at: number;
  updated_at: number;
  /** Set by DELETE: the row stays (EventGet answers `deleted`) until retention purges it. */
  deleted_at: number | null;
}

/**
 * One row per subscription: where its queue stands. Sequence numbers are per subscription, dense,
 * allocated under this row's lock, so they commit in order (a reader never skips a late commit).
 */
export interface QueuesTable {
  subscription_id: string;
  /** Last sequence number allocated: the queue's head. */
  head_seq: number;
  /** Every entry at or below it is finished (delivered or dead). */
  done_seq: number;
  /** Bytes of the entries above done_seq. */
  backlog_bytes: number;
  /**
   * 1 while the subscriber waits for a wake signal: set by its activity, under this row's lock, when it
   * found the queue empty. An enqueue that finds it set clears it and owes the subscriber a wake.
   */
  idle: number;
  /** Since when a wake signal is owed (an enqueue found the subscriber idle); cleared by its activities. */
  wake_owed_at: number | null;
  /** Since when the subscriber owes itself a re-read of its settings (the API changed them). */
  sync_owed_at: number | null;
  /** 0 once the subscription is deleted: publishers stop routing to it under this row's lock. */
  open: number;
}

export interface QueueEntriesTable {
  subscription_id: string;
  seq: number;
  event_pk: number;
  /** UTF-8 bytes of the event as stored (its share of the backlog and of a batch). */
  bytes: number;
  /** Attempts made by earlier batches (non-zero for a redelivered dead letter). */
  attempts: number;
  enqueued_at: number;
}

export interface EventsTable {
  pk: Generated<number>;
  tenant: string;
  event_id: string;
  /** The idempotency key (= event_id) while it holds; null once expired (7 days). */
  idem_key: string | null;
  type: string;
  source: string;
  subject: string | null;
  category: string | null;
  /** JSON record. */
  labels: string;
  /** RFC 3339 as the producer gave it, in UTC. */
  time: string;
  /** Sealed JSON of `data`. */
  data: string;
  bytes: number;
  published_at: number;
}

export interface AttemptsTable {
  pk: Generated<number>;
  subscription_id: string;
  msg_id: string;
  first_seq: number;
  last_seq: number;
  events: number;
  /** 1-based, per batch. */
  attempt: number;
  ok: number;
  status_code: number | null;
  error: string | null;
  error_class: string | null;
  duration_ms: number;
  at: number;
}

export interface DeadLettersTable {
  subscription_id: string;
  seq: number;
  msg_id: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  dead_at: number;
  /** Set when redelivered (a new entry carries it); null while it is a dead letter. */
  requeued_at: number | null;
}

export interface Database {
  tenants: TenantsTable;
  subscriptions: SubscriptionsTable;
  queues: QueuesTable;
  queue_entries: QueueEntriesTable;
  events: EventsTable;
  attempts: AttemptsTable;
  dead_letters: DeadLettersTable;
  api_keys: ApiKeysTable;
  usage: UsageTable;
  event_types: EventTypesTable;
  portal_sessions: PortalSessionsTable;
}

export type Db = Kysely<Database>;

export interface DatabaseOptions {
  /** postgres://… ; null: the embedded SQLite file in `dataDir`. */
  url: string | null;
  dataDir: string;
  /** SQLite's `synchronous` (WAL): `normal` survives a crash of any process, `full` also a power loss. */
  sqliteSynchronous: 'normal' | 'full';
  /** Connections of the PostgreSQL pool. */
  poolSize?: number;
}

export interface OpenDatabase {
  db: Db;
  dialect: Dialect;
  close: () => Promise<void>;
}

/** SQLite file name inside $DATA_DIR. */
export const SQLITE_FILE = 'hookline.db';

/**
 * Kysely's SQLite driver begins transactions with a plain (deferred) BEGIN. A deferred transaction
 * that reads and then writes fails with SQLITE_BUSY when another process wrote meanwhile; BEGIN
 * IMMEDIATE takes the write lock up front, so writers queue (busy_timeout) instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * Kysely's SQLite adapter says DDL is not transactional, so its Migrator runs migrations outside any
 * transaction and takes no lock: two processes opening a new store at once (an API and a worker)
 * both ran 0001 and one failed ("table tenants already exists"). SQLite's DDL is transactional;
 * saying so makes the Migrator read the applied migrations and apply the rest in one BEGIN IMMEDIATE
 * transaction, which the second process waits for (busy_timeout) and then finds nothing to do.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: BetterSqlite3.Database) {
    super({ database: sqlite });
  }
  override createDriver() {
    return new ImmediateSqliteDriver({ database: this.sqlite });
  }
  override createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** int8 and numeric as numbers: counts, sequence numbers and ms timestamps stay far below 2^53. */
function pgTypes(): pg.TypeOverrides {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  types.setTypeParser(pg.types.builtins.NUMERIC, (value: string) => Number(value));
  return types;
}

export function openDatabase(opts: DatabaseOptions): OpenDatabase {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10, types: pgTypes() });
    // An idle client losing its server (PostgreSQL restarted) emits here; the pool replaces it.
    pool.on('error', () => undefined);
    // A client checked out of the pool has no error listener of the pool's: one whose connection
    // ends between queries (PostgreSQL restarted mid-transaction) emitted an unhandled 'error' and
    // took the process down. Its queries fail on their own and the pool drops it on release.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const file = join(opts.dataDir, SQLITE_FILE);
  const sqlite = new BetterSqlite3(file);
  switchToWal(sqlite);
  sqlite.pragma(`synchronous = ${opts.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = OFF');
  // Another process (a separate API or worker on the same file) holds the write lock: wait for it.
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('cache_size = -32000');
  // The file holds secrets and event data: owner only, whoever created it (and its WAL companions).
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(`${file}${suffix}`)) chmodSync(`${file}${suffix}`, 0o600);
  }
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(sqlite) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/**
 * Two processes opening a new file at once (an API and a worker) may both try to switch it to WAL;
 * each holds a shared lock and wants an exclusive one, so SQLite answers one of them SQLITE_BUSY at
 * once, without waiting (waiting could deadlock), and that process failed to start ("database is
 * locked", seen in `npm run bench`). Retry for up to 10 s: once the other has switched, it is a no-op.
 */
function switchToWal(sqlite: BetterSqlite3.Database): void {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      sqlite.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      // Start-up only, and synchronous like the rest of the opening: block this thread for 20 ms.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}
