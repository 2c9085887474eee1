import { startTestApp, type TestApp } from '../support/app';
import { startSecondApi, type SecondApi } from '../support/second-api';

const ORDER_SCHEMA = {
  type: 'object',
  properties: { total: { type: 'number', minimum: 0 }, currency: { type: 'string' } },
  required: ['total'],
};

describe('the event-type catalog', () => {
  let app: TestApp;
  let second: SecondApi;
  beforeAll(async () => {
    app = await startTestApp();
    second = await startSecondApi(app);
  });
  afterAll(async () => {
    await second?.stop();
    await app?.stop();
  });

  const call = (method: string, path: string, body?: unknown, as: 'acme' | 'globex' = 'acme') =>
    app.call(method, path, { as, body });
  let n = 0;
  const freshName = () => `order.v${++n}`;

  describe('CRUD', () => {
    it('creates an event type: 201 with name, description, schema, archived and times; GET answers it', async () => {
      const name = freshName();
      const res = await call('POST', '/v1/event-types', {
        name,
        description: 'An order',
        schema: ORDER_SCHEMA,
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        name,
        description: 'An order',
        schema: ORDER_SCHEMA,
        archived: false,
        createdAt: expect.stringMatching(/Z$/),
        updatedAt: expect.stringMatching(/Z$/),
      });
      expect((await call('GET', `/v1/event-types/${name}`)).body).toEqual(res.body);
    });

    it('takes a type without a schema (null) and without a description', async () => {
      const res = await call('POST', '/v1/event-types', { name: freshName() });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ description: null, schema: null, archived: false });
    });

    it('answers 409 for a taken name', async () => {
      const name = freshName();
      expect((await call('POST', '/v1/event-types', { name })).status).toBe(201);
      const again = await call('POST', '/v1/event-types', { name, description: 'again' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('conflict');
    });

    it.each([
      ['an unknown type', { type: 'nope' }],
      ['a non-number minimum', { type: 'number', minimum: 'zero' }],
      ['a number', 42],
      ['a string', 'object'],
      ['a $ref to a remote schema (never fetched)', { $ref: 'https://schemas.example.com/order.json' }],
      ['a $ref to nowhere inside it', { $ref: '#/$defs/missing' }],
      ['required that is not an array', { type: 'object', required: 'total' }],
    ])('refuses a schema with %s: 400 at schema…, nothing made', async (_what, schema) => {
      const name = freshName();
      const res = await call('POST', '/v1/event-types', { name, schema });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.length).toBeGreaterThan(0);
      for (const d of res.body.error.details) expect(d.path).toMatch(/^schema/);
      expect((await call('GET', `/v1/event-types/${name}`)).status).toBe(404);
    });

    it.each([
      ['no name', { description: 'x' }],
      ['a name with a space', { name: 'order created' }],
      ['an unknown field', { name: 'ok.type', version: 2 }],
    ])('refuses a body with %s: 400', async (_what, body) => {
      expect((await call('POST', '/v1/event-types', body)).status).toBe(400);
    });

    it('changes description, schema and archived with PATCH; an invalid schema there is a 400 and changes nothing', async () => {
      const name = freshName();
      await call('POST', '/v1/event-types', { name, schema: ORDER_SCHEMA });
      const res = await call('PATCH', `/v1/event-types/${name}`, { description: 'Orders', archived: true });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name, description: 'Orders', archived: true, schema: ORDER_SCHEMA });
      const bad = await call('PATCH', `/v1/event-types/${name}`, { schema: { type: 'nope' } });
      expect(bad.status).toBe(400);
      expect((await call('GET', `/v1/event-types/${name}`)).body.schema).toEqual(ORDER_SCHEMA);
      const cleared = await call('PATCH', `/v1/event-types/${name}`, { schema: null });
      expect(cleared.body.schema).toBeNull();
      expect((await call('PATCH', `/v1/event-types/${name}`, {})).status).toBe(400);
      expect((await call('PATCH', `/v1/event-types/${name}`, { name: 'other' })).status).toBe(400);
      expect((await call('PATCH', '/v1/event-types/no.such.type', { description: 'x' })).status).toBe(404);
    });

    it('lists event types by name, archived ones only with includeArchived=true', async () => {
      const live = freshName();
      const archived = freshName();
      await call('POST', '/v1/event-types', { name: live });
      await call('POST', '/v1/event-types', { name: archived });
      await call('PATCH', `/v1/event-types/${archived}`, { archived: true });
      const names = async (query: string) =>
        (await call('GET', `/v1/event-types${query}`)).body.data.map((t: { name: string }) => t.name);
      expect(await names('')).toContain(live);
      expect(await names('')).not.toContain(archived);
      expect(await names('?includeArchived=false')).not.toContain(archived);
      expect(await names('?includeArchived=true')).toEqual(expect.arrayContaining([live, archived]));
      const all = await names('?includeArchived=true');
      expect(all).toEqual([...all].sort());
      expect((await call('GET', '/v1/event-types?includeArchived=maybe')).status).toBe(400);
    });

    it('deletes an event type: 204, then 404', async () => {
      const name = freshName();
      await call('POST', '/v1/event-types', { name });
      expect((await call('DELETE', `/v1/event-types/${name}`)).status).toBe(204);
      expect((await call('GET', `/v1/event-types/${name}`)).status).toBe(404);
      expect((await call('DELETE', `/v1/event-types/${name}`)).status).toBe(404);
    });

    it("another tenant neither sees nor changes a tenant's event types, and may use the same name", async () => {
      const name = freshName();
      await call('POST', '/v1/event-types', { name, schema: ORDER_SCHEMA });
      expect((await call('GET', `/v1/event-types/${name}`, undefined, 'globex')).status).toBe(404);
      expect((await call('PATCH', `/v1/event-types/${name}`, { archived: true }, 'globex')).status).toBe(404);
      expect((await call('DELETE', `/v1/event-types/${name}`, undefined, 'globex')).status).toBe(404);
      const theirs = await call('GET', '/v1/event-types?includeArchived=true', undefined, 'globex');
      expect(theirs.body.data.map((t: { name: string }) => t.name)).not.toContain(name);
      expect((await call('POST', '/v1/event-types', { name }, 'globex')).status).toBe(201);
      // acme's schema does not apply to globex's events of that type.
      const published = await call('POST', '/v1/events', { type: name, data: { total: 'lots' } }, 'globex');
      expect(published.status).toBe(202);
      expect((await call('GET', `/v1/event-types/${name}`)).body).toMatchObject({
        schema: ORDER_SCHEMA,
        archived: false,
      });
    });
  });

  describe('publishing against a schema', () => {
    it('refuses data that does not match: 400 validation_failed with paths under data, nothing stored', async () => {
      const name = freshName();
      await call('POST', '/v1/event-types', { name, schema: ORDER_SCHEMA });
      const usage = (await call('GET', '/v1/usage')).body.events;

      const wrongType = await call('POST', '/v1/events', { id: 'bad-1', type: name, data: { total: 'ten' } });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.error.code).toBe('validation_failed');
      expect(wrongType.body.error.details).toEqual([{ path: 'data.total', message: expect.any(String) }]);

      const missing = await call('POST', '/v1/events', {
        id: 'bad-2',
        type: name,
        data: { currency: 'EUR' },
      });
      expect(missing.status).toBe(400);
      expect(missing.body.error.details).toEqual([{ path: 'data.total', message: expect.any(String) }]);

      const notObject = await call('POST', '/v1/events', { id: 'bad-3', type: name, data: [1] });
      expect(notObject.status).toBe(400);
      expect(notObject.body.error.details).toEqual([{ path: 'data', message: expect.any(String) }]);

      // In a batch, the path names the event; the valid event of that batch is not stored either.
      const batch = await call('POST', '/v1/events', {
        events: [
          { id: 'ok-in-bad-batch', type: name, data: { total: 1 } },
          { id: 'bad-4', type: name, data: { total: -1 } },
        ],
      });
      expect(batch.status).toBe(400);
      expect(batch.body.error.details).toEqual([
        { path: 'events.1.data.total', message: expect.any(String) },
      ]);

      for (const id of ['bad-1', 'bad-2', 'bad-3', 'bad-4', 'ok-in-bad-batch'])
        expect((await call('GET', `/v1/events/${id}`)).status).toBe(404);
      expect((await call('GET', '/v1/usage')).body.events).toBe(usage);

      const good = await call('POST', '/v1/events', {
        id: 'good-1',
        type: name,
        data: { total: 10, currency: 'EUR' },
      });
      expect(good.status).toBe(202);
      expect((await call('GET', '/v1/events/good-1')).body.data).toEqual({ total: 10, currency: 'EUR' });
    });

    it('types without a catalog entry, or without a schema, publish as before', async () => {
      expect((await call('POST', '/v1/events', { type: 'not.in.catalog', data: 'anything' })).status).toBe(
        202,
      );
      const name = freshName();
      await call('POST', '/v1/event-types', { name });
      expect((await call('POST', '/v1/events', { type: name, data: [1, 'two'] })).status).toBe(202);
    });

    it('a changed or deleted schema applies to the next publish, on every API process', async () => {
      const name = freshName();
      await call('POST', '/v1/event-types', { name, schema: ORDER_SCHEMA });
      const publishOnSecond = (data: unknown) =>
        second.call('POST', '/v1/events', { key: 'acme-key-0123456789abcdef', body: { type: name, data } });
      // The second process compiles the schema once it sees it…
      expect((await publishOnSecond({ total: 'x' })).status).toBe(400);
      expect((await publishOnSecond({ total: 1 })).status).toBe(202);
      // …and a change made through the first one holds there at once.
      await call('PATCH', `/v1/event-types/${name}`, {
        schema: { type: 'object', properties: { total: { type: 'string' } }, required: ['total'] },
      });
      expect((await publishOnSecond({ total: 1 })).status).toBe(400);
      expect((await publishOnSecond({ total: 'x' })).status).toBe(202);
      await call('DELETE', `/v1/event-types/${name}`);
      expect((await publishOnSecond({ anything: true })).status).toBe(202);
    });

    it('an archived type keeps validating its events', async () => {
      const name = freshName();
      await call('POST', '/v1/event-types', { name, schema: ORDER_SCHEMA });
      await call('PATCH', `/v1/event-types/${name}`, { archived: true });
      expect((await call('POST', '/v1/events', { type: name, data: {} })).status).toBe(400);
    });

    it('validates the publish signal of the ingress workflow too: a mismatch is refused whole and reported', async () => {
      const name = freshName();
      await call('POST', '/v1/event-types', { name, schema: ORDER_SCHEMA });
      const handle = app.client.workflow.getHandle(`hookline-ingress-${app.tenants.acme}`);
      await handle.signal('publish', {
        events: [
          { id: 'sig-ok', type: name, data: { total: 1 } },
          { id: 'sig-bad', type: name, data: {} },
        ],
      });
      let rejected: { reason: string }[] = [];
      for (let i = 0; i < 50 && !rejected.some((r) => r.reason.includes('events.1.data.total')); i++) {
        rejected = await handle.query('rejectedPublishes');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(rejected).toContainEqual(
        expect.objectContaining({ reason: expect.stringMatching(/^events\.1\.data\.total: /) }),
      );
      for (const id of ['sig-ok', 'sig-bad'])
        expect((await call('GET', `/v1/events/${id}`)).status).toBe(404);
    });
  });
});
