import { randomUUID } from 'node:crypto';
import { Authenticator, keyHash } from '../../src/api/auth';
import { QuotaExceededError, TenantGoneError } from '../../src/store/errors';
import { CatalogCache } from '../../src/store/event-types';
import {
  DIALECTS,
  makeEvent,
  makeSubscription,
  openTestStore,
  TEST_SECRET,
  type TestStore,
} from '../support/store';

const event = makeEvent;

const LIMITS = { maxEvents: 1_000_000, maxBytes: 10 * 1024 ** 3 };

describe.each(DIALECTS)('tenants in the store on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(dialect);
  });
  afterAll(async () => {
    await store?.dispose();
  });
  const freshTenant = async (eventsPerMonth?: number | null) => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    await store.tenants.create({ id, name: null, eventsPerMonth }, Date.now(), { eventsPerMonth: null });
    return id;
  };

  describe('the monthly quota', () => {
    it('counts per calendar month in UTC: the cap is full on Dec 31 at 23:59:59.999 and free again at midnight', async () => {
      const tenant = await freshTenant(2);
      const lastMs = Date.parse('2026-12-31T23:59:59.999Z');
      const midnight = Date.parse('2027-01-01T00:00:00.000Z');
      const first = await store.publish([{ tenant, events: [event('a'), event('b')] }], LIMITS, lastMs);
      expect(first.results[0]).toHaveProperty('outcomes');
      const refused = await store.publish([{ tenant, events: [event('c')] }], LIMITS, lastMs);
      const error = (refused.results[0] as { error: QuotaExceededError }).error;
      expect(error).toBeInstanceOf(QuotaExceededError);
      expect(error.retryAfterSeconds).toBe(1);
      const next = await store.publish([{ tenant, events: [event('c')] }], LIMITS, midnight);
      expect(next.results[0]).toHaveProperty('outcomes');
      const rows = await store.db
        .selectFrom('usage')
        .select(['period', 'events'])
        .where('tenant', '=', tenant)
        .orderBy('period')
        .execute();
      expect(rows).toEqual([
        { period: '2026-12', events: 2 },
        { period: '2027-01', events: 1 },
      ]);
    });

    it('answers Retry-After in whole seconds until the 1st of next month, 00:00 UTC', async () => {
      const tenant = await freshTenant(0);
      const now = Date.parse('2026-02-27T12:00:00.500Z');
      const r = await store.publish([{ tenant, events: [event('x')] }], LIMITS, now);
      const error = (r.results[0] as { error: QuotaExceededError }).error;
      // 1.5 days less 0.5 s, rounded up: 129600 s.
      expect(error.retryAfterSeconds).toBe(129_600);
    });

    it('in one group, a refused request leaves room for the next one and stores nothing', async () => {
      const tenant = await freshTenant(3);
      const sub = makeSubscription(tenant);
      await store.subscriptions.create(sub, TEST_SECRET, null, 10_000);
      const r = await store.publish(
        [
          { tenant, events: [event('g1'), event('g2')] },
          { tenant, events: [event('g3'), event('g4')] },
          { tenant, events: [event('g5')] },
        ],
        LIMITS,
        Date.now(),
      );
      expect(r.results[0]).toHaveProperty('outcomes');
      expect((r.results[1] as { error: unknown }).error).toBeInstanceOf(QuotaExceededError);
      expect(r.results[2]).toHaveProperty('outcomes');
      const ids = await store.db
        .selectFrom('events')
        .select('event_id')
        .where('tenant', '=', tenant)
        .execute();
      expect(ids.map((e) => e.event_id).sort()).toEqual(['g1', 'g2', 'g5']);
      expect((await store.queues.queue(sub.id, 10)).size).toBe(3);
    });

    it('a deleted tenant publishes nothing', async () => {
      const tenant = await freshTenant(null);
      expect(await store.tenants.markDeleted(tenant, Date.now())).toBe(true);
      const r = await store.publish([{ tenant, events: [event('z')] }], LIMITS, Date.now());
      expect((r.results[0] as { error: unknown }).error).toBeInstanceOf(TenantGoneError);
      await expect(
        store.subscriptions.create(makeSubscription(tenant), TEST_SECRET, null, 10_000),
      ).rejects.toBeInstanceOf(TenantGoneError);
    });
  });

  describe('the event-type catalog', () => {
    it('compiles a schema once per catalog version, not per event, and again when the version moves', async () => {
      const tenant = await freshTenant(null);
      await store.eventTypes.create(
        tenant,
        { name: 'order.created', description: null, schema: { type: 'object' } },
        Date.now(),
      );
      const version = async () =>
        (
          await store.db
            .selectFrom('tenants')
            .select('catalog_version')
            .where('id', '=', tenant)
            .executeTakeFirstOrThrow()
        ).catalog_version;
      const cache = new CatalogCache();
      const v1 = await version();
      const check = (await cache.catalog(store.db, tenant, v1)).check('order.created');
      expect(check).not.toBeNull();
      expect((await cache.catalog(store.db, tenant, v1)).check('order.created')).toBe(check);
      expect(check!([], 'data')).toEqual([{ path: 'data', message: expect.any(String) }]);
      expect((await cache.catalog(store.db, tenant, v1)).check('other.type')).toBeNull();

      await store.eventTypes.patch(tenant, 'order.created', { schema: { type: 'array' } }, Date.now());
      const v2 = await version();
      expect(v2).toBeGreaterThan(v1);
      const recompiled = (await cache.catalog(store.db, tenant, v2)).check('order.created');
      expect(recompiled).not.toBe(check);
      expect(recompiled!([], 'data')).toEqual([]);
    });
  });

  describe('the key cache', () => {
    it('trusts a found key for its TTL only; this process forgets a deleted key at once', async () => {
      const tenant = await freshTenant(null);
      let now = 1_000_000;
      const key = `hk_${randomUUID()}`;
      await store.apiKeys.create(
        { id: 'key_00000000000000000000000000000001', tenant, name: null, hash: keyHash(key) },
        now,
      );
      const other = new Authenticator({
        configured: [],
        adminKeyDigests: [],
        store,
        cacheTtlMs: 2000,
        clock: () => now,
      });
      const own = new Authenticator({
        configured: [],
        adminKeyDigests: [],
        store,
        cacheTtlMs: 2000,
        clock: () => now,
      });
      expect(await other.authenticate(key)).toEqual({
        kind: 'tenant',
        tenant,
        keyId: 'key_00000000000000000000000000000001',
      });
      expect(await own.authenticate(key)).not.toBeNull();
      expect(await store.apiKeys.remove(tenant, 'key_00000000000000000000000000000001')).toBe(true);
      own.forgetKey('key_00000000000000000000000000000001');
      expect(await own.authenticate(key)).toBeNull();
      now += 1999;
      expect(await other.authenticate(key)).not.toBeNull();
      now += 1;
      expect(await other.authenticate(key)).toBeNull();
    });

    it('writes lastUsedAt at most once a minute per key, never backwards', async () => {
      const tenant = await freshTenant(null);
      let now = 5_000_000;
      const key = `hk_${randomUUID()}`;
      const id = 'key_00000000000000000000000000000002';
      await store.apiKeys.create({ id, tenant, name: null, hash: keyHash(key) }, now);
      const auth = new Authenticator({ configured: [], adminKeyDigests: [], store, clock: () => now });
      const lastUsed = async () => (await store.apiKeys.list(tenant))[0]!.lastUsedAt;
      await auth.authenticate(key);
      expect(await lastUsed()).toBe(new Date(5_000_000).toISOString());
      now += 59_999;
      await auth.authenticate(key);
      expect(await lastUsed()).toBe(new Date(5_000_000).toISOString());
      now += 1;
      await auth.authenticate(key);
      expect(await lastUsed()).toBe(new Date(5_060_000).toISOString());
      await store.apiKeys.touch(id, 5_000_001);
      expect(await lastUsed()).toBe(new Date(5_060_000).toISOString());
    });

    it('does not authenticate the keys of a deleted tenant', async () => {
      const tenant = await freshTenant(null);
      const key = `hk_${randomUUID()}`;
      await store.apiKeys.create(
        { id: 'key_00000000000000000000000000000003', tenant, name: null, hash: keyHash(key) },
        1,
      );
      const auth = new Authenticator({ configured: [], adminKeyDigests: [], store });
      expect(await auth.authenticate(key)).not.toBeNull();
      await store.tenants.markDeleted(tenant, Date.now());
      expect(await store.apiKeys.byHash(keyHash(key))).toBeNull();
    });
  });
});
