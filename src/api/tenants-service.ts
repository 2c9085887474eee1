/**
 * What the tenant, key, usage and event-type routes do, over the store. Operators manage tenants and
 * their keys; a tenant manages its own keys and event types and reads its usage.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger';
import { schemaProblems } from '../publish/event-schemas';
import type { Store } from '../store';
import type { ApiKeyInfo } from '../store/api-keys';
import { ConflictError, NotFoundError } from '../store/errors';
import type { EventType, EventTypeChanges } from '../store/event-types';
import type { Tenant, TenantChanges, TenantCreate, TenantDefaults } from '../store/tenants';
import { nextPeriodStart, periodOf, usedEvents } from '../store/usage';
import type { Subscribers } from '../temporal/subscribers';
import { keyHash, newApiKey, type Authenticator } from './auth';
import { HttpError } from './errors';
import { KEY_ID, TENANT_ID } from './schemas/tenant';
import type { SubscriptionService } from './subscriptions-service';

export interface TenantServiceDeps {
  store: Store;
  auth: Authenticator;
  subscriptions: SubscriptionService;
  subscribers: Subscribers;
  defaults: TenantDefaults;
  logger: Logger;
}

export class TenantService {
  constructor(private readonly deps: TenantServiceDeps) {}

  private get store() {
    return this.deps.store;
  }

  // ---- Tenants (operators) ----

  async create(input: TenantCreate): Promise<Tenant> {
    const tenant = await this.store.tenants.create(input, Date.now(), this.deps.defaults);
    // Its ingress workflow (the `publish` signal) starts off the request's path.
    this.deps.subscribers.startIngress(tenant.id).catch((err: unknown) => {
      this.deps.logger.warn({ err, tenant: tenant.id }, 'ingress workflow not started; the next start will');
    });
    return tenant;
  }

  get(id: string): Promise<Tenant> {
    if (!TENANT_ID.test(id)) throw new NotFoundError('tenant');
    return this.store.tenants.get(id, this.deps.defaults);
  }

  list(q: { limit: number; after?: string }) {
    return this.store.tenants.list(q, this.deps.defaults);
  }

  patch(id: string, changes: TenantChanges): Promise<Tenant> {
    if (!TENANT_ID.test(id)) throw new NotFoundError('tenant');
    return this.store.tenants.patch(id, changes, Date.now(), this.deps.defaults);
  }

  /**
   * Deletes the tenant: its keys stop at once (the store's rows in the same transaction as the
   * tombstone; this process's cache now, others' within the cache TTL, and nothing of the tenant is
   * written after the tombstone commits), then its subscriptions go the way DELETE takes them, so
   * their workflows end.
   */
  async remove(id: string): Promise<void> {
    if (!TENANT_ID.test(id)) throw new NotFoundError('tenant');
    if (this.deps.auth.configuredTenants().includes(id)) {
      await this.get(id);
      throw new ConflictError('this tenant is configured in API_KEYS: remove it there');
    }
    if (!(await this.store.tenants.markDeleted(id, Date.now()))) throw new NotFoundError('tenant');
    this.deps.auth.forgetTenant(id);
    // In id order, page after page (terminates even if a removal meets one deleted meanwhile).
    let after: string | undefined;
    for (;;) {
      const page = await this.store.subscriptions.list(id, { limit: 250, after });
      for (const sub of page.data) {
        await this.deps.subscriptions.remove(id, sub.id).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
      }
      if (page.next === null) break;
      after = page.next;
    }
  }

  // ---- Keys (operators for any tenant, a tenant for its own) ----

  async createKey(tenant: string, name: string | null): Promise<ApiKeyInfo & { key: string }> {
    if (!TENANT_ID.test(tenant)) throw new NotFoundError('tenant');
    const key = newApiKey();
    const id = `key_${randomUUID().replace(/-/g, '')}`;
    const info = await this.store.apiKeys.create({ id, tenant, name, hash: keyHash(key) }, Date.now());
    return { ...info, key };
  }

  async listKeys(tenant: string): Promise<ApiKeyInfo[]> {
    await this.get(tenant);
    return this.store.apiKeys.list(tenant);
  }

  async removeKey(tenant: string, keyId: string): Promise<void> {
    if (!TENANT_ID.test(tenant) || !KEY_ID.test(keyId)) throw new NotFoundError('key');
    if (!(await this.store.apiKeys.remove(tenant, keyId))) throw new NotFoundError('key');
    this.deps.auth.forgetKey(keyId);
  }

  // ---- Usage ----

  async usage(tenant: string) {
    const now = Date.now();
    const period = periodOf(now);
    const [eventsPerMonth, events] = await Promise.all([
      this.store.tenants.capOf(tenant, this.deps.defaults),
      usedEvents(this.store.db, tenant, period),
    ]);
    // Midnight exactly, written as API.md writes it: `2027-01-01T00:00:00Z`.
    const resetsAt = new Date(nextPeriodStart(now)).toISOString().replace('.000Z', 'Z');
    return { period, events, eventsPerMonth, resetsAt };
  }

  // ---- Event types ----

  createEventType(tenant: string, input: { name: string; description: string | null; schema: unknown }) {
    checkSchema(input.schema);
    return this.store.eventTypes.create(tenant, input, Date.now());
  }

  listEventTypes(tenant: string, includeArchived: boolean): Promise<EventType[]> {
    return this.store.eventTypes.list(tenant, includeArchived);
  }

  getEventType(tenant: string, name: string): Promise<EventType> {
    return this.store.eventTypes.get(tenant, name);
  }

  patchEventType(tenant: string, name: string, changes: EventTypeChanges): Promise<EventType> {
    if (changes.schema !== undefined) checkSchema(changes.schema);
    return this.store.eventTypes.patch(tenant, name, changes, Date.now());
  }

  removeEventType(tenant: string, name: string): Promise<void> {
    return this.store.eventTypes.remove(tenant, name, Date.now());
  }
}

/** 400 at `schema…` unless null or a valid JSON Schema (draft 2020-12). */
function checkSchema(schema: unknown): void {
  if (schema === null) return;
  const problems = schemaProblems(schema, 'schema');
  if (problems.length > 0)
    throw HttpError.badRequest('the schema is not a valid JSON Schema (draft 2020-12)', problems);
}
