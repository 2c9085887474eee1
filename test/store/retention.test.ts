import { randomUUID } from 'node:crypto';
import { RETENTION_MS } from '../../src/store/retention';
import { DIALECTS, makeEvent, makeSubscription, openTestStore, type TestStore } from '../support/store';

const DAY = 24 * 3_600_000;
const LIMITS = { maxEvents: 1_000_000, maxBytes: 10 * 1024 ** 3 };

const event = (id: string) => makeEvent(id, { type: 't', source: 's' });
const subscription = (tenant: string) => makeSubscription(tenant);

describe.each(DIALECTS)('retention on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(dialect);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const count = async (table: 'events' | 'queue_entries' | 'attempts' | 'dead_letters', sub?: string) => {
    let q = store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n'));
    if (sub) q = q.where('subscription_id', '=', sub);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };

  it('purges delivered entries, their events and attempts 7 days after publish; never an undelivered one', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const delivered = await store.subscriptions.create(subscription(tenant), 'whsec_x', null, 100);
    const down = await store.subscriptions.create(subscription(tenant), 'whsec_y', null, 100);
    const t0 = Date.now() - 8 * DAY;
    // Published 8 days ago to both; only the first subscription got them delivered.
    await store.publish([{ tenant, events: [event('old-1'), event('old-2')] }], LIMITS, t0);
    await store.progress.recordAttempt(
      delivered.id,
      {
        msgId: 'msg_a',
        firstSeq: 1,
        lastSeq: 2,
        events: 2,
        attempt: 1,
        ok: true,
        statusCode: 200,
        error: null,
        errorClass: null,
        durationMs: 5,
        at: t0,
      },
      100,
    );
    // Published today.
    await store.publish([{ tenant, events: [event('new-1')] }], LIMITS, Date.now());

    const purged = await store.retention.purge(Date.now(), 1);
    expect(purged.attempts).toBeGreaterThanOrEqual(1);
    // The delivered subscription's old entries went; the other one still owes them: kept, with their events.
    expect(await count('queue_entries', delivered.id)).toBe(1);
    expect(await count('queue_entries', down.id)).toBe(3);
    expect((await store.progress.batch(down.id, 0, 10)).map((e) => e.event.id)).toEqual([
      'old-1',
      'old-2',
      'new-1',
    ]);
    expect(await count('attempts', delivered.id)).toBe(0);
    // Their ids are free again after 7 days, even though the events are still needed.
    expect(await store.events.get(tenant, 'old-1', Date.now())).toBeNull();
    const again = await store.publish([{ tenant, events: [event('old-1')] }], LIMITS, Date.now());
    expect(again.results[0]).toEqual({
      outcomes: [{ id: 'old-1', duplicate: false, subscriptions: [delivered.id, down.id].sort() }],
    });
  });

  it('purges dead letters 7 days after they died (not after publish), then their events', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const sub = await store.subscriptions.create(subscription(tenant), 'whsec_x', null, 100);
    const published = Date.now() - 10 * DAY;
    await store.publish([{ tenant, events: [event('doomed')] }], LIMITS, published);
    const diedAt = Date.now() - 3 * DAY;
    await store.progress.deadLetter(
      sub.id,
      { msgId: 'msg_d', firstSeq: 1, lastSeq: 1, attempts: 40, lastStatusCode: 503, lastError: 'HTTP 503' },
      diedAt,
    );

    await store.retention.purge(Date.now());
    // Died 3 days ago: kept and redeliverable, although published 10 days ago.
    expect((await store.queues.deadLetters(sub.id, Date.now())).map((d) => d.event.id)).toEqual(['doomed']);
    // 7 days after it died: gone, and so are its entry and event.
    const later = diedAt + RETENTION_MS + 1000;
    expect(await store.queues.deadLetters(sub.id, later)).toEqual([]);
    await store.retention.purge(later);
    expect(await count('dead_letters', sub.id)).toBe(0);
    expect(await count('queue_entries', sub.id)).toBe(0);
    const left = await store.db.selectFrom('events').select('pk').where('tenant', '=', tenant).execute();
    expect(left).toEqual([]);
  });

  it('works in bounded batches: a purge of many rows is many small deletes', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const sub = await store.subscriptions.create(subscription(tenant), 'whsec_x', null, 100);
    const t0 = Date.now() - 8 * DAY;
    const events = Array.from({ length: 250 }, (_, i) => event(`bulk-${i}`));
    for (let i = 0; i < events.length; i += 50)
      await store.publish([{ tenant, events: events.slice(i, i + 50) }], LIMITS, t0);
    await store.progress.recordAttempt(
      sub.id,
      {
        msgId: 'msg_b',
        firstSeq: 1,
        lastSeq: 250,
        events: 250,
        attempt: 1,
        ok: true,
        statusCode: 200,
        error: null,
        errorClass: null,
        durationMs: 5,
        at: t0,
      },
      0,
    );
    const once = await store.retention.purgeOnce(Date.now(), 100);
    expect(once.entries).toBe(100);
    const all = await store.retention.purge(Date.now(), 100);
    expect(once.entries + all.entries).toBe(250);
    expect(await count('queue_entries', sub.id)).toBe(0);
  });
});
