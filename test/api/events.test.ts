import { Webhook } from 'standardwebhooks';
import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';

const bodyIds = (body: string) => (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id);

describe('publishing events', () => {
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
  beforeEach(() => receiver.requests.splice(0));

  let n = 0;
  async function subscribe(body: Record<string, unknown>) {
    const url = `${receiver.url}/${++n}`;
    const res = await app.call('POST', '/v1/subscriptions', { body: { url, ...body } });
    expect(res.status).toBe(201);
    return { ...(res.body as { id: string; secret: string }), path: `/hooks/${n}` };
  }
  const at = (path: string) => receiver.requests.filter((r) => r.path === path);

  it('accepts one event with 202 once queued, and delivers it signed', async () => {
    const sub = await subscribe({ eventTypes: ['order.created'] });
    const res = await app.call('POST', '/v1/events', {
      body: {
        id: 'order-42-created',
        type: 'order.created',
        source: 'shop',
        subject: 'orders/42',
        data: { total: 42 },
      },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      events: [{ id: 'order-42-created', duplicate: false, subscriptions: [sub.id] }],
    });
    await receiver.waitFor(() => at(sub.path).length >= 1);
    const [delivery] = at(sub.path);
    const verified = new Webhook(sub.secret).verify(
      delivery!.body,
      delivery!.headers as Record<string, string>,
    );
    expect(verified).toMatchObject({
      subscriptionId: sub.id,
      events: [
        {
          id: 'order-42-created',
          type: 'order.created',
          source: 'shop',
          subject: 'orders/42',
          data: { total: 42 },
        },
      ],
    });
  });

  it('publishes a batch of 100 in order, and refuses 101', async () => {
    const sub = await subscribe({ eventTypes: ['batch.*'] });
    const events = Array.from({ length: 100 }, (_, i) => ({ id: `b-${i}`, type: 'batch.item', data: { i } }));
    const res = await app.call('POST', '/v1/events', { body: { events } });
    expect(res.status).toBe(202);
    expect(res.body.events.map((e: { id: string }) => e.id)).toEqual(events.map((e) => e.id));
    await receiver.waitFor(() => at(sub.path).flatMap((r) => bodyIds(r.body)).length >= 100);
    expect(at(sub.path).flatMap((r) => bodyIds(r.body))).toEqual(events.map((e) => e.id));
    const tooMany = await app.call('POST', '/v1/events', {
      body: { events: [...events, { type: 'batch.x', data: 1 }] },
    });
    expect(tooMany.status).toBe(400);
  });

  it('routes by type (exact, prefix.*, *), subject prefix, category and labels', async () => {
    const exact = await subscribe({ eventTypes: ['route.created'] });
    const prefix = await subscribe({ eventTypes: ['route.*'] });
    const all = await subscribe({ eventTypes: ['*'], labels: { lane: 'r' } });
    const subject = await subscribe({ eventTypes: ['route.*'], subject: 'catalogs/' });
    const category = await subscribe({ eventTypes: ['route.*'], categories: ['stream'] });
    const res = await app.call('POST', '/v1/events', {
      body: {
        events: [
          {
            id: 'r1',
            type: 'route.created',
            subject: 'catalogs/1',
            category: 'stream',
            labels: { lane: 'r' },
            data: 1,
          },
          { id: 'r2', type: 'route.deleted', subject: 'orders/1', category: 'input', data: 2 },
          { id: 'r3', type: 'other.thing', labels: { lane: 'r' }, data: 3 },
        ],
      },
    });
    expect(res.status).toBe(202);
    const routed = Object.fromEntries(
      res.body.events.map((e: { id: string; subscriptions: string[] }) => [e.id, e.subscriptions.sort()]),
    );
    expect(routed.r1).toEqual([exact.id, prefix.id, all.id, subject.id, category.id].sort());
    expect(routed.r2).toEqual([prefix.id]);
    expect(routed.r3).toEqual([all.id]);
  });

  it('is idempotent by event id: a repeat answers duplicate and is delivered once', async () => {
    const sub = await subscribe({ eventTypes: ['idem.*'] });
    const event = { id: 'idem-1', type: 'idem.x', data: {} };
    expect((await app.call('POST', '/v1/events', { body: event })).body.events[0].duplicate).toBe(false);
    const again = await app.call('POST', '/v1/events', { body: event });
    expect(again.status).toBe(202);
    expect(again.body.events[0].duplicate).toBe(true);
    await receiver.waitFor(() => at(sub.path).length >= 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(at(sub.path).flatMap((r) => bodyIds(r.body))).toEqual(['idem-1']);
  });

  it('GET /v1/events/{id} shows the event and its status per subscription', async () => {
    const sub = await subscribe({ eventTypes: ['get.*'] });
    await app.call('POST', '/v1/events', {
      body: { id: 'get-1', type: 'get.x', category: 'c', data: { a: 1 } },
    });
    await receiver.waitFor(() => at(sub.path).length >= 1);
    let got: any;
    for (let i = 0; i < 20; i++) {
      got = await app.call('GET', '/v1/events/get-1');
      if (got.body?.subscriptions?.[0]?.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: 'get-1',
      type: 'get.x',
      category: 'c',
      data: { a: 1 },
      subscriptions: [{ id: sub.id, status: 'delivered' }],
    });
    expect((await app.call('GET', '/v1/events/get-1', { as: 'globex' })).status).toBe(404);
  });

  it('records generated ids per publish: EventGet finds each, and a repeat of one is a duplicate', async () => {
    const sub = await subscribe({ eventTypes: ['gen.*'] });
    const res = await app.call('POST', '/v1/events', {
      body: { events: [0, 1, 2].map((i) => ({ type: 'gen.x', data: { i } })) },
    });
    expect(res.status).toBe(202);
    const ids = (res.body.events as { id: string }[]).map((e) => e.id);
    expect(new Set(ids).size).toBe(3);
    await receiver.waitFor(() => at(sub.path).flatMap((r) => bodyIds(r.body)).length >= 3);
    for (const [i, id] of ids.entries()) {
      const got = await app.call('GET', `/v1/events/${id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id, type: 'gen.x', data: { i }, subscriptions: [{ id: sub.id }] });
      expect((await app.call('GET', `/v1/events/${id}`, { as: 'globex' })).status).toBe(404);
    }
    // A producer sending a generated id back publishes nothing new.
    const again = await app.call('POST', '/v1/events', { body: { id: ids[1], type: 'gen.x', data: {} } });
    expect(again.body.events[0]).toEqual({ id: ids[1], duplicate: true, subscriptions: [] });
    // An id of the generated shape that Hookline never generated is an ordinary producer id.
    const unknown = `evt_${'0'.repeat(24)}_00`;
    expect((await app.call('GET', `/v1/events/${unknown}`)).status).toBe(404);
    const fresh = await app.call('POST', '/v1/events', { body: { id: unknown, type: 'gen.x', data: {} } });
    expect(fresh.body.events[0]).toMatchObject({ id: unknown, duplicate: false, subscriptions: [sub.id] });
    expect((await app.call('GET', `/v1/events/${unknown}`)).status).toBe(200);
  });

  it('queues a repeated id within one request once, and answers the later copy as a duplicate', async () => {
    const sub = await subscribe({ eventTypes: ['twice.*'] });
    const res = await app.call('POST', '/v1/events', {
      body: {
        events: [
          { id: 'twice-1', type: 'twice.x', data: { copy: 1 } },
          { id: 'twice-2', type: 'twice.x', data: {} },
          { id: 'twice-1', type: 'twice.x', data: { copy: 2 } },
        ],
      },
    });
    expect(res.body.events.map((e: { duplicate: boolean }) => e.duplicate)).toEqual([false, false, true]);
    await receiver.waitFor(() => at(sub.path).flatMap((r) => bodyIds(r.body)).length >= 2);
    await new Promise((r) => setTimeout(r, 1000));
    expect(at(sub.path).flatMap((r) => bodyIds(r.body))).toEqual(['twice-1', 'twice-2']);
    expect((await app.call('GET', '/v1/events/twice-1')).body.data).toEqual({ copy: 1 });
  });

  it('shows queue, deliveries, entry status and dead letters of a subscription', async () => {
    const sub = await subscribe({ eventTypes: ['q.*'] });
    await app.call('POST', '/v1/events', { body: { id: 'q-1', type: 'q.x', data: {} } });
    await receiver.waitFor(() => at(sub.path).length >= 1);
    let entry: any;
    for (let i = 0; i < 20; i++) {
      entry = await app.call('GET', `/v1/subscriptions/${sub.id}/events/q-1`);
      if (entry.body.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(entry.body).toMatchObject({
      eventId: 'q-1',
      subscriptionId: sub.id,
      status: 'delivered',
      attempts: 1,
      lastStatusCode: 200,
    });
    const deliveries = await app.call('GET', `/v1/subscriptions/${sub.id}/deliveries?limit=5`);
    expect(deliveries.body.data[0]).toMatchObject({
      eventIds: ['q-1'],
      attempt: 1,
      statusCode: 200,
      error: null,
    });
    expect(deliveries.body.data[0].msgId).toMatch(/^msg_/);
    expect((await app.call('GET', `/v1/subscriptions/${sub.id}/queue`)).body).toEqual({ data: [], size: 0 });
    expect((await app.call('GET', `/v1/subscriptions/${sub.id}/dead-letters`)).body).toEqual({ data: [] });
    const redeliver = await app.call('POST', `/v1/subscriptions/${sub.id}/redeliver`, {
      body: { eventIds: ['q-1'] },
    });
    expect(redeliver.status).toBe(202);
    await receiver.waitFor(() => at(sub.path).length >= 2);
    expect(bodyIds(at(sub.path)[1]!.body)).toEqual(['q-1']);
  });

  it('Temporal-native producers publish by signalling hookline-ingress-<tenant>', async () => {
    const sub = await subscribe({ eventTypes: ['native.*'] });
    await app.client.workflow.getHandle(`hookline-ingress-${app.tenants.acme}`).signal('publish', {
      events: [
        { id: 'n-1', type: 'native.created', data: { via: 'signal' } },
        { id: 'n-2', type: 'native.created', data: { via: 'signal' } },
      ],
    });
    await receiver.waitFor(() => at(sub.path).flatMap((r) => bodyIds(r.body)).length >= 2);
    expect(at(sub.path).flatMap((r) => bodyIds(r.body))).toEqual(['n-1', 'n-2']);
    // The ingress records events right after queueing them, so the record may trail the delivery.
    let record: any;
    for (let i = 0; i < 20; i++) {
      record = await app.call('GET', '/v1/events/n-1');
      if (record.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ id: 'n-1', type: 'native.created', subscriptions: [{ id: sub.id }] });
  });

  it('gives ingress events sent without an id one each, readable by EventGet', async () => {
    const sub = await subscribe({ eventTypes: ['anon.*'] });
    await app.client.workflow.getHandle(`hookline-ingress-${app.tenants.acme}`).signal('publish', {
      events: [
        { type: 'anon.x', data: { n: 1 } },
        { type: 'anon.x', data: { n: 2 } },
      ],
    });
    await receiver.waitFor(() => at(sub.path).flatMap((r) => bodyIds(r.body)).length >= 2);
    const ids = at(sub.path).flatMap((r) => bodyIds(r.body));
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    let record: any;
    for (let i = 0; i < 20; i++) {
      record = await app.call('GET', `/v1/events/${ids[1]}`);
      if (record.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(record.body).toMatchObject({ id: ids[1], data: { n: 2 }, subscriptions: [{ id: sub.id }] });
  });

  it('reports an ingress signal that is not a list of events, and queues nothing', async () => {
    const handle = app.client.workflow.getHandle(`hookline-ingress-${app.tenants.acme}`);
    await handle.signal('publish', { events: [{ type: 'no.data' }] });
    let rejected: any[] = [];
    for (let i = 0; i < 30 && rejected.length === 0; i++) {
      rejected = await handle.query('rejectedPublishes');
      if (rejected.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(rejected[0]).toMatchObject({ reason: expect.stringMatching(/^events\.0\.data/), events: 1 });
  });
});

describe('a full backlog', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  beforeAll(async () => {
    app = await startTestApp({ MAX_BACKLOG: '3' });
    receiver = await TestReceiver.start(() => ({ status: 500 }));
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  it('answers 503 with Retry-After; the same ids publish fine once there is room', async () => {
    const sub = (
      await app.call('POST', '/v1/subscriptions', { body: { url: receiver.url, eventTypes: ['*'] } })
    ).body;
    const first = await app.call('POST', '/v1/events', {
      body: { events: [1, 2, 3].map((i) => ({ id: `f-${i}`, type: 't', data: i })) },
    });
    expect(first.status).toBe(202);
    const refused = await app.call('POST', '/v1/events', { body: { id: 'f-4', type: 't', data: 4 } });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('backlog_full');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await app.call('GET', '/v1/events/f-4')).status).toBe(404);
    // Make room: the receiver recovers and the backlog drains.
    receiver.respond(() => ({ status: 200 }));
    await receiver.waitFor((r) => r.some((x) => x.body.includes('f-3')), 30_000);
    let retried: any;
    for (let i = 0; i < 20; i++) {
      retried = await app.call('POST', '/v1/events', { body: { id: 'f-4', type: 't', data: 4 } });
      if (retried.status === 202) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(retried.body.events[0]).toEqual({ id: 'f-4', duplicate: false, subscriptions: [sub.id] });
  });
});
