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

  it('another tenant’s events are not routed to it', async () => {
    const res = await app.call('POST', '/v1/events', {
      as: 'globex',
      body: { id: 'g-1', type: 'x', data: {} },
    });
    expect(res.status).toBe(202);
    expect(res.body.events[0].subscriptions).toEqual([]);
  });
});
