/**
 * Tenants whose names are prefixes of each other (`acme` and `acme-corp`): every identifier that joins
 * a tenant with something else must be unambiguous, and every read must check the tenant it belongs
 * to. Under a `${tenant}-${id}` join, acme's `corp-invoice-1` and acme-corp's `invoice-1` are one key.
 */
import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';
import { targetsStack } from '../support/stack';
import { waitUntil } from '../support/subscriber';
import type { HooklineEvent } from '../../src/domain/types';
import { SA } from '../../src/temporal/search-attributes';
import { ingressWorkflowId, subscriberWorkflowId } from '../../src/workflows/ids';

/** The app's two API keys: ACME calls as tenant `acme…`, CORP as tenant `acme…-corp`. */
type As = 'acme' | 'globex';
const ACME: As = 'acme';
const CORP: As = 'globex';
/** Unique per run (the stack keeps its data between runs), one name a prefix of the other plus `-`. */
const BASE = `acme${process.pid}x${Date.now() % 100000}`;
const TENANT: Record<As, string> = { acme: BASE, globex: `${BASE}-corp` };

const bodyEvents = (body: string) =>
  (JSON.parse(body) as { events: { id: string; data: unknown }[] }).events.map((e) => ({
    id: e.id,
    data: e.data,
  }));

/** What one tenant owns: an active subscription (`live`) and a paused one (`held`, its queue non-empty). */
interface Owned {
  as: As;
  receiver: TestReceiver;
  live: { id: string; url: string; secret: string };
  held: { id: string; url: string; secret: string };
  /** An event of this tenant queued to both subscriptions (delivered by `live`, pending at `held`). */
  eventId: string;
}

describe('tenants whose names are prefixes of each other (acme…, acme…-corp)', () => {
  let app: TestApp;
  const owned = {} as Record<As, Owned>;
  const other = (as: As): As => (as === ACME ? CORP : ACME);

  beforeAll(async () => {
    app = await startTestApp({}, { tenants: { acme: TENANT.acme, globex: TENANT.globex } });
    for (const as of [ACME, CORP]) {
      const receiver = await TestReceiver.start();
      const create = async (path: string) => {
        const url = `${receiver.url}/${path}`;
        const res = await app.call('POST', '/v1/subscriptions', { as, body: { url, eventTypes: ['*'] } });
        expect(res.status).toBe(201);
        return { id: res.body.id as string, url, secret: res.body.secret as string };
      };
      const live = await create('live');
      const held = await create('held');
      expect((await app.call('POST', `/v1/subscriptions/${held.id}/pause`, { as })).status).toBe(200);
      const eventId = `owned-by-${TENANT[as]}`;
      const published = await app.call('POST', '/v1/events', {
        as,
        body: { id: eventId, type: 'owned', data: { owner: TENANT[as] } },
      });
      expect(published.body.events[0].subscriptions.sort()).toEqual([live.id, held.id].sort());
      owned[as] = { as, receiver, live, held, eventId };
    }
    for (const as of [ACME, CORP]) {
      const { receiver, live, eventId } = owned[as];
      await receiver.waitFor((r) => r.some((x) => x.path === '/hooks/live'));
      await waitUntil(
        async () =>
          (await app.call('GET', `/v1/subscriptions/${live.id}/events/${eventId}`, { as })).body.status ===
          'delivered',
      );
    }
  });
  afterAll(async () => {
    await app.stop();
    for (const o of Object.values(owned)) await o.receiver.close();
  });

  /** Everything an owner can read about its own subscriptions, to compare before and after. */
  async function snapshot(o: Owned) {
    const read = async (path: string) => {
      const res = await app.call('GET', path, { as: o.as });
      expect(res.status).toBe(200);
      return res.body as unknown;
    };
    const s = (id: string) => `/v1/subscriptions/${id}`;
    return {
      live: await read(s(o.live.id)),
      held: await read(s(o.held.id)),
      liveSecret: await read(`${s(o.live.id)}/secret`),
      heldSecret: await read(`${s(o.held.id)}/secret`),
      heldQueue: await read(`${s(o.held.id)}/queue`),
      liveQueue: await read(`${s(o.live.id)}/queue`),
      liveEntry: await read(`${s(o.live.id)}/events/${o.eventId}`),
      heldEntry: await read(`${s(o.held.id)}/events/${o.eventId}`),
      deadLetters: await read(`${s(o.live.id)}/dead-letters`),
      event: await read(`/v1/events/${o.eventId}`),
      list: await read('/v1/subscriptions?limit=100'),
    };
  }

  /** [name, method, path, body, headers]: every row has all five (it.each would take a missing last one for `done`). */
  type Case = [string, string, (o: Owned) => string, (o: Owned) => unknown, Record<string, string>];
  const cases: Case[] = [
    ['GET subscription', 'GET', (o) => `/v1/subscriptions/${o.live.id}`, () => undefined, {}],
    [
      'PATCH subscription',
      'PATCH',
      (o) => `/v1/subscriptions/${o.live.id}`,
      () => ({ description: 'x' }),
      {},
    ],
    [
      'PATCH subscription with If-Match',
      'PATCH',
      (o) => `/v1/subscriptions/${o.live.id}`,
      () => ({ eventTypes: ['nothing.*'] }),
      { 'if-match': '1' },
    ],
    ['DELETE subscription', 'DELETE', (o) => `/v1/subscriptions/${o.live.id}`, () => undefined, {}],
    [
      'DELETE subscription by URL',
      'DELETE',
      (o) => `/v1/subscriptions?url=${encodeURIComponent(o.live.url)}`,
      () => undefined,
      {},
    ],
    ['GET secret', 'GET', (o) => `/v1/subscriptions/${o.live.id}/secret`, () => undefined, {}],
    [
      'POST secret/rotate',
      'POST',
      (o) => `/v1/subscriptions/${o.live.id}/secret/rotate`,
      () => undefined,
      {},
    ],
    ['POST pause', 'POST', (o) => `/v1/subscriptions/${o.live.id}/pause`, () => undefined, {}],
    ['POST resume', 'POST', (o) => `/v1/subscriptions/${o.held.id}/resume`, () => undefined, {}],
    ['GET queue', 'GET', (o) => `/v1/subscriptions/${o.held.id}/queue`, () => undefined, {}],
    ['GET deliveries', 'GET', (o) => `/v1/subscriptions/${o.live.id}/deliveries`, () => undefined, {}],
    [
      'GET queue entry',
      'GET',
      (o) => `/v1/subscriptions/${o.live.id}/events/${o.eventId}`,
      () => undefined,
      {},
    ],
    ['GET dead-letters', 'GET', (o) => `/v1/subscriptions/${o.live.id}/dead-letters`, () => undefined, {}],
    [
      'POST redeliver by id',
      'POST',
      (o) => `/v1/subscriptions/${o.live.id}/redeliver`,
      (o) => ({ eventIds: [o.eventId] }),
      {},
    ],
    [
      'POST redeliver since',
      'POST',
      (o) => `/v1/subscriptions/${o.live.id}/redeliver`,
      () => ({ since: '2020-01-01T00:00:00Z' }),
      {},
    ],
    ['GET event', 'GET', (o) => `/v1/events/${o.eventId}`, () => undefined, {}],
  ];

  describe.each([
    ['acme…', ACME],
    ['acme…-corp', CORP],
  ])('resources of %s, called with the other tenant’s key', (_name, ownerAs) => {
    let before: Awaited<ReturnType<typeof snapshot>>;
    beforeAll(async () => {
      before = await snapshot(owned[ownerAs]);
    });

    it.each(cases)('%s answers 404 not_found', async (_case, method, path, body, headers) => {
      const o = owned[ownerAs];
      const res = await app.call(method, path(o), { as: other(ownerAs), body: body(o), headers });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    });

    it('no answer gave the other tenant anything of the owner’s', async () => {
      // Lists and URL lookups answer 200, so look into them: nothing of the owner's is there.
      const o = owned[ownerAs];
      const list = await app.call('GET', '/v1/subscriptions?limit=100', { as: other(ownerAs) });
      const byUrl = await app.call('GET', `/v1/subscriptions?url=${encodeURIComponent(o.live.url)}`, {
        as: other(ownerAs),
      });
      expect(byUrl.body.data).toEqual([]);
      const seen = JSON.stringify([list.body, byUrl.body]);
      for (const secret of [o.live.id, o.held.id, o.live.secret, o.held.secret])
        expect(seen).not.toContain(secret);
    });

    it('and changed nothing: every read of the owner answers as before, and nothing was re-sent', async () => {
      const o = owned[ownerAs];
      expect(await snapshot(o)).toEqual(before);
      // A barrier without waiting on time: the live subscription delivers in order, so anything the
      // other tenant's redeliver had queued would arrive before this event.
      const barrier = `barrier-${TENANT[ownerAs]}`;
      await app.call('POST', '/v1/events', { as: ownerAs, body: { id: barrier, type: 'barrier', data: {} } });
      await o.receiver.waitFor((r) => r.some((x) => x.body.includes(barrier)));
      const live = o.receiver.requests
        .filter((r) => r.path === '/hooks/live')
        .flatMap((r) => bodyEvents(r.body));
      expect(live.map((e) => e.id)).toEqual([o.eventId, barrier]);
      expect(o.receiver.requests.filter((r) => r.path === '/hooks/held')).toEqual([]);
    });
  });

  describe('event ids that a `${tenant}-${id}` join would make one', () => {
    beforeEach(() => {
      for (const o of Object.values(owned)) o.receiver.requests.splice(0);
    });

    /** Publishes one event as `as`; expects it accepted, new, and queued to that tenant's live and held. */
    async function publish(as: As, id: string) {
      const res = await app.call('POST', '/v1/events', {
        as,
        body: { id, type: 'invoice.paid', data: { card: `card of ${TENANT[as]}` } },
      });
      expect(res.status).toBe(202);
      expect(res.body.events).toEqual([
        { id, duplicate: false, subscriptions: [owned[as].live.id, owned[as].held.id].sort() },
      ]);
    }

    /** Reads `id` as `as`: its own event of that id with its own data, or 404. */
    async function expectOwn(as: As, id: string) {
      const res = await app.call('GET', `/v1/events/${id}`, { as });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, data: { card: `card of ${TENANT[as]}` } });
      expect(res.body.subscriptions.map((s: { id: string }) => s.id).sort()).toEqual(
        [owned[as].live.id, owned[as].held.id].sort(),
      );
      const entry = await app.call('GET', `/v1/subscriptions/${owned[as].held.id}/events/${id}`, { as });
      expect(entry.status).toBe(200);
      expect(entry.body).toMatchObject({ eventId: id, subscriptionId: owned[as].held.id, status: 'pending' });
    }
    async function expectNone(as: As, id: string) {
      expect((await app.call('GET', `/v1/events/${id}`, { as })).status).toBe(404);
      expect(
        (await app.call('GET', `/v1/subscriptions/${owned[as].held.id}/events/${id}`, { as })).status,
      ).toBe(404);
    }
    async function expectDelivered(as: As, ids: string[]) {
      const { receiver } = owned[as];
      await receiver.waitFor((r) => ids.every((id) => r.some((x) => x.body.includes(`"${id}"`))));
      // In order on one subscription: the last id is there, so everything before it is too.
      const got = receiver.requests
        .filter((r) => r.path === '/hooks/live')
        .flatMap((r) => bodyEvents(r.body));
      expect(got).toEqual(ids.map((id) => ({ id, data: { card: `card of ${TENANT[as]}` } })));
    }

    it('acme-corp publishes invoice-1, then acme publishes corp-invoice-1: both new, each reads its own', async () => {
      await publish(CORP, 'invoice-1');
      await publish(ACME, 'corp-invoice-1');
      await expectOwn(CORP, 'invoice-1');
      await expectOwn(ACME, 'corp-invoice-1');
      await expectNone(ACME, 'invoice-1');
      await expectNone(CORP, 'corp-invoice-1');
      await expectDelivered(CORP, ['invoice-1']);
      await expectDelivered(ACME, ['corp-invoice-1']);
    });

    it('the other way round: acme first (corp-receipt-1), then acme-corp (receipt-1)', async () => {
      await publish(ACME, 'corp-receipt-1');
      await publish(CORP, 'receipt-1');
      await expectOwn(ACME, 'corp-receipt-1');
      await expectOwn(CORP, 'receipt-1');
      await expectNone(CORP, 'corp-receipt-1');
      await expectNone(ACME, 'receipt-1');
      await expectDelivered(ACME, ['corp-receipt-1']);
      await expectDelivered(CORP, ['receipt-1']);
    });

    /** Checks `pairs` of [acme…-corp's id, acme…'s id] were each published as new by its own tenant. */
    async function expectPairs(pairs: [string, string][]) {
      for (const [corpId, acmeId] of pairs) {
        await expectOwn(CORP, corpId);
        await expectOwn(ACME, acmeId);
        await expectNone(ACME, corpId);
        await expectNone(CORP, acmeId);
      }
      // Concurrent requests have no order among themselves: compare as sets.
      for (const [as, want] of [
        [CORP, pairs.map((p) => p[0])],
        [ACME, pairs.map((p) => p[1])],
      ] as const) {
        const { receiver } = owned[as];
        await receiver.waitFor((r) => want.every((id) => r.some((x) => x.body.includes(`"${id}"`))));
        const got = receiver.requests.flatMap((r) => bodyEvents(r.body));
        expect(got.map((e) => e.id).sort()).toEqual([...want].sort());
        for (const e of got) expect(e.data).toEqual({ card: `card of ${TENANT[as]}` });
      }
    }

    it('published at the same moment over HTTP, each pair is new twice and each tenant’s own', async () => {
      const pairs = Array.from({ length: 20 }, (_, i): [string, string] => [`order-${i}`, `corp-order-${i}`]);
      await Promise.all(pairs.flatMap(([corpId, acmeId]) => [publish(CORP, corpId), publish(ACME, acmeId)]));
      await expectPairs(pairs);
    });

    // The publisher commits the requests that arrive in one tick in one transaction (group commit):
    // a key joined by `-` inside it would make the second of a pair a duplicate of the first.
    (targetsStack() ? it.skip : it)('in one group commit too (two publishes in one tick)', async () => {
      const event = (as: As, id: string): HooklineEvent => ({
        id,
        type: 'invoice.paid',
        source: 'test',
        subject: null,
        category: null,
        labels: {},
        time: new Date().toISOString(),
        data: { card: `card of ${TENANT[as]}` },
      });
      const pairs: [string, string][] = [
        ['refund-1', 'corp-refund-1'],
        ['refund-2', 'corp-refund-2'],
      ];
      const outcomes = await Promise.all(
        pairs.flatMap(([corpId, acmeId]) => [
          app.core.publisher.publish(TENANT[CORP], [event(CORP, corpId)]),
          app.core.publisher.publish(TENANT[ACME], [event(ACME, acmeId)]),
        ]),
      );
      expect(outcomes.flat().map((o) => [o.id, o.duplicate])).toEqual(pairs.flat().map((id) => [id, false]));
      await expectPairs(pairs);
    });

    it('a repeat within a tenant is still a duplicate (the check is not simply off)', async () => {
      const again = await app.call('POST', '/v1/events', {
        as: ACME,
        body: { id: 'corp-invoice-1', type: 'invoice.paid', data: { card: 'again' } },
      });
      expect(again.body.events).toEqual([{ id: 'corp-invoice-1', duplicate: true, subscriptions: [] }]);
    });
  });

  describe('workflow ids', () => {
    it('each subscriber workflow is its subscription’s and tagged with its own tenant', async () => {
      for (const as of [ACME, CORP]) {
        for (const sub of [owned[as].live, owned[as].held]) {
          const description = await app.client.workflow.getHandle(subscriberWorkflowId(sub.id)).describe();
          expect(description.status.name).toBe('RUNNING');
          expect(description.typedSearchAttributes.get(SA.tenant)).toBe(TENANT[as]);
          expect(description.typedSearchAttributes.get(SA.subscriptionId)).toBe(sub.id);
        }
      }
      // The Web UI's tenant filter finds exactly a tenant's own subscribers.
      for (const as of [ACME, CORP]) {
        const want = [owned[as].live.id, owned[as].held.id].map(subscriberWorkflowId).sort();
        let found: string[] = [];
        await waitUntil(async () => {
          found = [];
          for await (const w of app.client.workflow.list({
            query: `HooklineTenant = "${TENANT[as]}" AND ExecutionStatus = "Running"`,
          }))
            found.push(w.workflowId);
          found.sort();
          return JSON.stringify(found) === JSON.stringify(want);
        }).catch(() => undefined);
        expect(found).toEqual(want);
      }
    });

    it('each tenant has its own ingress workflow, and a publish signalled to it reaches only that tenant', async () => {
      expect(ingressWorkflowId(TENANT.acme)).not.toBe(ingressWorkflowId(TENANT.globex));
      for (const as of [ACME, CORP]) owned[as].receiver.requests.splice(0);
      const signal = (as: As, id: string) =>
        app.client.workflow.getHandle(ingressWorkflowId(TENANT[as])).signal('publish', {
          events: [{ id, type: 'invoice.paid', data: { card: `card of ${TENANT[as]}` } }],
        });
      await signal(CORP, 'ingress-1');
      await signal(ACME, 'corp-ingress-1');
      await expectEventually(CORP, 'ingress-1');
      await expectEventually(ACME, 'corp-ingress-1');
      expect((await app.call('GET', '/v1/events/corp-ingress-1', { as: CORP })).status).toBe(404);
      expect((await app.call('GET', '/v1/events/ingress-1', { as: ACME })).status).toBe(404);

      async function expectEventually(as: As, id: string) {
        await owned[as].receiver.waitFor((r) =>
          r.some((x) => x.path === '/hooks/live' && x.body.includes(`"${id}"`)),
        );
        const got = owned[as].receiver.requests
          .filter((r) => r.path === '/hooks/live')
          .flatMap((r) => bodyEvents(r.body));
        expect(got).toEqual([{ id, data: { card: `card of ${TENANT[as]}` } }]);
        const read = await app.call('GET', `/v1/events/${id}`, { as });
        expect(read.status).toBe(200);
        expect(read.body.data).toEqual({ card: `card of ${TENANT[as]}` });
      }
    });
  });
});
