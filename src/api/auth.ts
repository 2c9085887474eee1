import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Store } from '../store';
import type { KeyOwner } from '../store/api-keys';
import type { PortalSession } from '../store/portal-sessions';
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

/** A new consumer portal token: `hkp_` and 32 random bytes, base64url. */
export function newPortalToken(): string {
  return `${PORTAL_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** What tells a portal token from an API key before any lookup. */
export const PORTAL_TOKEN_PREFIX = 'hkp_';

/**
 * Who a request's bearer is. `keyId` is null for keys of API_KEYS (and the generated key). A portal
 * session is found (and answered) also once expired, so that its 401 can say so.
 */
export type Principal =
  | { kind: 'tenant'; tenant: string; keyId: string | null }
  | {
      kind: 'portal';
      tenant: string;
      readOnly: boolean;
      expiresAt: number;
      expired: boolean;
    }
  | { kind: 'operator' };

/** A row the authenticator caches by hash: a tenant key's owner or a portal session. */
type Cached = { key: KeyOwner } | { session: PortalSession };

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
  private readonly cache = new Map<string, { row: Cached; expiresAt: number }>();
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
    const hash = presented.toString('hex');
    if (key.startsWith(PORTAL_TOKEN_PREFIX)) {
      const found = await this.stored(hash, async () => {
        const session = await this.opts.store.portalSessions.byHash(hash);
        return session && { session };
      });
      if (!found || !('session' in found)) return null;
      const { tenant: owner, readOnly, expiresAt } = found.session;
      return {
        kind: 'portal',
        tenant: owner,
        readOnly,
        expiresAt,
        expired: expiresAt <= this.clock(),
      };
    }
    const found = await this.stored(hash, async () => {
      const owner = await this.opts.store.apiKeys.byHash(hash);
      return owner && { key: owner };
    });
    if (!found || !('key' in found)) return null;
    await this.touch(found.key);
    return { kind: 'tenant', tenant: found.key.tenant, keyId: found.key.keyId };
  }

  /** Forgets a deleted key, and the portal sessions it made, at once (other processes: within the cache TTL). */
  forgetKey(keyId: string): void {
    for (const [hash, { row }] of this.cache) {
      if (('key' in row ? row.key.keyId : row.session.keyId) === keyId) this.cache.delete(hash);
    }
  }

  /** Forgets every key of a deleted tenant at once. */
  forgetTenant(tenant: string): void {
    for (const [hash, { row }] of this.cache) {
      if (('key' in row ? row.key.tenant : row.session.tenant) === tenant) this.cache.delete(hash);
    }
  }

  /** The row with this hash: from the cache while fresh, else from `load` (misses are not cached). */
  private async stored(hash: string, load: () => Promise<Cached | null>): Promise<Cached | null> {
    const now = this.clock();
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAt > now) return cached.row;
    const row = await load();
    if (!row) {
      this.cache.delete(hash);
      return null;
    }
    if (this.cache.size >= MAX_CACHED) this.prune(now);
    this.cache.set(hash, { row, expiresAt: now + this.ttl });
    return row;
  }

  /** lastUsedAt: one write per key, process and granularity, awaited (a read after this request sees it). */
  private async touch(owner: KeyOwner): Promise<void> {
    const now = this.clock();
    const last = this.touched.get(owner.keyId) ?? owner.lastUsedAt ?? -Infinity;
    if (now - last >= this.granularity) {
      this.touched.set(owner.keyId, now);
      await this.opts.store.apiKeys.touch(owner.keyId, now);
    }
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
      return next(HttpError.forbidden('only operator keys manage tenants'));
    }
    res.locals.operator = true;
    next();
  };
}

/**
 * `Authorization: Bearer <key>` → the key's tenant in `res.locals.tenant`. Checked before the body is
 * read. A key sees only its own tenant's resources (others answer 404 in the handlers); an operator
 * key is no tenant's (401). Requests an operator key already passed (`/v1/tenants…`) go through.
 * A portal token reaches only the routes `portalScope` allows (403 elsewhere, 401 once expired); its
 * answers say what it may do in `Hookline-Portal-Access` and until when in `Hookline-Portal-Expires-At`.
 */
export function requireApiKey(auth: Authenticator): RequestHandler {
  return async (req, res, next) => {
    if (res.locals.operator === true) return next();
    const key = bearerOf(req.headers.authorization);
    const principal = key === null ? null : await auth.authenticate(key);
    if (!principal || principal.kind === 'operator') return next(HttpError.unauthorized());
    if (principal.kind === 'portal') {
      const expiresAt = new Date(principal.expiresAt).toISOString();
      if (principal.expired)
        return next(HttpError.unauthorized(`the portal session expired at ${expiresAt}`));
      const refusal = portalScope(req.method, req.baseUrl + req.path, principal.readOnly);
      if (refusal) return next(HttpError.forbidden(refusal));
      res.set({
        'Hookline-Portal-Access': principal.readOnly ? 'read-only' : 'read-write',
        'Hookline-Portal-Expires-At': expiresAt,
      });
    }
    res.locals.tenant = principal.tenant;
    res.locals.keyId = principal.kind === 'tenant' ? principal.keyId : null;
    next();
  };
}

/** Routes a portal token reaches: path prefix, and whether changes are allowed at all. */
const PORTAL_ROUTES: { prefix: string; changes: boolean }[] = [
  { prefix: '/v1/subscriptions', changes: true },
  { prefix: '/v1/events', changes: true },
  { prefix: '/v1/event-types', changes: false },
  { prefix: '/v1/usage', changes: false },
];

const READS = new Set(['GET', 'HEAD']);

/**
 * Null when a portal session may make this request, else why not (for a 403): the tenant's own
 * subscriptions and events, reading its event types and usage, and nothing that changes anything
 * when the session is read-only. `path` is the whole path (`/v1/…`).
 */
export function portalScope(method: string, path: string, readOnly: boolean): string | null {
  const route = PORTAL_ROUTES.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
  if (!route) return 'a portal session cannot use this route';
  if (READS.has(method.toUpperCase())) return null;
  if (readOnly) return 'this portal session is read-only';
  return route.changes ? null : 'a portal session can only read this route';
}

/** The stored API key of an authenticated request; null for a key of API_KEYS or a portal session. */
export function keyIdOf(res: Response): string | null {
  return (res.locals.keyId as string | null | undefined) ?? null;
}

/** The tenant of an authenticated request. */
export function tenantOf(res: Response): string {
  return res.locals.tenant as string;
}
