/**
 * "Request Cancellation" in the Temporal Web UI (a cancel request to `hookline-sub-<id>`) is handled
 * as DELETE: the subscription is unregistered, its URL is free again, and no later publish is routed
 * to it (nor answers 202 naming it).
 */
import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';
import { waitUntil } from '../support/subscriber';
import { SA } from '../../src/temporal/search-attributes';
import { subscriberWorkflowId } from '../../src/workflows/ids';

/** The subscription id and event ids of a raw delivery. */
const delivery = (body: string) => {
  const parsed = JSON.parse(body) as { subscriptionId: string; events: { id: string }[] };
  return { subscriptionId: parsed.subscriptionId, ids: parsed.events.map((e) => e.id) };
};

describe('cancelling a subscriber workflow', () => {
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

  let n = 0;
  /** Each test publishes its own type (`cancel<n>.x`), so one test's leftovers never match another's. */
  async function subscribe(url: string) {
    const res = await app.call('POST', '/v1/subscriptions', { body: { url, eventTypes: [`cancel${n}.*`] } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }
  const publish = async (id: string) => {
    const res = await app.call('POST', '/v1/events', { body: { id, type: `cancel${n}.x`, data: { id } } });
    expect(res.status).toBe(202);
    return res.body.events[0] as { id: string; duplicate: boolean; subscriptions: string[] };
  };
  const handle = (id: string) => app.client.workflow.getHandle(subscriberWorkflowId(id));

  /** Cancels the workflow as the Web UI does, and waits until the API no longer knows the subscription. */
  async function cancel(id: string) {
    await waitUntil(async () => (await handle(id).describe()).status.name === 'RUNNING');
    await handle(id).cancel();
    await waitUntil(async () => (await app.call('GET', `/v1/subscriptions/${id}`)).status === 404);
    // The workflow took the request and ended; its Web UI status is no longer `active`.
    await handle(id).result();
    const description = await handle(id).describe();
    expect(description.status.name).not.toBe('RUNNING');
    expect(description.typedSearchAttributes.get(SA.status)).toBe('deleted');
  }

  it('unregisters the subscription: 404 on every read, gone from lists, DELETE answers 404', async () => {
    const url = `${receiver.url}/${++n}`;
    const id = await subscribe(url);
    await publish('cancel-read-1');
    await receiver.waitFor((r) => r.some((x) => x.body.includes('cancel-read-1')));
    await cancel(id);

    for (const suffix of ['', '/secret', '/queue', '/deliveries', '/dead-letters', '/events/cancel-read-1'])
      expect((await app.call('GET', `/v1/subscriptions/${id}${suffix}`)).status).toBe(404);
    const list = await app.call('GET', '/v1/subscriptions?limit=100');
    expect(list.body.data.map((s: { id: string }) => s.id)).not.toContain(id);
    expect((await app.call('GET', `/v1/subscriptions?url=${encodeURIComponent(url)}`)).body.data).toEqual([]);
    expect((await app.call('DELETE', `/v1/subscriptions/${id}`)).status).toBe(404);
    expect((await app.call('DELETE', `/v1/subscriptions?url=${encodeURIComponent(url)}`)).status).toBe(404);
    // EventGet still knows the event, and says the subscription it went to is deleted.
    expect((await app.call('GET', '/v1/events/cancel-read-1')).body.subscriptions).toEqual([
      { id, status: 'deleted' },
    ]);
  });

  it('frees the URL, routes no later publish to it, and delivers only to the new registration', async () => {
    const url = `${receiver.url}/${++n}`;
    const path = `/hooks/${n}`;
    // A batch retrying for an hour: the cancel must not wait for it.
    receiver.respond((req) =>
      req.path === path ? { status: 503, headers: { 'retry-after': '3600' } } : { status: 200 },
    );
    const old = await subscribe(url);
    expect((await publish('cancel-held-1')).subscriptions).toEqual([old]);
    await receiver.waitFor((r) => r.some((x) => x.path === path));
    await cancel(old);

    // No publish names it, and nothing is queued for it.
    const orphan = await publish('cancel-after-1');
    expect(orphan).toEqual({ id: 'cancel-after-1', duplicate: false, subscriptions: [] });
    expect((await app.call('GET', '/v1/events/cancel-after-1')).body.subscriptions).toEqual([]);

    // The URL registers again, as a new subscription.
    receiver.respond(() => ({ status: 200 }));
    const again = await app.call('POST', '/v1/subscriptions', {
      body: { url, eventTypes: [`cancel${n}.*`] },
    });
    expect(again.status).toBe(201);
    expect(again.body.id).not.toBe(old);
    const fresh = again.body.id as string;
    expect((await publish('cancel-new-1')).subscriptions).toEqual([fresh]);
    expect((await app.call('GET', '/v1/events/cancel-new-1')).body.subscriptions).toEqual([
      { id: fresh, status: expect.any(String) },
    ]);

    await receiver.waitFor((r) => r.some((x) => x.path === path && x.body.includes('cancel-new-1')));
    const received = receiver.requests.filter((r) => r.path === path).map((r) => delivery(r.body));
    // The old subscription sent its held batch once (the 503), and nothing after the cancel.
    expect(received.filter((d) => d.subscriptionId === old)).toEqual([
      { subscriptionId: old, ids: ['cancel-held-1'] },
    ]);
    expect(received.filter((d) => d.subscriptionId === fresh)).toEqual([
      { subscriptionId: fresh, ids: ['cancel-new-1'] },
    ]);
    // The old workflow was not started again (a routed wake would have started it).
    expect((await handle(old).describe()).status.name).not.toBe('RUNNING');
  });
});
