/**
 * Tenant API keys made through the API. Only a key's SHA-256 is stored: the key is 256 random bits,
 * so a fast hash is as good as a slow one against guessing, and it can be looked up by an index.
 */
import type { Db } from './database';
import { NotFoundError } from './errors';

export interface ApiKeyInfo {
  id: string;
  name: string | null;
  createdAt: string;
  /** Coarse (see src/api/auth.ts); null: never used. */
  lastUsedAt: string | null;
}

/** What authenticating a key needs: its id and a live tenant. */
export interface KeyOwner {
  keyId: string;
  tenant: string;
  lastUsedAt: number | null;
}

/** NotFoundError when `tenant` has no row or is deleted. */
export async function requireLiveTenant(db: Db, tenant: string): Promise<void> {
  const row = await db
    .selectFrom('tenants')
    .select('id')
    .where('id', '=', tenant)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('tenant');
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class ApiKeyRows {
  constructor(private readonly db: Db) {}

  /** NotFoundError when the tenant is not live. */
  async create(
    key: { id: string; tenant: string; name: string | null; hash: string },
    now: number,
  ): Promise<ApiKeyInfo> {
    await requireLiveTenant(this.db, key.tenant);
    await this.db
      .insertInto('api_keys')
      .values({
        id: key.id,
        tenant: key.tenant,
        name: key.name,
        key_hash: key.hash,
        created_at: now,
        last_used_at: null,
      })
      .execute();
    return { id: key.id, name: key.name, createdAt: new Date(now).toISOString(), lastUsedAt: null };
  }

  /** The tenant's keys, oldest first. */
  async list(tenant: string): Promise<ApiKeyInfo[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'created_at', 'last_used_at'])
      .where('tenant', '=', tenant)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      createdAt: new Date(r.created_at).toISOString(),
      lastUsedAt: iso(r.last_used_at),
    }));
  }

  /** False when the tenant has no such key. */
  async remove(tenant: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('api_keys')
      .where('tenant', '=', tenant)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** The key with this hash, if its tenant is live. */
  async byHash(hash: string): Promise<KeyOwner | null> {
    const row = await this.db
      .selectFrom('api_keys')
      .innerJoin('tenants', 'tenants.id', 'api_keys.tenant')
      .select(['api_keys.id as id', 'api_keys.tenant as tenant', 'api_keys.last_used_at as last_used_at'])
      .where('api_keys.key_hash', '=', hash)
      .where('tenants.deleted_at', 'is', null)
      .executeTakeFirst();
    return row ? { keyId: row.id, tenant: row.tenant, lastUsedAt: row.last_used_at } : null;
  }

  /** Moves last_used_at forward to `at` (never back: processes write in any order). */
  async touch(id: string, at: number): Promise<void> {
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}
