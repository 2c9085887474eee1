import { createHash } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/app';
import { storePortalSession } from '../support/portal';
import { callApi } from '../support/second-api';

const OPERATOR = 'operator-key-0123456789abcdef';

/** Subscriptions register against this address (loopback targets are allowed in test apps). */
const TARGET = 'http://127.0.0.1:9/portal-hooks';

describe('consumer portal sessions (POST /v1/portal/sessions)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ADMIN_API_KEYS: OPERATOR, PUBLIC_BASE_URL: 'https://hooks.example.com' });
  });
  afterAll(async () => {
    await app?.stop();
  });

  const session = async (body?: unknown, as: 'acme' | 'globex' = 'acme') => {
    const res = await app.call('POST', '/v1/portal/sessions', { as, body });
    expect(res.status).toBe(201);
    return res.body as { url: string; token: string; expiresAt: string; readOnly: boolean };
  };
  const withToken = (token: string, method: string, path: string, body?: unknown) =>
    callApi(app.url, method, path, { key: token, body });
  const sessionRows = () => app.store.db.selectFrom('portal_sessions').selectAll().execute();

  it('answers 201 with a link to /portal/ carrying a fresh token, stored only as its hash', async () => {
    const before = Date.now();
    const made = await session({ expiresInSeconds: 600 });
    expect(made.token).toMatch(/^hkp_[A-Za-z0-9_-]{43}$/);
    expect(made.url).toBe(`https://hooks.example.com/portal/#token=${made.token}`);
    expect(made.readOnly).toBe(false);
    const expiresAt = Date.parse(made.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    const row = (await sessionRows()).find(
      (r) => r.tenant === app.tenants.acme && Number(r.expires_at) === expiresAt,
    );
    expect(row).toBeDefined();
    expect(row!.token_hash).toBe(createHash('sha256').update(made.token).digest('hex'));
    expect(JSON.stringify(await sessionRows())).not.toContain(made.token);
    // Without a body: an hour, read-write.
    const plain = await session();
    expect(Date.parse(plain.expiresAt) - Date.now()).toBeGreaterThan(3590_000);
    expect(plain.readOnly).toBe(false);
  });

  it.each([
    [{ expiresInSeconds: 59 }, 'expiresInSeconds'],
    [{ expiresInSeconds: 86_401 }, 'expiresInSeconds'],
    [{ expiresInSeconds: 90.5 }, 'expiresInSeconds'],
    [{ readOnly: 'yes' }, 'readOnly'],
    [{ scope: 'all' }, '(an unknown field)'],
  ])('refuses %j with 400 naming %s, and stores nothing', async (body, path) => {
    const count = (await sessionRows()).length;
    const res = await app.call('POST', '/v1/portal/sessions', { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    if (!path.startsWith('(')) {
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect((await sessionRows()).length).toBe(count);
  });

  it('takes tenant keys only: an operator key and no key answer 401, a portal token 403', async () => {
    expect((await callApi(app.url, 'POST', '/v1/portal/sessions', { key: OPERATOR, body: {} })).status).toBe(
      401,
    );
    expect((await app.call('POST', '/v1/portal/sessions', { key: null, body: {} })).status).toBe(401);
    const { token } = await session();
    const res = await withToken(token, 'POST', '/v1/portal/sessions', {});
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it("works on the tenant's subscriptions, events, event types (read) and usage, and answers 403 elsewhere", async () => {
    const { token, expiresAt } = await session();
    const created = await withToken(token, 'POST', '/v1/subscriptions', {
      url: TARGET,
      eventTypes: ['order.*'],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('hookline-portal-access')).toBe('read-write');
    expect(created.headers.get('hookline-portal-expires-at')).toBe(expiresAt);
    const id = created.body.id as string;
    // The same subscription through the tenant's own key: the session acts as the tenant.
    expect((await app.call('GET', `/v1/subscriptions/${id}`)).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', '/v1/subscriptions'],
      ['GET', `/v1/subscriptions/${id}/secret`],
      ['POST', `/v1/subscriptions/${id}/pause`],
      ['PATCH', `/v1/subscriptions/${id}`, { name: 'From the portal' }],
      ['GET', `/v1/subscriptions/${id}/deliveries`],
      ['GET', `/v1/subscriptions/${id}/dead-letters`],
      ['GET', '/v1/event-types'],
      ['GET', '/v1/usage'],
    ] as const) {
      const res = await withToken(token, method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 200]);
    }
    expect((await withToken(token, 'GET', '/v1/events/no-such-event')).status).toBe(404);
    for (const [method, path, body] of [
      ['POST', '/v1/event-types', { name: 'order.created' }],
      ['PATCH', '/v1/event-types/order.created', { description: 'x' }],
      ['DELETE', '/v1/event-types/order.created'],
      ['GET', '/v1/keys'],
      ['POST', '/v1/keys', { name: 'stolen' }],
      ['DELETE', '/v1/keys/key_0123456789abcdef0123456789abcdef'],
      ['GET', '/v1/tenants'],
      ['POST', '/v1/tenants', { id: 'evil' }],
      ['GET', '/v1/no-such-route'],
    ] as const) {
      const res = await withToken(token, method, path, body);
      expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 403, 'forbidden']);
    }
    // Nothing of the refused calls happened.
    expect((await app.call('GET', '/v1/event-types')).body.data).toEqual([]);
    expect((await app.call('GET', '/v1/keys')).body.data).toEqual([]);
  });

  it("sees only its own tenant's resources: another tenant's subscription answers 404", async () => {
    const other = await app.call('POST', '/v1/subscriptions', {
      as: 'globex',
      body: { url: `${TARGET}/globex`, eventTypes: ['*'] },
    });
    expect(other.status).toBe(201);
    const { token } = await session();
    expect((await withToken(token, 'GET', `/v1/subscriptions/${other.body.id}`)).status).toBe(404);
    expect((await withToken(token, 'DELETE', `/v1/subscriptions/${other.body.id}`)).status).toBe(404);
    const listed = await withToken(token, 'GET', '/v1/subscriptions?limit=100');
    expect(listed.body.data.map((s: { id: string }) => s.id)).not.toContain(other.body.id);
    expect((await app.call('GET', `/v1/subscriptions/${other.body.id}`, { as: 'globex' })).status).toBe(200);
  });

  it('a read-only session reads everything it may and gets 403 on every change, which changes nothing', async () => {
    const made = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${TARGET}/ro`, eventTypes: ['*'] },
    });
    const id = made.body.id as string;
    const { token, readOnly } = await session({ readOnly: true, expiresInSeconds: 60 });
    expect(readOnly).toBe(true);
    const list = await withToken(token, 'GET', '/v1/subscriptions');
    expect(list.status).toBe(200);
    expect(list.headers.get('hookline-portal-access')).toBe('read-only');
    expect((await withToken(token, 'GET', `/v1/subscriptions/${id}/queue`)).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/v1/subscriptions', { url: `${TARGET}/ro-2`, eventTypes: ['*'] }],
      ['PATCH', `/v1/subscriptions/${id}`, { name: 'changed' }],
      ['POST', `/v1/subscriptions/${id}/pause`],
      ['POST', `/v1/subscriptions/${id}/secret/rotate`],
      ['POST', `/v1/subscriptions/${id}/redeliver`, { eventIds: ['x'] }],
      ['DELETE', `/v1/subscriptions/${id}`],
      ['DELETE', `/v1/subscriptions?url=${encodeURIComponent(`${TARGET}/ro`)}`],
      ['POST', '/v1/events', { type: 'order.created', data: {} }],
    ] as const) {
      const res = await withToken(token, method, path, body);
      expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 403, 'forbidden']);
    }
    const after = await app.call('GET', `/v1/subscriptions/${id}`);
    expect(after.body).toMatchObject({ status: 'active', name: null, version: made.body.version });
    expect((await app.call('GET', '/v1/events/x')).status).toBe(404);
  });

  it('an expired session answers 401 saying so; retention removes it', async () => {
    const token = await storePortalSession(app.store, app.tenants.acme, { expiresAt: Date.now() - 1000 });
    const res = await withToken(token, 'GET', '/v1/subscriptions');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect(res.body.error.message).toContain('expired');
    const hash = createHash('sha256').update(token).digest('hex');
    expect((await sessionRows()).map((r) => r.token_hash)).toContain(hash);
    await app.store.retention.purge(Date.now());
    expect((await sessionRows()).map((r) => r.token_hash)).not.toContain(hash);
    // A token nobody made answers 401 too.
    expect((await withToken('hkp_nobody-made-this', 'GET', '/v1/subscriptions')).status).toBe(401);
  });

  it('stops working once the API key that made it, or its tenant, is deleted', async () => {
    const tenant = `portal-${Date.now() % 100000}`;
    const op = (method: string, path: string, body?: unknown) =>
      callApi(app.url, method, path, { key: OPERATOR, body });
    expect((await op('POST', '/v1/tenants', { id: tenant })).status).toBe(201);
    const first = await op('POST', `/v1/tenants/${tenant}/keys`, { name: 'first' });
    const second = await op('POST', `/v1/tenants/${tenant}/keys`, { name: 'second' });
    const sessionOf = async (key: string) => {
      const made = await callApi(app.url, 'POST', '/v1/portal/sessions', { key, body: {} });
      expect(made.status).toBe(201);
      expect((await withToken(made.body.token, 'GET', '/v1/usage')).status).toBe(200);
      return made.body.token as string;
    };
    const byFirst = await sessionOf(first.body.key);
    const bySecond = await sessionOf(second.body.key);
    expect((await op('DELETE', `/v1/tenants/${tenant}/keys/${first.body.id}`)).status).toBe(204);
    expect((await withToken(byFirst, 'GET', '/v1/usage')).status).toBe(401);
    expect((await withToken(bySecond, 'GET', '/v1/usage')).status).toBe(200);
    expect((await op('DELETE', `/v1/tenants/${tenant}`)).status).toBe(204);
    expect((await withToken(bySecond, 'GET', '/v1/usage')).status).toBe(401);
  });
});
