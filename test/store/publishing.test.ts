import { randomUUID } from 'node:crypto';
import type { Subscription } from '../../src/domain/types';
import { BacklogFullError, UrlTakenError } from '../../src/store/errors';
import {
  DIALECTS,
  makeEvent,
  makeSubscription as subscription,
  openTestStore,
  TEST_SECRET,
  type TestStore,
} from '../support/store';

const event = makeEvent;

const LIMITS = { maxEvents: 1_000_000, maxBytes: 10 * 1024 ** 3 };

describe.each(DIALECTS)('publishing on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(dialect);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  async function create(sub: Subscription) {
    return store.subscriptions.create(sub, TEST_SECRET, null, 10_000);
  }
  const outcomes = (r: { results: unknown[] }, i = 0) => (r.results[i] as { outcomes: unknown[] }).outcomes;

  it('stores an event once and queues one entry per matching subscription, in order', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const a = await create(subscription(tenant, { eventTypes: ['order.*'] }));
    const b = await create(subscription(tenant, { eventTypes: ['order.created'] }));
    const c = await create(subscription(tenant, { eventTypes: ['invoice.*'] }));
    const now = Date.now();
    const r = await store.publish([{ tenant, events: [event('e1'), event('e2')] }], LIMITS, now);
    expect(outcomes(r)).toEqual([
      { id: 'e1', duplicate: false, subscriptions: [a.id, b.id].sort() },
      { id: 'e2', duplicate: false, subscriptions: [a.id, b.id].sort() },
    ]);
    const count = await store.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant', '=', tenant)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2);
    for (const sub of [a, b]) {
      const batch = await store.progress.batch(sub.id, 0, 100);
      expect(batch.map((e) => [e.seq, e.event.id])).toEqual([
        [1, 'e1'],
        [2, 'e2'],
      ]);
    }
    expect(await store.progress.batch(c.id, 0, 100)).toEqual([]);
  });

  it('answers a repeated id as a duplicate and queues nothing new', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const a = await create(subscription(tenant));
    const now = Date.now();
    await store.publish([{ tenant, events: [event('dup-1')] }], LIMITS, now);
    const again = await store.publish(
      [{ tenant, events: [event('dup-1'), event('dup-1'), event('dup-2')] }],
      LIMITS,
      now,
    );
    expect(outcomes(again)).toEqual([
      { id: 'dup-1', duplicate: true, subscriptions: [] },
      { id: 'dup-1', duplicate: true, subscriptions: [] },
      { id: 'dup-2', duplicate: false, subscriptions: [a.id] },
    ]);
    expect((await store.progress.batch(a.id, 0, 100)).map((e) => e.event.id)).toEqual(['dup-1', 'dup-2']);
  });

  it('keeps tenants whose names are prefixes of each other apart (acme, acme-corp)', async () => {
    const suffix = randomUUID().slice(0, 6);
    const acme = `acme${suffix}`;
    const corp = `acme${suffix}-corp`;
    const ofAcme = await create(subscription(acme));
    const ofCorp = await create(subscription(corp));
    await store.publish(
      [{ tenant: corp, events: [event('invoice-1', { data: { card: 'corp' } })] }],
      LIMITS,
      Date.now(),
    );
    // The same id under the other tenant is a new event, not a duplicate, and not the other's data.
    expect(await store.events.get(acme, 'corp-invoice-1', Date.now())).toBeNull();
    expect(await store.events.get(acme, 'invoice-1', Date.now())).toBeNull();
    const r = await store.publish(
      [{ tenant: acme, events: [event('corp-invoice-1'), event('invoice-1')] }],
      LIMITS,
      Date.now(),
    );
    expect(outcomes(r)).toEqual([
      { id: 'corp-invoice-1', duplicate: false, subscriptions: [ofAcme.id] },
      { id: 'invoice-1', duplicate: false, subscriptions: [ofAcme.id] },
    ]);
    expect((await store.events.get(corp, 'invoice-1', Date.now()))!.event.data).toEqual({ card: 'corp' });
    expect((await store.events.get(acme, 'invoice-1', Date.now()))!.event.data).toEqual({ id: 'invoice-1' });
    expect((await store.progress.batch(ofCorp.id, 0, 10)).map((e) => e.event.id)).toEqual(['invoice-1']);
  });

  it('refuses a request that would overflow a backlog, whole, without failing the rest of its group', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const small = await create(subscription(tenant, { eventTypes: ['small.*'] }));
    const other = await create(subscription(tenant, { eventTypes: ['other.*'] }));
    const limits = { maxEvents: 3, maxBytes: LIMITS.maxBytes };
    const r = await store.publish(
      [
        { tenant, events: [event('s1', { type: 'small.x' }), event('s2', { type: 'small.x' })] },
        { tenant, events: [event('s3', { type: 'small.x' }), event('s4', { type: 'small.x' })] },
        { tenant, events: [event('o1', { type: 'other.x' })] },
      ],
      limits,
      Date.now(),
    );
    expect(r.results[0]).toEqual({ outcomes: expect.any(Array) });
    expect((r.results[1] as { error: BacklogFullError }).error).toBeInstanceOf(BacklogFullError);
    expect((r.results[1] as { error: BacklogFullError }).error.subscriptionIds).toEqual([small.id]);
    expect(outcomes(r, 2)).toEqual([{ id: 'o1', duplicate: false, subscriptions: [other.id] }]);
    // Nothing of the refused request was stored: its ids publish fine later.
    expect(await store.events.get(tenant, 's3', Date.now())).toBeNull();
    expect((await store.progress.batch(small.id, 0, 10)).map((e) => e.event.id)).toEqual(['s1', 's2']);
    // The byte limit holds the same way.
    const bytes = await store.publish(
      [{ tenant, events: [event('big', { type: 'small.x', data: 'x'.repeat(5000) })] }],
      { maxEvents: 100, maxBytes: 4000 },
      Date.now(),
    );
    expect((bytes.results[0] as { error: BacklogFullError }).error).toBeInstanceOf(BacklogFullError);
  });

  it('owes a wake to an idle subscriber once, and none while it is busy', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const a = await create(subscription(tenant));
    const synced = await store.progress.sync(a.id);
    expect(synced).toMatchObject({ exists: true, idle: true, headSeq: 0, doneSeq: 0 });
    const first = await store.publish([{ tenant, events: [event('w1')] }], LIMITS, Date.now());
    expect(first.wakes).toEqual([{ subscriptionId: a.id, headSeq: 1 }]);
    const second = await store.publish([{ tenant, events: [event('w2')] }], LIMITS, Date.now());
    expect(second.wakes).toEqual([]);
    // Delivering both makes it idle again: the next publish owes a wake again.
    const after = await store.progress.recordAttempt(
      a.id,
      {
        msgId: 'msg_1',
        firstSeq: 1,
        lastSeq: 2,
        events: 2,
        attempt: 1,
        ok: true,
        statusCode: 200,
        error: null,
        errorClass: null,
        durationMs: 3,
        at: Date.now(),
      },
      100,
    );
    expect(after).toEqual({ headSeq: 2, doneSeq: 2, idle: true });
    const third = await store.publish([{ tenant, events: [event('w3')] }], LIMITS, Date.now());
    expect(third.wakes).toEqual([{ subscriptionId: a.id, headSeq: 3 }]);
  });

  it('stops routing to a deleted subscription and frees its URL', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const a = await create(subscription(tenant));
    await expect(create(subscription(tenant, { url: a.url }))).rejects.toBeInstanceOf(UrlTakenError);
    await store.subscriptions.remove(tenant, a.id, new Date());
    const r = await store.publish([{ tenant, events: [event('after-delete')] }], LIMITS, Date.now());
    expect(outcomes(r)).toEqual([{ id: 'after-delete', duplicate: false, subscriptions: [] }]);
    await expect(create(subscription(tenant, { url: a.url }))).resolves.toMatchObject({ url: a.url });
  });

  it('keeps each subscription in publish order under many concurrent publishers', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const subs = await Promise.all([1, 2, 3].map(() => create(subscription(tenant))));
    const publishers = 20;
    const perPublisher = dialect === 'postgres' ? 100 : 50;
    // Each publisher publishes its events one request at a time; requests of different publishers race.
    await Promise.all(
      Array.from({ length: publishers }, async (_, p) => {
        for (let i = 0; i < perPublisher; i++) {
          const r = await store.publish([{ tenant, events: [event(`p${p}-${i}`)] }], LIMITS, Date.now());
          expect(outcomes(r)[0]).toMatchObject({ duplicate: false });
        }
      }),
    );
    for (const sub of subs) {
      const entries = (
        await store.db
          .selectFrom('queue_entries as e')
          .innerJoin('events as ev', 'ev.pk', 'e.event_pk')
          .select(['e.seq', 'ev.event_id'])
          .where('e.subscription_id', '=', sub.id)
          .orderBy('e.seq')
          .execute()
      ).map((r) => ({ seq: r.seq, event: { id: r.event_id } }));
      // Dense sequence numbers, every event once, and each publisher's events in its order.
      expect(entries.map((e) => e.seq)).toEqual(
        Array.from({ length: publishers * perPublisher }, (_, i) => i + 1),
      );
      for (let p = 0; p < publishers; p++) {
        const mine = entries
          .filter((e) => e.event.id.startsWith(`p${p}-`))
          .map((e) => Number(e.event.id.split('-')[1]));
        expect(mine).toEqual(Array.from({ length: perPublisher }, (_, i) => i));
      }
    }
  });
});
