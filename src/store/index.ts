/**
 * The store: where Hookline's data lives (events, queues, attempts, dead letters, subscriptions and
 * their secrets, tenants). One query layer over SQLite and PostgreSQL; migrations at open.
 */
import type { EncryptionKeys } from '../temporal/codec';
import { AttemptRows } from './attempts';
import { openDatabase, type Db, type Dialect, type DatabaseOptions } from './database';
import { EventRows } from './events';
import { migrate } from './migrate';
import { publishGroup, type PublishRequest, type PublishResult, type RoutingSource } from './publishing';
import { QueueRows, type BacklogLimits, type Wake } from './queues';
import { Retention } from './retention';
import { Sealer } from './sealing';
import { SubscriberProgressRows } from './subscriber-progress';
import { SubscriptionRows, type RoutingTable } from './subscriptions';

export interface StoreOptions extends DatabaseOptions {
  /** PAYLOAD_ENCRYPTION_KEY and older keys: sealed columns; null: plain JSON. */
  encryption: EncryptionKeys | null;
}

export interface Store {
  readonly db: Db;
  readonly dialect: Dialect;
  readonly subscriptions: SubscriptionRows;
  readonly queues: QueueRows;
  readonly events: EventRows;
  readonly attempts: AttemptRows;
  readonly progress: SubscriberProgressRows;
  readonly retention: Retention;
  /** One transaction for a group of publish requests (see src/store/publishing.ts). */
  publish(
    requests: PublishRequest[],
    limits: BacklogLimits,
    now: number,
  ): Promise<{ results: PublishResult[]; wakes: Wake[] }>;
  close(): Promise<void>;
}

/** Routing tables cached per tenant, reloaded in the publishing transaction when the version moved. */
class RoutingCache implements RoutingSource {
  private readonly tables = new Map<string, RoutingTable>();
  constructor(private readonly subscriptions: SubscriptionRows) {}

  async table(db: Db, tenant: string, version: number): Promise<RoutingTable> {
    const cached = this.tables.get(tenant);
    if (cached && cached.version === version) return cached;
    const table = { version, entries: await this.subscriptions.routingEntries(db, tenant) };
    this.tables.set(tenant, table);
    return table;
  }
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  const { db, dialect, close } = openDatabase(opts);
  try {
    await migrate(db, dialect);
  } catch (err) {
    await close();
    throw err;
  }
  const sealer = new Sealer(opts.encryption);
  const subscriptions = new SubscriptionRows(db, dialect, sealer);
  const routing = new RoutingCache(subscriptions);
  return {
    db,
    dialect,
    subscriptions,
    queues: new QueueRows(db, dialect, sealer),
    events: new EventRows(db, sealer),
    attempts: new AttemptRows(db),
    progress: new SubscriberProgressRows(db, dialect, sealer),
    retention: new Retention(db),
    publish: (requests, limits, now) => publishGroup(db, dialect, sealer, routing, requests, limits, now),
    close,
  };
}

export type { PublishRequest, PublishResult } from './publishing';
export type { BacklogLimits, Wake } from './queues';
