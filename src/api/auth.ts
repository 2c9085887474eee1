import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Store } from '../store';
import type { KeyOwner } from '../store/api-keys';
import { HttpError } from './errors';
import type { ApiKey } from './keys';

/** sha256 of a key: comparing digests of equal length keeps the comparison constant-time. */
export function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The stored form of a key made through the API: hex SHA-256 (the key is 256 random bits). */
export function keyHash(key: string): string {
  return digest(key).toString('hex');
}

/** A new tenant API key: `hk_` and 32 random bytes, base64url. */
export function newApiKey(): string {
  return `hk_${randomBytes(32).toString('base64url')}`;
}

/** Who a request's bearer is. `keyId` is null for keys of API_KEYS (and the generated key). */
export type Principal = { kind: 'tenant'; tenant: string; keyId: string | null } | { kind: 'operator' };

export interface AuthenticatorOptions {
  /** API_KEYS, or the generated key of tenant `default`. */
  configured: ApiKey[];
  /** sha256 digests of ADMIN_API_KEYS. */
  adminKeyDigests: Buffer[];
  store: Store;
  /**
   * ms a key found in the store is trusted without asking again. It bounds how long a key deleted
   * through another API process keeps working there; this process forgets it at once.
   */
  cacheTtlMs?: number;
  /** ms: lastUsedAt is written at most this often per key and process (so it lags by less). */
  lastUsedGranularityMs?: number;
  clock?: () => number;
}

/** Default of cacheTtlMs: a deleted key answers 401 on every API process within about 2 s. */
export const KEY_CACHE_TTL_MS = 2000;
/** Default of lastUsedGranularityMs: one minute. */
export const LAST_USED_GRANULARITY_MS = 60_000;
/** Cached store lookups held at most (a flood of distinct keys does not grow memory). */
const MAX_CACHED = 10_000;

/**
 * Authenticates bearers: operator keys and configured tenant keys from the config, tenant keys made
 * through the API from the store (by hash, cached for a short TTL; unknown keys are not cached, so a
 * new key works at once everywhere).
 */
export class Authenticator {
  private readonly configured: { tenant: string; digest: Buffer }[];
  private readonly cache = new Map<string, { owner: KeyOwner; expiresAt: number }>();
  /** When this process last wrote each key's last_used_at. */
  private readonly touched = new Map<string, number>();
  private readonly ttl: number;
  private readonly granularity: number;
  private readonly clock: () => number;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.configured = opts.configured.map((k) => ({ tenant: k.tenant, digest: digest(k.key) }));
    this.ttl = opts.cacheTtlMs ?? KEY_CACHE_TTL_MS;
    this.granularity = opts.lastUsedGranularityMs ?? LAST_USED_GRANULARITY_MS;
    this.clock = opts.clock ?? Date.now;
  }

  /** The tenants of the configured keys. */
  configuredTenants(): string[] {
    return [...new Set(this.configured.map((k) => k.tenant))];
  }

  async authenticate(key: string): Promise<Principal | null> {
    const presented = digest(key);
    let operator = false;
    for (const d of this.opts.adminKeyDigests) if (timingSafeEqual(d, presented)) operator = true;
    if (operator) return { kind: 'operator' };
    let tenant: string | null = null;
    for (const k of this.configured) if (timingSafeEqual(k.digest, presented)) tenant = k.tenant;
    if (tenant !== null) return { kind: 'tenant', tenant, keyId: null };
    const owner = await this.stored(presented.toString('hex'));
    return owner ? { kind: 'tenant', tenant: owner.tenant, keyId: owner.keyId } : null;
  }

  /** Forgets a deleted key at once (other processes: within the cache TTL). */
  forgetKey(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.owner.keyId === keyId) this.cache.delete(hash);
  }

  /** Forgets every key of a deleted tenant at once. */
  forgetTenant(tenant: string): void {
    for (const [hash, entry] of this.cache) if (entry.owner.tenant === tenant) this.cache.delete(hash);
  }

  private async stored(hash: string): Promise<KeyOwner | null> {
    const now = this.clock();
    const cached = this.cache.get(hash);
    let owner: KeyOwner | null;
    if (cached && cached.expiresAt > now) owner = cached.owner;
    else {
      owner = await this.opts.store.apiKeys.byHash(hash);
      if (!owner) {
        this.cache.delete(hash);
        return null;
      }
      if (this.cache.size >= MAX_CACHED) this.prune(now);
      this.cache.set(hash, { owner, expiresAt: now + this.ttl });
    }
    // lastUsedAt: one write per key, process and granularity, awaited (a read after this request sees it).
    const last = this.touched.get(owner.keyId) ?? owner.lastUsedAt ?? -Infinity;
    if (now - last >= this.granularity) {
      this.touched.set(owner.keyId, now);
      await this.opts.store.apiKeys.touch(owner.keyId, now);
    }
    return owner;
  }

  private prune(now: number): void {
    for (const [hash, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(hash);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    if (this.touched.size >= MAX_CACHED) this.touched.clear();
  }
}

function bearerOf(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

/**
 * For `/v1/tenants…`: an operator key passes; a tenant key answers 403; anything else 401. Checked
 * before the body is read.
 */
export function requireOperatorKey(auth: Authenticator): RequestHandler {
  return async (req, res, next) => {
    const key = bearerOf(req.headers.authorization);
    const principal = key === null ? null : await auth.authenticate(key);
    if (!principal) return next(HttpError.unauthorized());
    if (principal.kind !== 'operator') {
      return next(HttpError.forbidden('tenant API keys cannot manage tenants: use an operator key'));
    }
    res.locals.operator = true;
    next();
  };
}

/**
 * `Authorization: Bearer <key>` → the key's tenant in `res.locals.tenant`. Checked before the body is
 * read. A key sees only its own tenant's resources (others answer 404 in the handlers); an operator
 * key is no tenant's (401). Requests an operator key already passed (`/v1/tenants…`) go through.
 */
export function requireApiKey(auth: Authenticator): RequestHandler {
  return async (req, res, next) => {
    if (res.locals.operator === true) return next();
    const key = bearerOf(req.headers.authorization);
    const principal = key === null ? null : await auth.authenticate(key);
    if (!principal || principal.kind !== 'tenant') return next(HttpError.unauthorized());
    res.locals.tenant = principal.tenant;
    res.locals.keyId = principal.keyId;
    next();
  };
}

/** The tenant of an authenticated request. */
export function tenantOf(res: Response): string {
  return res.locals.tenant as string;
}
