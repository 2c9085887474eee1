import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';

describe('tenant isolation', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  let id: string;
  beforeAll(async () => {
    app = await startTestApp();
    receiver = await TestReceiver.start();
    id = (await app.call('POST', '/v1/subscriptions', { body: { url: receiver.url, eventTypes: ['*'] } }))
      .body.id;
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it.each([
    ['GET', ''],
    ['PATCH', ''],
    ['DELETE', ''],
    ['GET', '/secret'],
    ['POST', '/secret/rotate'],
    ['POST', '/pause'],
    ['POST', '/resume'],
    ['GET', '/queue'],
    ['GET', '/deliveries'],
    ['GET', '/events/anything'],
    ['GET', '/dead-letters'],
    ['POST', '/redeliver'],
  ])('%s /v1/subscriptions/{id}%s with another tenant’s key answers 404', async (method, suffix) => {
    const body =
      method === 'PATCH'
        ? { description: 'x' }
        : method === 'POST' && suffix === '/redeliver'
          ? { eventIds: ['a'] }
          : undefined;
    const res = await app.call(method, `/v1/subscriptions/${id}${suffix}`, { as: 'globex', body });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('another tenant does not see the subscription in lists or by URL, and cannot delete it by URL', async () => {
    const list = await app.call('GET', '/v1/subscriptions', { as: 'globex' });
    expect(list.body.data.map((s: { id: string }) => s.id)).not.toContain(id);
    expect(
      (
        await app.call('DELETE', `/v1/subscriptions?url=${encodeURIComponent(receiver.url)}`, {
          as: 'globex',
        })
      ).status,
    ).toBe(404);
    expect((await app.call('GET', `/v1/subscriptions/${id}`)).status).toBe(200);
  });

  it.each([
    ['PATCH with If-Match', 'PATCH', '', { description: 'x' }, { 'if-match': '1' }],
    ['redeliver since', 'POST', '/redeliver', { since: '2020-01-01T00:00:00Z' }, {}],
  ])('%s with another tenant’s key answers 404', async (_name, method, suffix, body, headers) => {
    const res = await app.call(method, `/v1/subscriptions/${id}${suffix}`, { as: 'globex', body, headers });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('another tenant cannot read an event, and its own event of the same id is its own', async () => {
    const published = await app.call('POST', '/v1/events', {
      body: { id: 'iso-shared-id', type: 'x', data: { tenant: 'acme' } },
    });
    expect(published.status).toBe(202);
    expect(published.body.events[0].subscriptions).toEqual([id]);
    expect((await app.call('GET', `/v1/subscriptions/${id}/events/iso-shared-id`)).status).toBe(200);

    const read = await app.call('GET', '/v1/events/iso-shared-id', { as: 'globex' });
    expect(read.status).toBe(404);
    expect(read.body.error.code).toBe('not_found');
    const queued = await app.call('GET', `/v1/subscriptions/${id}/events/iso-shared-id`, { as: 'globex' });
    expect(queued.status).toBe(404);

    const theirs = await app.call('POST', '/v1/events', {
      as: 'globex',
      body: { id: 'iso-shared-id', type: 'x', data: { tenant: 'globex' } },
    });
    expect(theirs.status).toBe(202);
    expect(theirs.body.events[0]).toMatchObject({ duplicate: false, subscriptions: [] });
    expect((await app.call('GET', '/v1/events/iso-shared-id', { as: 'globex' })).body.data).toEqual({
      tenant: 'globex',
    });
    expect((await app.call('GET', '/v1/events/iso-shared-id')).body.data).toEqual({ tenant: 'acme' });
  });

  it('another tenant’s events are not routed to it', async () => {
    const res = await app.call('POST', '/v1/events', {
      as: 'globex',
      body: { id: 'g-1', type: 'x', data: {} },
    });
    expect(res.status).toBe(202);
    expect(res.body.events[0].subscriptions).toEqual([]);
  });

  it('another tenant neither finds it by URL nor conflicts with it: the same URL registers anew', async () => {
    const byUrl = await app.call('GET', `/v1/subscriptions?url=${encodeURIComponent(receiver.url)}`, {
      as: 'globex',
    });
    expect(byUrl.status).toBe(200);
    expect(byUrl.body.data).toEqual([]);
    const again = await app.call('POST', '/v1/subscriptions', {
      as: 'globex',
      body: { url: receiver.url, eventTypes: ['*'] },
    });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(id);
    expect(JSON.stringify(again.body)).not.toContain(id);
    expect((await app.call('DELETE', `/v1/subscriptions/${again.body.id}`, { as: 'globex' })).status).toBe(
      204,
    );
    expect((await app.call('GET', `/v1/subscriptions/${id}`)).status).toBe(200);
  });
});
