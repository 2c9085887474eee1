/**
 * Consumer portal sessions: the tokens of portal links. Only a token's SHA-256 is stored (the token is
 * 256 random bits, as API keys are). A session of a deleted tenant, or past its expiry, authenticates
 * nothing; retention deletes expired rows.
 */
import type { Db } from './database';
import { requireLiveTenant } from './api-keys';

export interface PortalSession {
  id: string;
  tenant: string;
  /** The stored API key that made it; null for a key of API_KEYS. */
  keyId: string | null;
  readOnly: boolean;
  /** ms since the epoch. */
  expiresAt: number;
}

export class PortalSessionRows {
  constructor(private readonly db: Db) {}

  /** NotFoundError when the tenant is not live. */
  async create(session: PortalSession & { tokenHash: string }, now: number): Promise<void> {
    await requireLiveTenant(this.db, session.tenant);
    await this.db
      .insertInto('portal_sessions')
      .values({
        id: session.id,
        tenant: session.tenant,
        key_id: session.keyId,
        token_hash: session.tokenHash,
        read_only: session.readOnly ? 1 : 0,
        created_at: now,
        expires_at: session.expiresAt,
      })
      .execute();
  }

  /** The session with this token hash, expired or not, if its tenant is live and its key not deleted. */
  async byHash(hash: string): Promise<PortalSession | null> {
    const row = await this.db
      .selectFrom('portal_sessions')
      .innerJoin('tenants', 'tenants.id', 'portal_sessions.tenant')
      .leftJoin('api_keys', 'api_keys.id', 'portal_sessions.key_id')
      .select([
        'portal_sessions.id as id',
        'portal_sessions.tenant as tenant',
        'portal_sessions.key_id as key_id',
        'portal_sessions.read_only as read_only',
        'portal_sessions.expires_at as expires_at',
      ])
      .where('portal_sessions.token_hash', '=', hash)
      .where('tenants.deleted_at', 'is', null)
      .where((eb) => eb.or([eb('portal_sessions.key_id', 'is', null), eb('api_keys.id', 'is not', null)]))
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      tenant: row.tenant,
      keyId: row.key_id,
      readOnly: row.read_only === 1,
      expiresAt: Number(row.expires_at),
    };
  }
}
