import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';

describe('the subscriptions API', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  beforeAll(async () => {
    app = await startTestApp();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  const create = (body: Record<string, unknown>, as: 'acme' | 'globex' = 'acme') =>
    app.call('POST', '/v1/subscriptions', { as, body: { eventTypes: ['order.*'], ...body } });
  let n = 0;
  const freshUrl = () => `${receiver.url}/${++n}`;

  it('creates a subscription: 201 with the subscription and its secret, which GET does not show', async () => {
    const url = freshUrl();
    const res = await create({
      url,
      name: 'Orders to ERP',
      description: 'orders',
      metadata: { team: 'payments' },
      maxBatchSize: 10,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      url,
      name: 'Orders to ERP',
      eventTypes: ['order.*'],
      format: 'raw',
      status: 'active',
      requireValidation: false,
      maxBatchSize: 10,
      headers: {},
      description: 'orders',
      metadata: { team: 'payments' },
      version: 1,
    });
    expect(res.body.id).toMatch(/^sub_/);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const got = await app.call('GET', `/v1/subscriptions/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(got.body).toMatchObject({ id: res.body.id, url });
    expect((await app.call('GET', `/v1/subscriptions/${res.body.id}/secret`)).body).toEqual({
      secret: res.body.secret,
    });
  });

  it('refuses a second registration of the same URL (after normalising) with 409 and the existing id', async () => {
    const url = freshUrl();
    const first = await create({ url });
    const again = await create({ url: url.replace('http://127.0.0.1', 'HTTP://127.0.0.1') });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    expect(again.body.error.details).toEqual([{ id: first.body.id }]);
  });

  it('of two concurrent registrations of one URL, exactly one gets 201', async () => {
    const url = freshUrl();
    const results = await Promise.all(Array.from({ length: 6 }, () => create({ url })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
  });

  it('lets another tenant register the same URL', async () => {
    const url = freshUrl();
    expect((await create({ url })).status).toBe(201);
    expect((await create({ url }, 'globex')).status).toBe(201);
  });

  it('lists with filters and cursor pagination', async () => {
    const a = await create({ url: freshUrl(), eventTypes: ['invoice.paid'] });
    const b = await create({ url: freshUrl(), eventTypes: ['invoice.*'] });
    await app.call('POST', `/v1/subscriptions/${b.body.id}/pause`);
    const byType = await app.call('GET', '/v1/subscriptions?eventType=invoice.paid&limit=100');
    expect(byType.status).toBe(200);
    expect(byType.body.data.map((s: { id: string }) => s.id).sort()).toEqual([a.body.id, b.body.id].sort());
    const paused = await app.call('GET', '/v1/subscriptions?status=paused');
    expect(paused.body.data.map((s: { id: string }) => s.id)).toContain(b.body.id);
    expect(paused.body.data.every((s: { status: string }) => s.status === 'paused')).toBe(true);
    const byUrl = await app.call('GET', `/v1/subscriptions?url=${encodeURIComponent(a.body.url)}`);
    expect(byUrl.body.data.map((s: { id: string }) => s.id)).toEqual([a.body.id]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await app.call(
        'GET',
        `/v1/subscriptions?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((s: { id: string }) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining([a.body.id, b.body.id]));
  });

  it('PATCH changes settings and bumps the version; a stale If-Match answers 412 and changes nothing', async () => {
    const sub = (await create({ url: freshUrl() })).body;
    const patched = await app.call('PATCH', `/v1/subscriptions/${sub.id}`, {
      body: { description: 'new', name: 'renamed', maxBatchSize: 5 },
      headers: { 'if-match': '1' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'new', name: 'renamed', maxBatchSize: 5, version: 2 });
    const stale = await app.call('PATCH', `/v1/subscriptions/${sub.id}`, {
      body: { description: 'lost update' },
      headers: { 'if-match': '1' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('precondition_failed');
    expect((await app.call('GET', `/v1/subscriptions/${sub.id}`)).body.description).toBe('new');
  });

  it('PATCH to a URL another subscription has answers 409', async () => {
    const a = (await create({ url: freshUrl() })).body;
    const b = (await create({ url: freshUrl() })).body;
    const res = await app.call('PATCH', `/v1/subscriptions/${b.id}`, { body: { url: a.url } });
    expect(res.status).toBe(409);
    expect(res.body.error.details).toEqual([{ id: a.id }]);
  });

  it('deletes by id and by URL: 204, then 404, and the URL is free again', async () => {
    const url = freshUrl();
    const sub = (await create({ url })).body;
    expect((await app.call('DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(204);
    expect((await app.call('GET', `/v1/subscriptions/${sub.id}`)).status).toBe(404);
    const again = await create({ url });
    expect(again.status).toBe(201);
    const byUrl = await app.call('DELETE', `/v1/subscriptions?url=${encodeURIComponent(url)}`);
    expect(byUrl.status).toBe(204);
    expect((await app.call('GET', `/v1/subscriptions/${again.body.id}`)).status).toBe(404);
    expect((await app.call('DELETE', `/v1/subscriptions?url=${encodeURIComponent(url)}`)).status).toBe(404);
  });

  it('rotates the secret: the answer and GET …/secret give the new one', async () => {
    const sub = (await create({ url: freshUrl() })).body;
    const rotated = await app.call('POST', `/v1/subscriptions/${sub.id}/secret/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(sub.secret);
    expect((await app.call('GET', `/v1/subscriptions/${sub.id}/secret`)).body.secret).toBe(
      rotated.body.secret,
    );
  });

  it('pauses and resumes', async () => {
    const sub = (await create({ url: freshUrl() })).body;
    const paused = await app.call('POST', `/v1/subscriptions/${sub.id}/pause`);
    expect(paused.body.status).toBe('paused');
    const resumed = await app.call('POST', `/v1/subscriptions/${sub.id}/resume`);
    expect(resumed.body.status).toBe('active');
  });

  it.each([
    ['a cloud metadata address', 'http://169.254.169.254/latest'],
    ['a private address', 'http://10.1.2.3/hooks'],
    ['an IPv6 loopback address', 'http://[::1]:8080/hooks'],
    ['a non-http scheme', 'ftp://example.com/x'],
    ['credentials in the URL', 'http://user:pw@127.0.0.1/x'],
  ])('refuses %s as a target with 400', async (_what, url) => {
    const res = await create({ url });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details[0].path).toBe('url');
  });

  it('refuses static headers that would override signature, content or origin headers', async () => {
    const res = await create({ url: freshUrl(), headers: { 'Webhook-Signature': 'v1,forged' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toMatch(/^headers/);
  });
});

describe('targets resolved at registration, without an allow-list', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ ALLOWED_TARGET_NETWORKS: '' });
  });
  afterAll(async () => {
    await app.stop();
  });

  it('refuses a name that resolves to 127.0.0.1', async () => {
    const res = await app.call('POST', '/v1/subscriptions', {
      body: { url: 'http://localhost:9/hooks', eventTypes: ['*'] },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ path: 'url' });
  });
});
