import { createHash } from 'node:crypto';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import { startTestApp, type TestApp } from '../support/app';
import { TestReceiver } from '../support/receiver';
import { callApi, startSecondApi, type SecondApi } from '../support/second-api';

const OPERATOR = 'operator-key-0123456789abcdef';

describe('tenants and API keys (operators)', () => {
  let app: TestApp;
  let second: SecondApi;
  let receiver: TestReceiver;
  beforeAll(async () => {
    app = await startTestApp({ ADMIN_API_KEYS: OPERATOR });
    second = await startSecondApi(app);
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await second?.stop();
    await app?.stop();
    await receiver?.close();
  });

  // Always the first API process (against the stack, app.call takes turns): "at once" means on this one.
  const op = (method: string, path: string, body?: unknown) =>
    callApi(app.url, method, path, { key: OPERATOR, body });
  const as = (key: string, method: string, path: string, body?: unknown) =>
    callApi(app.url, method, path, { key, body });
  let n = 0;
  const freshTenant = async (extra: Record<string, unknown> = {}) => {
    const id = `t${++n}-co`;
    const res = await op('POST', '/v1/tenants', { id, name: `Tenant ${n}`, ...extra });
    expect(res.status).toBe(201);
    return id;
  };
  const freshKey = async (tenant: string, name = 'ci') => {
    const res = await op('POST', `/v1/tenants/${tenant}/keys`, { name });
    expect(res.status).toBe(201);
    return res.body as { id: string; key: string };
  };

  describe('who reaches /v1/tenants…', () => {
    it.each([
      ['POST', '/v1/tenants'],
      ['GET', '/v1/tenants'],
      ['GET', '/v1/tenants/anything'],
      ['PATCH', '/v1/tenants/anything'],
      ['DELETE', '/v1/tenants/anything'],
      ['POST', '/v1/tenants/anything/keys'],
      ['GET', '/v1/tenants/anything/keys'],
      ['DELETE', '/v1/tenants/anything/keys/key_0123456789abcdef0123456789abcdef'],
    ])(
      '%s %s answers 403 forbidden to a tenant key and 401 to no key or an unknown one',
      async (method, path) => {
        const body = method === 'GET' || method === 'DELETE' ? undefined : { name: 'x' };
        const tenant = await app.call(method, path, { as: 'acme', body });
        expect(tenant.status).toBe(403);
        expect(tenant.body.error.code).toBe('forbidden');
        expect((await app.call(method, path, { key: null, body })).status).toBe(401);
        const unknown = await app.call(method, path, { key: 'not-a-key-0123456789abcdef', body });
        expect(unknown.status).toBe(401);
        expect(unknown.body.error.code).toBe('unauthorized');
      },
    );

    it.each([
      ['GET', '/v1/subscriptions'],
      ['POST', '/v1/subscriptions'],
      ['POST', '/v1/events'],
      ['GET', '/v1/events/x'],
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys'],
      ['GET', '/v1/usage'],
      ['GET', '/v1/event-types'],
      ['POST', '/v1/event-types'],
    ])('an operator key on the tenant route %s %s answers 401', async (method, path) => {
      const res = await op(method, path, method === 'POST' ? { type: 'a', data: {} } : undefined);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    });

    it('checks the operator key before the body', async () => {
      const res = await app.call('POST', '/v1/tenants', {
        as: 'acme',
        raw: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(403);
    });
  });

  describe('tenants', () => {
    it('creates a tenant: 201 with id, name, eventsPerMonth and times; GET answers the same', async () => {
      const res = await op('POST', '/v1/tenants', { id: 'acme-shop', name: 'Acme', eventsPerMonth: 10000 });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: 'acme-shop',
        name: 'Acme',
        eventsPerMonth: 10000,
        createdAt: expect.stringMatching(/Z$/),
        updatedAt: expect.stringMatching(/Z$/),
      });
      expect((await op('GET', '/v1/tenants/acme-shop')).body).toEqual(res.body);
    });

    it('answers 409 for an id that exists, including a tenant of API_KEYS', async () => {
      await freshTenant({ id: 'taken' });
      const again = await op('POST', '/v1/tenants', { id: 'taken', name: 'Again' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('conflict');
      expect((await op('POST', '/v1/tenants', { id: app.tenants.acme })).status).toBe(409);
    });

    it.each([
      ['upper case', { id: 'Acme' }],
      ['a leading dash', { id: '-acme' }],
      ['64 characters', { id: 'a'.repeat(64) }],
      ['an underscore', { id: 'ac_me' }],
      ['no id', { name: 'x' }],
      ['an unknown field', { id: 'ok', plan: 'gold' }],
      ['a negative cap', { id: 'ok', eventsPerMonth: -1 }],
      ['a fractional cap', { id: 'ok', eventsPerMonth: 1.5 }],
    ])('refuses a tenant with %s: 400', async (_what, body) => {
      const res = await op('POST', '/v1/tenants', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });

    it('takes a 63-character id and a null cap (no cap)', async () => {
      const res = await op('POST', '/v1/tenants', { id: `a${'b'.repeat(62)}`, eventsPerMonth: null });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: null, eventsPerMonth: null });
    });

    it('lists tenants in pages, the tenants of API_KEYS among them', async () => {
      const made: string[] = [];
      for (let i = 0; i < 3; i++) made.push(await freshTenant());
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: any } = await op(
          'GET',
          `/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.data.map((t: { id: string }) => t.id));
        cursor = res.body.nextCursor;
      } while (cursor !== null);
      expect(seen).toEqual([...seen].sort());
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining([app.tenants.acme, app.tenants.globex, ...made]));
      expect((await op('GET', '/v1/tenants?limit=0')).status).toBe(400);
      expect((await op('GET', '/v1/tenants?cursor=bogus')).status).toBe(400);
    });

    it('changes name and eventsPerMonth with PATCH; unknown fields and unknown tenants are refused', async () => {
      const id = await freshTenant({ eventsPerMonth: 5 });
      const res = await op('PATCH', `/v1/tenants/${id}`, { name: 'Renamed', eventsPerMonth: 7 });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, name: 'Renamed', eventsPerMonth: 7 });
      expect((await op('GET', `/v1/tenants/${id}`)).body).toMatchObject({
        name: 'Renamed',
        eventsPerMonth: 7,
      });
      expect(
        (await op('PATCH', `/v1/tenants/${id}`, { eventsPerMonth: null })).body.eventsPerMonth,
      ).toBeNull();
      expect((await op('PATCH', `/v1/tenants/${id}`, { id: 'other' })).status).toBe(400);
      expect((await op('PATCH', `/v1/tenants/${id}`, {})).status).toBe(400);
      expect((await op('PATCH', '/v1/tenants/nobody', { name: 'x' })).status).toBe(404);
      expect((await op('GET', '/v1/tenants/nobody')).status).toBe(404);
      expect((await op('GET', '/v1/tenants/NOT%20A%20SLUG')).status).toBe(404);
    });

    it('refuses to delete a tenant of API_KEYS (its configured keys live in the config): 409', async () => {
      const res = await op('DELETE', `/v1/tenants/${app.tenants.acme}`);
      expect(res.status).toBe(409);
      expect((await app.call('GET', '/v1/subscriptions')).status).toBe(200);
    });

    it('deletes a tenant: 204, its keys answer 401 at once on every process, its subscriptions and their workflows end', async () => {
      const id = await freshTenant();
      const { key } = await freshKey(id);
      const sub = await as(key, 'POST', '/v1/subscriptions', {
        url: `${receiver.url}/del`,
        eventTypes: ['*'],
      });
      expect(sub.status).toBe(201);
      const others: string[] = [];
      for (const i of [1, 2, 3]) {
        const more = await as(key, 'POST', '/v1/subscriptions', {
          url: `${receiver.url}/del/${i}`,
          eventTypes: ['*'],
        });
        others.push(more.body.id);
      }
      // Its workflow runs (the create starts it off the request's path; this waits for that start).
      const handle = app.client.workflow.getHandle(subscriberWorkflowId(sub.body.id));
      for (let started = false; !started;) {
        started = await handle.describe().then(
          () => true,
          () => false,
        );
        if (!started) await new Promise((r) => setTimeout(r, 100));
      }
      // Both processes have the key cached.
      expect((await as(key, 'GET', '/v1/subscriptions')).status).toBe(200);
      expect((await second.call('GET', '/v1/subscriptions', { key })).status).toBe(200);

      expect((await op('DELETE', `/v1/tenants/${id}`)).status).toBe(204);
      expect((await as(key, 'GET', '/v1/subscriptions')).status).toBe(401);
      // The other process may trust its cache a moment longer, but writes nothing for the tenant.
      const late = await second.call('POST', '/v1/events', { key, body: { type: 'a', data: {} } });
      expect(late.status).toBe(401);
      const lateSub = await second.call('POST', '/v1/subscriptions', {
        key,
        body: { url: `${receiver.url}/late`, eventTypes: ['*'] },
      });
      expect(lateSub.status).toBe(401);

      expect(await app.store.subscriptions.get(id, sub.body.id)).toBeNull();
      for (const other of others) expect(await app.store.subscriptions.get(id, other)).toBeNull();
      expect((await op('GET', `/v1/tenants/${id}`)).status).toBe(404);
      expect((await op('DELETE', `/v1/tenants/${id}`)).status).toBe(404);
      expect(
        (await op('GET', '/v1/tenants?limit=250')).body.data.map((t: { id: string }) => t.id),
      ).not.toContain(id);
      // A deleted tenant's id is not given to a new tenant (its events are still kept for a while).
      expect((await op('POST', '/v1/tenants', { id })).status).toBe(409);
      // The subscription's workflow ends, as on DELETE /v1/subscriptions/{id}.
      await expect(handle.result()).resolves.toBeUndefined();
    });
  });

  describe('keys', () => {
    it('makes a key: 201 with id, name, the key and createdAt; the key works, only for its tenant', async () => {
      const id = await freshTenant();
      const res = await op('POST', `/v1/tenants/${id}/keys`, { name: 'ci' });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^key_[0-9a-f]{32}$/),
        name: 'ci',
        key: expect.stringMatching(/^hk_[A-Za-z0-9_-]{43}$/),
        createdAt: expect.stringMatching(/Z$/),
      });
      const key = res.body.key as string;
      const sub = await as(key, 'POST', '/v1/subscriptions', {
        url: `${receiver.url}/k1`,
        eventTypes: ['*'],
      });
      expect(sub.status).toBe(201);
      // Another tenant's key does not see it; the new key does not see theirs.
      expect((await app.call('GET', `/v1/subscriptions/${sub.body.id}`, { as: 'acme' })).status).toBe(404);
      const acmeSub = await app.call('POST', '/v1/subscriptions', {
        body: { url: `${receiver.url}/acme-k1`, eventTypes: ['*'] },
      });
      expect((await as(key, 'GET', `/v1/subscriptions/${acmeSub.body.id}`)).status).toBe(404);
      // It works on the other process too, at once.
      expect((await second.call('GET', `/v1/subscriptions/${sub.body.id}`, { key })).status).toBe(200);
    });

    it('stores only a hash of the key', async () => {
      const id = await freshTenant();
      const { id: keyId, key } = await freshKey(id);
      const row = await app.store.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', keyId)
        .executeTakeFirstOrThrow();
      expect(row.key_hash).toBe(createHash('sha256').update(key).digest('hex'));
      expect(JSON.stringify(row)).not.toContain(key);
    });

    it('lists keys without the key; lastUsedAt is null until used, then set', async () => {
      const id = await freshTenant();
      const { id: keyId, key } = await freshKey(id, 'deploy');
      const before = await op('GET', `/v1/tenants/${id}/keys`);
      expect(before.status).toBe(200);
      expect(before.body).toEqual({
        data: [{ id: keyId, name: 'deploy', createdAt: expect.any(String), lastUsedAt: null }],
      });
      expect(JSON.stringify(before.body)).not.toContain(key);
      expect((await as(key, 'GET', '/v1/usage')).status).toBe(200);
      const after = await op('GET', `/v1/tenants/${id}/keys`);
      expect(Date.parse(after.body.data[0].lastUsedAt)).toBeGreaterThanOrEqual(
        Date.parse(after.body.data[0].createdAt),
      );
      expect((await op('GET', '/v1/tenants/nobody/keys')).status).toBe(404);
      expect((await op('POST', '/v1/tenants/nobody/keys', { name: 'x' })).status).toBe(404);
      expect((await op('POST', `/v1/tenants/${id}/keys`, { name: 'x', key: 'mine' })).status).toBe(400);
    });

    it('deletes a key: 204; 401 at once on the process that deleted it, and within 5 s on the other', async () => {
      const id = await freshTenant();
      const { id: keyId, key } = await freshKey(id);
      const { key: kept } = await freshKey(id, 'kept');
      expect((await second.call('GET', '/v1/subscriptions', { key })).status).toBe(200);
      expect((await op('DELETE', `/v1/tenants/${id}/keys/${keyId}`)).status).toBe(204);
      const deletedAt = Date.now();
      expect((await as(key, 'GET', '/v1/subscriptions')).status).toBe(401);
      let status = 0;
      while (Date.now() - deletedAt < 5000) {
        status = (await second.call('GET', '/v1/subscriptions', { key })).status;
        if (status === 401) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(401);
      // The tenant's other key keeps working; the deleted one is gone from the list.
      expect((await as(kept, 'GET', '/v1/subscriptions')).status).toBe(200);
      const list = await op('GET', `/v1/tenants/${id}/keys`);
      expect(list.body.data.map((k: { id: string }) => k.id)).not.toContain(keyId);
      expect((await op('DELETE', `/v1/tenants/${id}/keys/${keyId}`)).status).toBe(404);
    });

    it("does not delete a key through another tenant's path: 404, and the key keeps working", async () => {
      const a = await freshTenant();
      const b = await freshTenant();
      const { id: keyId, key } = await freshKey(a);
      expect((await op('DELETE', `/v1/tenants/${b}/keys/${keyId}`)).status).toBe(404);
      expect((await as(key, 'GET', '/v1/subscriptions')).status).toBe(200);
    });
  });

  describe("a tenant's own keys: /v1/keys", () => {
    it('makes, lists and deletes its own keys with the same shapes', async () => {
      const id = await freshTenant();
      const { key } = await freshKey(id, 'root');
      const made = await as(key, 'POST', '/v1/keys', { name: 'ci' });
      expect(made.status).toBe(201);
      expect(made.body).toEqual({
        id: expect.stringMatching(/^key_/),
        name: 'ci',
        key: expect.stringMatching(/^hk_/),
        createdAt: expect.any(String),
      });
      expect((await as(made.body.key, 'GET', '/v1/usage')).status).toBe(200);
      const list = await as(key, 'GET', '/v1/keys');
      expect(list.status).toBe(200);
      expect(list.body.data.map((k: { name: string }) => k.name).sort()).toEqual(['ci', 'root']);
      expect(JSON.stringify(list.body)).not.toContain(made.body.key);
      expect((await as(key, 'DELETE', `/v1/keys/${made.body.id}`)).status).toBe(204);
      expect((await as(made.body.key, 'GET', '/v1/usage')).status).toBe(401);
      expect((await as(key, 'DELETE', `/v1/keys/${made.body.id}`)).status).toBe(404);
      expect((await as(key, 'DELETE', '/v1/keys/not-a-key-id')).status).toBe(404);
    });

    it("another tenant neither sees nor deletes a tenant's keys", async () => {
      const id = await freshTenant();
      const { id: keyId, key } = await freshKey(id);
      const theirs = await app.call('GET', '/v1/keys', { as: 'globex' });
      expect(theirs.status).toBe(200);
      expect(theirs.body.data.map((k: { id: string }) => k.id)).not.toContain(keyId);
      expect((await app.call('DELETE', `/v1/keys/${keyId}`, { as: 'globex' })).status).toBe(404);
      expect((await as(key, 'GET', '/v1/keys')).status).toBe(200);
    });

    it('a tenant of API_KEYS makes keys too; its configured key is not listed and keeps working', async () => {
      const made = await app.call('POST', '/v1/keys', { as: 'globex', body: { name: 'extra' } });
      expect(made.status).toBe(201);
      const list = await app.call('GET', '/v1/keys', { as: 'globex' });
      expect(list.body.data).toEqual([expect.objectContaining({ id: made.body.id, name: 'extra' })]);
      expect((await as(made.body.key, 'GET', '/v1/subscriptions')).status).toBe(200);
      expect((await app.call('DELETE', `/v1/keys/${made.body.id}`, { as: 'globex' })).status).toBe(204);
      expect((await app.call('GET', '/v1/keys', { as: 'globex' })).status).toBe(200);
    });
  });

  it('the second process answers the operator routes too', async () => {
    const res = await callApi(second.url, 'GET', `/v1/tenants/${app.tenants.globex}`, { key: OPERATOR });
    expect(res.status).toBe(200);
  });
});
