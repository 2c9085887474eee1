/**
 * Tenants: one row each, made through the API, for the tenants of API_KEYS at start-up, or on first
 * use. Its routing version tells publishers to reload their routing table, its catalog version to
 * recompile its event-type schemas. A deleted tenant's row stays as a tombstone (`deleted_at`): its
 * id is never reused, so nothing of the old tenant (events kept for EventGet and idempotency) can
 * be seen by a new one of the same name.
 *
 * Lock order in the store: subscription row → queue row → tenants row. A publish locks the tenants
 * row last (its quota and catalog), and so does every subscription change (the routing version);
 * a subscription create locks it first, but then only inserts rows nobody else can hold.
 */
import { sql, type Selectable } from 'kysely';
import type { Db, Dialect, TenantsTable } from './database';
import { ConflictError, NotFoundError, TenantGoneError } from './errors';

export interface Tenant {
  id: string;
  name: string | null;
  /** The cap in force: the tenant's own, or DEFAULT_EVENTS_PER_MONTH; null: no cap. */
  eventsPerMonth: number | null;
  createdAt: string;
  updatedAt: string;
}

/** Settings of the deployment that tenants without their own inherit. */
export interface TenantDefaults {
  /** DEFAULT_EVENTS_PER_MONTH; null: no cap. */
  eventsPerMonth: number | null;
}

export const NO_TENANT_DEFAULTS: TenantDefaults = { eventsPerMonth: null };

type Row = Selectable<TenantsTable>;

export interface TenantCreate {
  id: string;
  name: string | null;
  /** undefined: DEFAULT_EVENTS_PER_MONTH applies; null: no cap. */
  eventsPerMonth?: number | null;
}

/** The row of a new tenant: versions at 0, no cap of its own unless `eventsPerMonth` is given. */
function newTenantRow(input: TenantCreate, now: number): Row {
  return {
    id: input.id,
    name: input.name,
    events_per_month: input.eventsPerMonth ?? null,
    events_per_month_set: input.eventsPerMonth === undefined ? 0 : 1,
    routing_version: 0,
    catalog_version: 0,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
}

/** Creates the tenant's row if it is missing (tenants of API_KEYS, or first use). */
export async function ensureTenant(db: Db, tenant: string, now: number): Promise<void> {
  await db
    .insertInto('tenants')
    .values(newTenantRow({ id: tenant, name: null }, now))
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * Locks the tenant's row (made if missing) for the rest of the transaction; TenantGoneError when the
 * tenant was deleted. On SQLite the transaction holds the database's write lock already.
 */
export async function lockLiveTenant(db: Db, dialect: Dialect, tenant: string, now: number): Promise<Row> {
  const row = (await lockTenants(db, dialect, [tenant], now)).get(tenant)!;
  if (row.deleted_at !== null) throw new TenantGoneError();
  return row;
}

/** Locks the rows of `tenants` (made if missing), in id order: a fixed lock order. */
export async function lockTenants(
  db: Db,
  dialect: Dialect,
  tenants: string[],
  now: number,
): Promise<Map<string, Row>> {
  const sorted = [...new Set(tenants)].sort();
  const out = new Map<string, Row>();
  for (const tenant of sorted) {
    const select = () => {
      let q = db.selectFrom('tenants').selectAll().where('id', '=', tenant);
      if (dialect === 'postgres') q = q.forUpdate();
      return q.executeTakeFirst();
    };
    let row = await select();
    if (!row) {
      await ensureTenant(db, tenant, now);
      row = await select();
    }
    out.set(tenant, row!);
  }
  return out;
}

/** The cap in force for a tenant's row. */
export function capOf(row: Pick<Row, 'events_per_month' | 'events_per_month_set'>, defaults: TenantDefaults) {
  return row.events_per_month_set === 1 ? row.events_per_month : defaults.eventsPerMonth;
}

/** Marks the tenant's routing table changed; call in the transaction that changes a subscription. */
export async function bumpRoutingVersion(db: Db, tenant: string, now: number): Promise<void> {
  await db
    .updateTable('tenants')
    .set({ routing_version: sql<number>`routing_version + 1`, updated_at: now })
    .where('id', '=', tenant)
    .execute();
}

/** The tenant's routing version (0 for a tenant without a row: it has no subscriptions). */
export async function routingVersion(db: Db, tenant: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select('routing_version')
    .where('id', '=', tenant)
    .executeTakeFirst();
  return row?.routing_version ?? 0;
}

export type TenantChanges = Partial<Pick<Tenant, 'name' | 'eventsPerMonth'>>;

/** The tenants table as the operator API sees it: live tenants only. */
export class TenantRows {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  /** ConflictError when the id exists, or existed (a deleted tenant's id is not reused). */
  async create(input: TenantCreate, now: number, defaults: TenantDefaults): Promise<Tenant> {
    const inserted = await this.db
      .insertInto('tenants')
      .values(newTenantRow(input, now))
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) {
      const existing = await this.db
        .selectFrom('tenants')
        .select('deleted_at')
        .where('id', '=', input.id)
        .executeTakeFirst();
      throw new ConflictError(
        existing?.deleted_at != null
          ? 'a tenant with this id existed and was deleted; ids are not reused'
          : 'a tenant with this id exists',
      );
    }
    return toTenant(inserted, defaults);
  }

  async get(id: string, defaults: TenantDefaults): Promise<Tenant> {
    const row = await this.db
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('tenant');
    return toTenant(row, defaults);
  }

  /** The cap in force for a tenant (a tenant without a row yet has the default's). */
  async capOf(id: string, defaults: TenantDefaults): Promise<number | null> {
    const row = await this.db
      .selectFrom('tenants')
      .select(['events_per_month', 'events_per_month_set'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? capOf(row, defaults) : defaults.eventsPerMonth;
  }

  /** A page in id order after `after`; `next` is the last id when more follow. */
  async list(
    q: { limit: number; after?: string },
    defaults: TenantDefaults,
  ): Promise<{ data: Tenant[]; next: string | null }> {
    let query = this.db
      .selectFrom('tenants')
      .selectAll()
      .where('deleted_at', 'is', null)
      .orderBy('id')
      .limit(q.limit + 1);
    if (q.after !== undefined) query = query.where('id', '>', q.after);
    const rows = await query.execute();
    const page = rows.slice(0, q.limit);
    return {
      data: page.map((r) => toTenant(r, defaults)),
      next: rows.length > q.limit ? page[page.length - 1]!.id : null,
    };
  }

  async patch(id: string, changes: TenantChanges, now: number, defaults: TenantDefaults): Promise<Tenant> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('tenants').selectAll().where('id', '=', id).where('deleted_at', 'is', null);
      if (this.dialect === 'postgres') q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (!row) throw new NotFoundError('tenant');
      const set: Partial<Row> = { updated_at: now };
      if (changes.name !== undefined) set.name = changes.name;
      if (changes.eventsPerMonth !== undefined) {
        set.events_per_month = changes.eventsPerMonth;
        set.events_per_month_set = 1;
      }
      await trx.updateTable('tenants').set(set).where('id', '=', id).execute();
      return toTenant({ ...row, ...set }, defaults);
    });
  }

  /**
   * Marks the tenant deleted and deletes its keys, in one transaction: no key of it authenticates
   * and no subscription of it can be created after this commits. False when there is no live tenant.
   */
  async markDeleted(id: string, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('tenants').select('deleted_at').where('id', '=', id);
      if (this.dialect === 'postgres') q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (!row || row.deleted_at !== null) return false;
      await trx
        .updateTable('tenants')
        .set({ deleted_at: now, updated_at: now })
        .where('id', '=', id)
        .execute();
      await trx.deleteFrom('api_keys').where('tenant', '=', id).execute();
      return true;
    });
  }

  /** Makes the rows of the tenants of API_KEYS (and the generated key's `default`). */
  async ensure(ids: string[], now: number): Promise<void> {
    for (const id of new Set(ids)) await ensureTenant(this.db, id, now);
  }

  /** Ids of every live tenant (start-up: their ingress workflows). */
  async liveIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('tenants').select('id').where('deleted_at', 'is', null).execute();
    return rows.map((r) => r.id);
  }
}

function toTenant(row: Row, defaults: TenantDefaults): Tenant {
  return {
    id: row.id,
    name: row.name,
    eventsPerMonth: capOf(row, defaults),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
