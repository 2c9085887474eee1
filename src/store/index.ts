/**
 * The store: where Hookline's data lives (events, queues, attempts, dead letters, subscriptions and
 * their secrets, tenants, their keys and portal sessions). One query layer over SQLite and PostgreSQL; migrations at open.
 */
import type { EncryptionKeys } from '../temporal/codec';
import { ApiKeyRows } from './api-keys';
import { AttemptRows } from './attempts';
import { openDatabase, type Db, type Dialect, type DatabaseOptions } from './database';
import { CatalogCache, EventTypeRows } from './event-types';
import { EventRows } from './events';
import { migrate } from './migrate';
import { PortalSessionRows } from './portal-sessions';
import { publishGroup, type PublishRequest, type PublishResult, type RoutingSource } from './publishing';
import { QueueRows, type BacklogLimits, type Wake } from './queues';
import { Retention } from './retention';
import { Sealer } from './sealing';
import { SubscriberProgressRows } from './subscriber-progress';
import { SubscriptionRows, type RoutingTable } from './subscriptions';
import { TenantRows, type TenantDefaults } from './tenants';

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
  readonly tenants: TenantRows;
  readonly apiKeys: ApiKeyRows;
  readonly eventTypes: EventTypeRows;
  readonly portalSessions: PortalSessionRows;
  /**
   * One transaction for a group of publish requests (see src/store/publishing.ts). `defaults`: the
   * cap of tenants that name none (DEFAULT_EVENTS_PER_MONTH); absent, no cap.
   */
  publish(
    requests: PublishRequest[],
    limits: BacklogLimits,
    now: number,
    defaults?: TenantDefaults,
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
  const catalogs = new CatalogCache();
  return {
    db,
    dialect,
    subscriptions,
    queues: new QueueRows(db, dialect, sealer),
    events: new EventRows(db, sealer),
    attempts: new AttemptRows(db),
    progress: new SubscriberProgressRows(db, sealer),
    retention: new Retention(db),
    tenants: new TenantRows(db, dialect),
    apiKeys: new ApiKeyRows(db),
    eventTypes: new EventTypeRows(db, dialect),
    portalSessions: new PortalSessionRows(db),
    publish: (requests, limits, now, defaults) =>
      publishGroup(db, dialect, sealer, routing, catalogs, requests, limits, now, defaults),
    close,
  };
}

export type { PublishRequest, PublishResult } from './publishing';
export type { Tenant, TenantDefaults } from './tenants';
export type { BacklogLimits, Wake } from './queues';
