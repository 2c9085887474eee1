import { Webhook } from 'standardwebhooks';
import { startTestApp, type TestApp } from '../support/app';
import { TestReceiver } from '../support/receiver';

describe('the subscription name and the event format', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  beforeAll(async () => {
    app = await startTestApp();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });
  let n = 0;
  const freshUrl = () => `${receiver.url}/f${++n}`;
  const create = (body: Record<string, unknown>) =>
    app.call('POST', '/v1/subscriptions', { body: { url: freshUrl(), eventTypes: ['*'], ...body } });

  describe('name', () => {
    it('is kept on create, shown by GET and lists, changed and cleared by PATCH', async () => {
      const made = await create({ name: 'Orders to ERP' });
      expect(made.status).toBe(201);
      expect(made.body.name).toBe('Orders to ERP');
      expect((await app.call('GET', `/v1/subscriptions/${made.body.id}`)).body.name).toBe('Orders to ERP');
      const list = await app.call('GET', '/v1/subscriptions?limit=250');
      expect(list.body.data.find((s: { id: string }) => s.id === made.body.id).name).toBe('Orders to ERP');
      const renamed = await app.call('PATCH', `/v1/subscriptions/${made.body.id}`, { body: { name: 'ERP' } });
      expect(renamed.body).toMatchObject({ name: 'ERP', version: 2 });
      const cleared = await app.call('PATCH', `/v1/subscriptions/${made.body.id}`, { body: { name: null } });
      expect(cleared.body.name).toBeNull();
    });

    it('is null when not given, and at most 200 characters', async () => {
      expect((await create({})).body.name).toBeNull();
      expect((await create({ name: 'n'.repeat(200) })).status).toBe(201);
      const long = await create({ name: 'n'.repeat(201) });
      expect(long.status).toBe(400);
      expect(long.body.error.details).toEqual([{ path: 'name', message: expect.any(String) }]);
    });
  });

  describe('format event', () => {
    it('takes maxBatchSize 1, or none (then 1); any other is a 400 at maxBatchSize', async () => {
      expect((await create({ format: 'event', maxBatchSize: 1 })).body).toMatchObject({
        format: 'event',
        maxBatchSize: 1,
      });
      expect((await create({ format: 'event' })).body.maxBatchSize).toBe(1);
      const wide = await create({ format: 'event', maxBatchSize: 2 });
      expect(wide.status).toBe(400);
      expect(wide.body.error.details).toEqual([
        { path: 'maxBatchSize', message: expect.stringMatching(/1/) },
      ]);
      expect((await create({})).body.maxBatchSize).toBe(100);
    });

    it('PATCH keeps maxBatchSize 1 with format event', async () => {
      const raw = await create({ maxBatchSize: 10 });
      const refused = await app.call('PATCH', `/v1/subscriptions/${raw.body.id}`, {
        body: { format: 'event' },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details[0].path).toBe('maxBatchSize');
      expect((await app.call('GET', `/v1/subscriptions/${raw.body.id}`)).body.format).toBe('raw');
      const both = await app.call('PATCH', `/v1/subscriptions/${raw.body.id}`, {
        body: { format: 'event', maxBatchSize: 1 },
      });
      expect(both.body).toMatchObject({ format: 'event', maxBatchSize: 1 });
      const widen = await app.call('PATCH', `/v1/subscriptions/${raw.body.id}`, {
        body: { maxBatchSize: 5 },
      });
      expect(widen.status).toBe(400);
      expect(
        (
          await app.call('PATCH', `/v1/subscriptions/${raw.body.id}`, {
            body: { format: 'raw', maxBatchSize: 5 },
          })
        ).status,
      ).toBe(200);
    });

    it('delivers one event per POST, the body being the event object itself, signed', async () => {
      const made = await create({ format: 'event', eventTypes: ['shipment.*'] });
      const path = new URL(made.body.url).pathname;
      const published = await app.call('POST', '/v1/events', {
        body: {
          events: [
            { id: 'ship-1', type: 'shipment.sent', source: 'wms', subject: 'orders/1', data: { n: 1 } },
            { id: 'ship-2', type: 'shipment.sent', data: { n: 2 } },
            { id: 'ship-3', type: 'shipment.sent', category: 'c', labels: { pool: 'p' }, data: { n: 3 } },
          ],
        },
      });
      expect(published.status).toBe(202);
      const at = () => receiver.requests.filter((r) => r.path === path);
      await receiver.waitFor(() => at().length >= 3);
      const bodies = at().map((r) => JSON.parse(r.body));
      expect(bodies.map((b) => b.id)).toEqual(['ship-1', 'ship-2', 'ship-3']);
      expect(bodies[0]).toEqual({
        id: 'ship-1',
        type: 'shipment.sent',
        source: 'wms',
        subject: 'orders/1',
        category: null,
        labels: {},
        time: expect.any(String),
        data: { n: 1 },
      });
      expect(Object.keys(bodies[2])).toEqual([
        'id',
        'type',
        'source',
        'subject',
        'category',
        'labels',
        'time',
        'data',
      ]);
      const webhookIds = new Set(at().map((r) => r.headers['webhook-id']));
      expect(webhookIds.size).toBe(3);
      const wh = new Webhook(made.body.secret);
      for (const r of at()) {
        expect(r.headers['content-type']).toMatch(/^application\/json/);
        expect(() => wh.verify(r.body, r.headers as Record<string, string>)).not.toThrow();
      }
    });
  });
});
