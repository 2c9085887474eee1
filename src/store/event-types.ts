/**
 * The event-type catalog, per tenant. Every change bumps the tenant's catalog version, in the same
 * transaction, so a publisher in any process recompiles that tenant's schemas before it validates
 * against them (src/store/publishing.ts).
 */
import { sql, type Selectable } from 'kysely';
import { compileDataCheck, type DataCheck } from '../publish/event-schemas';
import type { Db, Dialect, EventTypesTable } from './database';
import { ConflictError, NotFoundError } from './errors';
import { lockLiveTenant } from './tenants';

export interface EventType {
  name: string;
  description: string | null;
  /** A JSON Schema (draft 2020-12) of `data`, or null. */
  schema: unknown;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

export type EventTypeChanges = Partial<Pick<EventType, 'description' | 'schema' | 'archived'>>;

type Row = Selectable<EventTypesTable>;

function toEventType(row: Row): EventType {
  return {
    name: row.name,
    description: row.description,
    schema: row.schema === null ? null : JSON.parse(row.schema),
    archived: row.archived === 1,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

async function bumpCatalogVersion(db: Db, tenant: string): Promise<void> {
  await db
    .updateTable('tenants')
    .set({ catalog_version: sql<number>`catalog_version + 1` })
    .where('id', '=', tenant)
    .execute();
}

/** The catalog entry `name` of `tenant`; NotFoundError when there is none. */
async function rowOrThrow(db: Db, tenant: string, name: string): Promise<Row> {
  const row = await db
    .selectFrom('event_types')
    .selectAll()
    .where('tenant', '=', tenant)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('event type');
  return row;
}

export class EventTypeRows {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  /** ConflictError when the name is taken. */
  async create(
    tenant: string,
    input: { name: string; description: string | null; schema: unknown },
    now: number,
  ): Promise<EventType> {
    return this.db.transaction().execute(async (trx) => {
      await lockLiveTenant(trx, this.dialect, tenant, now);
      const row: Row = {
        tenant,
        name: input.name,
        description: input.description,
        schema: input.schema === null ? null : JSON.stringify(input.schema),
        archived: 0,
        created_at: now,
        updated_at: now,
      };
      const inserted = await trx
        .insertInto('event_types')
        .values(row)
        .onConflict((oc) => oc.columns(['tenant', 'name']).doNothing())
        .returning('name')
        .executeTakeFirst();
      if (!inserted) throw new ConflictError('an event type with this name exists');
      await bumpCatalogVersion(trx, tenant);
      return toEventType(row);
    });
  }

  async list(tenant: string, includeArchived: boolean): Promise<EventType[]> {
    let q = this.db.selectFrom('event_types').selectAll().where('tenant', '=', tenant).orderBy('name');
    if (!includeArchived) q = q.where('archived', '=', 0);
    return (await q.execute()).map(toEventType);
  }

  async get(tenant: string, name: string): Promise<EventType> {
    return toEventType(await rowOrThrow(this.db, tenant, name));
  }

  async patch(tenant: string, name: string, changes: EventTypeChanges, now: number): Promise<EventType> {
    return this.db.transaction().execute(async (trx) => {
      await lockLiveTenant(trx, this.dialect, tenant, now);
      const row = await rowOrThrow(trx, tenant, name);
      const next: Row = { ...row, updated_at: now };
      if (changes.description !== undefined) next.description = changes.description;
      if (changes.schema !== undefined)
        next.schema = changes.schema === null ? null : JSON.stringify(changes.schema);
      if (changes.archived !== undefined) next.archived = changes.archived ? 1 : 0;
      await trx
        .updateTable('event_types')
        .set({
          description: next.description,
          schema: next.schema,
          archived: next.archived,
          updated_at: now,
        })
        .where('tenant', '=', tenant)
        .where('name', '=', name)
        .execute();
      await bumpCatalogVersion(trx, tenant);
      return toEventType(next);
    });
  }

  async remove(tenant: string, name: string, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await lockLiveTenant(trx, this.dialect, tenant, now);
      const result = await trx
        .deleteFrom('event_types')
        .where('tenant', '=', tenant)
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new NotFoundError('event type');
      await bumpCatalogVersion(trx, tenant);
    });
  }
}

/** A tenant's schemas as of one catalog version; each compiled on first use. */
export interface Catalog {
  version: number;
  /** The check of `type`'s data, or null when the type has no schema (or no catalog entry). */
  check(type: string): DataCheck | null;
}

/** Catalogs cached per tenant, reloaded in the publishing transaction when the version moved. */
export class CatalogCache {
  private readonly catalogs = new Map<string, Catalog>();

  async catalog(db: Db, tenant: string, version: number): Promise<Catalog> {
    const cached = this.catalogs.get(tenant);
    if (cached && cached.version === version) return cached;
    const rows =
      version === 0
        ? []
        : await db
            .selectFrom('event_types')
            .select(['name', 'schema'])
            .where('tenant', '=', tenant)
            .where('schema', 'is not', null)
            .execute();
    const schemas = new Map(rows.map((r) => [r.name, r.schema!]));
    const compiled = new Map<string, DataCheck>();
    const catalog: Catalog = {
      version,
      check(type) {
        const schema = schemas.get(type);
        if (schema === undefined) return null;
        let check = compiled.get(type);
        if (!check) {
          check = compileDataCheck(JSON.parse(schema));
          compiled.set(type, check);
        }
        return check;
      },
    };
    this.catalogs.set(tenant, catalog);
    return catalog;
  }
}
