import { startTestApp, type TestApp } from '../support/app';
import { TestReceiver } from '../support/receiver';
import { startSecondApi, type SecondApi } from '../support/second-api';

const OPERATOR = 'operator-key-0123456789abcdef';

/** `YYYY-MM` and the next month's first instant, UTC, as of `at`. */
function monthOf(at: number): { period: string; resetsAt: string } {
  const d = new Date(at);
  return {
    period: d.toISOString().slice(0, 7),
    resetsAt: new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1))
      .toISOString()
      .replace('.000Z', 'Z'),
  };
}

describe('usage and quotas', () => {
  let app: TestApp;
  let second: SecondApi;
  let receiver: TestReceiver;
  beforeAll(async () => {
    app = await startTestApp({ ADMIN_API_KEYS: OPERATOR, DEFAULT_EVENTS_PER_MONTH: '3' });
    second = await startSecondApi(app);
    // A receiver that never answers 2xx keeps every event queued (deliveries do not change counts).
    receiver = await TestReceiver.start(() => ({ status: 503 }));
  });
  afterAll(async () => {
    await second?.stop();
    await app?.stop();
    await receiver?.close();
  });

  let n = 0;
  /** A tenant (made by the operator) with a key and `fanOut` subscriptions taking every event. */
  async function tenantWith(body: Record<string, unknown>, fanOut = 2) {
    const id = `q${++n}`;
    expect((await app.call('POST', '/v1/tenants', { key: OPERATOR, body: { id, ...body } })).status).toBe(
      201,
    );
    const made = await app.call('POST', `/v1/tenants/${id}/keys`, { key: OPERATOR, body: { name: 'test' } });
    const key = made.body.key as string;
    const subs: string[] = [];
    for (let i = 0; i < fanOut; i++) {
      const sub = await app.call('POST', '/v1/subscriptions', {
        key,
        body: { url: `${receiver.url}/${id}/${i}`, eventTypes: ['*'] },
      });
      expect(sub.status).toBe(201);
      subs.push(sub.body.id);
    }
    const call = (method: string, path: string, b?: unknown) => app.call(method, path, { key, body: b });
    return { id, key, subs, call };
  }
  const events = (...ids: string[]) => ({
    events: ids.map((id) => ({ id, type: 'order.created', data: { id } })),
  });

  it('GET /v1/usage answers the period, the events counted, the cap and when it resets', async () => {
    const t = await tenantWith({ eventsPerMonth: 10000 }, 0);
    const before = Date.now();
    const res = await t.call('GET', '/v1/usage');
    const after = Date.now();
    expect(res.status).toBe(200);
    expect([monthOf(before), monthOf(after)]).toContainEqual({
      period: res.body.period,
      resetsAt: res.body.resetsAt,
    });
    expect(res.body).toEqual({
      period: expect.stringMatching(/^\d{4}-\d{2}$/),
      events: 0,
      eventsPerMonth: 10000,
      resetsAt: expect.stringMatching(/^\d{4}-\d{2}-01T00:00:00Z$/),
    });
  });

  it('counts each accepted, non-duplicate event once, whatever its fan-out', async () => {
    const t = await tenantWith({ eventsPerMonth: 100 }, 3);
    expect((await t.call('POST', '/v1/events', events('a', 'b'))).status).toBe(202);
    expect((await t.call('GET', '/v1/usage')).body.events).toBe(2);
    // Duplicates (again, and twice within one request) count nothing more.
    const again = await t.call('POST', '/v1/events', events('a', 'c', 'c'));
    expect(again.status).toBe(202);
    expect(again.body.events.map((e: { duplicate: boolean }) => e.duplicate)).toEqual([true, false, true]);
    expect((await t.call('GET', '/v1/usage')).body.events).toBe(3);
    // A single event (not a batch) counts too, and one that matches no subscription.
    expect((await t.call('POST', '/v1/events', { type: 'nobody.listens', data: {} })).status).toBe(202);
    expect((await t.call('GET', '/v1/usage')).body.events).toBe(4);
  });

  it('refuses a publish that would exceed the cap, whole: 429 quota_exceeded, Retry-After to the next month, nothing stored', async () => {
    const t = await tenantWith({ eventsPerMonth: 5 }, 2);
    expect((await t.call('POST', '/v1/events', events('e1', 'e2'))).status).toBe(202);
    const queued = async () =>
      (await t.call('GET', `/v1/subscriptions/${t.subs[0]}/queue`)).body.size as number;
    const queuedBefore = await queued();

    const before = Date.now();
    const refused = await t.call('POST', '/v1/events', events('e3', 'e4', 'e5', 'e6'));
    const after = Date.now();
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('quota_exceeded');
    const retryAfter = Number(refused.headers.get('retry-after'));
    const untilNextMonth = (at: number) => (Date.parse(monthOf(at).resetsAt) - at) / 1000;
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(untilNextMonth(after)));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(untilNextMonth(before)) + 1);
    // Nothing of it was stored: no event, no queue entry, no count.
    for (const id of ['e3', 'e4', 'e5', 'e6'])
      expect((await t.call('GET', `/v1/events/${id}`)).status).toBe(404);
    expect(await queued()).toBe(queuedBefore);
    expect((await t.call('GET', '/v1/usage')).body.events).toBe(2);

    // Up to the cap is fine; then even one more is refused, but a duplicate is not (it counts nothing).
    expect((await t.call('POST', '/v1/events', events('e3', 'e4', 'e5'))).status).toBe(202);
    expect((await t.call('GET', '/v1/usage')).body.events).toBe(5);
    expect((await t.call('POST', '/v1/events', { id: 'e7', type: 't', data: {} })).status).toBe(429);
    const duplicate = await t.call('POST', '/v1/events', { id: 'e1', type: 't', data: {} });
    expect(duplicate.status).toBe(202);
    expect(duplicate.body.events[0].duplicate).toBe(true);
    expect((await t.call('GET', '/v1/usage')).body.events).toBe(5);
  });

  it('a raised cap takes effect at once; a cap of null is no cap', async () => {
    const t = await tenantWith({ eventsPerMonth: 1 }, 1);
    expect((await t.call('POST', '/v1/events', events('r1'))).status).toBe(202);
    expect((await t.call('POST', '/v1/events', events('r2'))).status).toBe(429);
    await app.call('PATCH', `/v1/tenants/${t.id}`, { key: OPERATOR, body: { eventsPerMonth: 2 } });
    expect((await t.call('POST', '/v1/events', events('r2'))).status).toBe(202);
    expect((await t.call('POST', '/v1/events', events('r3'))).status).toBe(429);
    await app.call('PATCH', `/v1/tenants/${t.id}`, { key: OPERATOR, body: { eventsPerMonth: null } });
    expect((await t.call('POST', '/v1/events', events('r3', 'r4', 'r5'))).status).toBe(202);
    expect((await t.call('GET', '/v1/usage')).body).toMatchObject({ events: 5, eventsPerMonth: null });
  });

  it('DEFAULT_EVENTS_PER_MONTH caps tenants that name none, the tenants of API_KEYS among them', async () => {
    const t = await tenantWith({}, 1);
    expect((await app.call('GET', `/v1/tenants/${t.id}`, { key: OPERATOR })).body.eventsPerMonth).toBe(3);
    expect((await t.call('GET', '/v1/usage')).body.eventsPerMonth).toBe(3);
    expect((await t.call('POST', '/v1/events', events('d1', 'd2', 'd3', 'd4'))).status).toBe(429);
    expect((await t.call('POST', '/v1/events', events('d1', 'd2', 'd3'))).status).toBe(202);

    const acme = await app.call('GET', '/v1/usage', { as: 'acme' });
    expect(acme.body).toMatchObject({ events: 0, eventsPerMonth: 3 });
    const uncapped = await tenantWith({ eventsPerMonth: null }, 0);
    expect((await uncapped.call('GET', '/v1/usage')).body.eventsPerMonth).toBeNull();
    expect((await uncapped.call('POST', '/v1/events', events('u1', 'u2', 'u3', 'u4'))).status).toBe(202);
  });

  it('refuses an ingress publish signal over the cap whole, and reports it instead of retrying', async () => {
    const t = await tenantWith({ eventsPerMonth: 1 }, 1);
    const handle = app.client.workflow.getHandle(`hookline-ingress-${t.id}`);
    // Its ingress workflow was started when the tenant was made (off the request's path).
    for (let started = false; !started;) {
      started = await handle.describe().then(
        () => true,
        () => false,
      );
      if (!started) await new Promise((r) => setTimeout(r, 100));
    }
    await handle.signal('publish', { events: events('i1', 'i2').events });
    let rejected: { reason: string }[] = [];
    for (let i = 0; i < 50 && rejected.length === 0; i++) {
      rejected = await handle.query('rejectedPublishes');
      if (rejected.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(rejected).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/quota/), events: 2 }),
    ]);
    for (const id of ['i1', 'i2']) expect((await t.call('GET', `/v1/events/${id}`)).status).toBe(404);
    expect((await t.call('GET', '/v1/usage')).body.events).toBe(0);
  });

  it("one tenant's events never count for another", async () => {
    const a = await tenantWith({ eventsPerMonth: 2 }, 1);
    const b = await tenantWith({ eventsPerMonth: 2 }, 1);
    expect((await a.call('POST', '/v1/events', events('x1', 'x2'))).status).toBe(202);
    expect((await b.call('GET', '/v1/usage')).body.events).toBe(0);
    // The same ids in another tenant are new events there, and count there.
    expect((await b.call('POST', '/v1/events', events('x1', 'x2'))).status).toBe(202);
    expect((await a.call('GET', '/v1/usage')).body.events).toBe(2);
    expect((await b.call('GET', '/v1/usage')).body.events).toBe(2);
  });

  // Without subscriptions no queue row is shared, so only the tenant row's lock keeps the count exact.
  it.each([0, 2])(
    'two API processes publishing at once never let the count pass the cap (fan-out %i)',
    async (fanOut) => {
      const cap = 25;
      const t = await tenantWith({ eventsPerMonth: cap }, fanOut);
      const attempts = 60;
      const answers = await Promise.all(
        Array.from({ length: attempts }, (_, i) => {
          const body = { id: `c${fanOut}-${i}`, type: 'order.created', data: { i } };
          return i % 2 === 0
            ? t.call('POST', '/v1/events', body)
            : second.call('POST', '/v1/events', { key: t.key, body });
        }),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s !== 202 && s !== 429)).toEqual([]);
      expect(statuses.filter((s) => s === 202)).toHaveLength(cap);
      expect((await t.call('GET', '/v1/usage')).body.events).toBe(cap);
      const stored = await app.store.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant', '=', t.id)
        .executeTakeFirstOrThrow();
      expect(Number(stored.n)).toBe(cap);
      // Each accepted event is queued to both subscriptions, each refused one to neither.
      for (const sub of t.subs)
        expect((await t.call('GET', `/v1/subscriptions/${sub}/queue`)).body.size).toBe(cap);
    },
  );
});
