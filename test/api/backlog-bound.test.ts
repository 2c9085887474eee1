/**
 * The backlog bound (MAX_BACKLOG) on every path that queues: a REST publish, the ingress workflow's
 * `publish` signal and a redelivery past it are refused (503 + Retry-After, or retried by the ingress),
 * store nothing, and go through once the backlog drained. Paused subscriptions hold their backlog
 * without delivering, so the bound is reached without a failing receiver or any wait on time.
 */
import { TestReceiver } from '../support/receiver';
import { startTestApp, type TestApp } from '../support/app';
import { waitUntil } from '../support/subscriber';
import { ingressWorkflowId } from '../../src/workflows/ids';

const MAX = 5;
type As = 'acme' | 'globex';

const bodyIds = (body: string) => (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id);

describe('a backlog bounded by MAX_BACKLOG', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  beforeAll(async () => {
    app = await startTestApp({ MAX_BACKLOG: String(MAX) });
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  let n = 0;
  async function subscribe(eventTypes: string[], opts: { paused?: boolean; as?: As } = {}) {
    const path = `/hooks/${++n}`;
    const res = await app.call('POST', '/v1/subscriptions', {
      as: opts.as,
      body: { url: `${receiver.url}/${n}`, eventTypes },
    });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    if (opts.paused)
      expect((await app.call('POST', `/v1/subscriptions/${id}/pause`, { as: opts.as })).status).toBe(200);
    return { id, path };
  }
  const events = (type: string, ids: string[]) => ({ events: ids.map((id) => ({ id, type, data: { id } })) });
  const publish = (body: unknown, as?: As) => app.call('POST', '/v1/events', { as, body });
  const queueSize = async (id: string, as?: As) =>
    (await app.call('GET', `/v1/subscriptions/${id}/queue`, { as })).body.size as number;
  const received = (path: string) =>
    receiver.requests.filter((r) => r.path === path).flatMap((r) => bodyIds(r.body));
  const expectBacklogFull = (res: { status: number; body: any; headers: Headers }) => {
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('backlog_full');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  };

  it('REST: a publish past the bound answers 503 and stores nothing of the request, for any subscription', async () => {
    const full = await subscribe(['full.*'], { paused: true });
    const other = await subscribe(['full.*', 'other.*']);
    const fill = await publish(events('full.x', ['f-1', 'f-2', 'f-3', 'f-4', 'f-5']));
    expect(fill.status).toBe(202);
    expect(await queueSize(full.id)).toBe(MAX);
    // `other` delivers; its backlog is empty again, so only `full` is full.
    await receiver.waitFor(() => received(other.path).includes('f-5'));
    await waitUntil(async () => (await queueSize(other.id)) === 0);

    // One event too many, together with one only `other` takes: refused whole.
    const refused = await publish({
      events: [
        { id: 'o-mixed', type: 'other.x', data: {} },
        { id: 'f-6', type: 'full.x', data: {} },
      ],
    });
    expectBacklogFull(refused);
    for (const id of ['o-mixed', 'f-6']) expect((await app.call('GET', `/v1/events/${id}`)).status).toBe(404);
    expect(await queueSize(full.id)).toBe(MAX);
    expect((await app.call('GET', `/v1/subscriptions/${other.id}/events/f-6`)).status).toBe(404);

    // What does not match the full subscription still publishes; it is also the barrier for `other`:
    // delivered in order, so anything of the refused request would have arrived before it.
    const fine = await publish(events('other.x', ['o-1']));
    expect(fine.body.events).toEqual([{ id: 'o-1', duplicate: false, subscriptions: [other.id] }]);
    await receiver.waitFor(() => received(other.path).includes('o-1'));
    expect(received(other.path)).toEqual(['f-1', 'f-2', 'f-3', 'f-4', 'f-5', 'o-1']);

    // Room again: the same request goes through as new, to both.
    expect((await app.call('POST', `/v1/subscriptions/${full.id}/resume`)).status).toBe(200);
    await receiver.waitFor(() => received(full.path).includes('f-5'));
    await waitUntil(async () => (await queueSize(full.id)) === 0);
    const retried = await publish({
      events: [
        { id: 'o-mixed', type: 'other.x', data: {} },
        { id: 'f-6', type: 'full.x', data: {} },
      ],
    });
    expect(retried.status).toBe(202);
    expect(retried.body.events).toEqual([
      { id: 'o-mixed', duplicate: false, subscriptions: [other.id] },
      { id: 'f-6', duplicate: false, subscriptions: [full.id, other.id].sort() },
    ]);
    await receiver.waitFor(() => received(full.path).includes('f-6') && received(other.path).includes('f-6'));
    expect(received(full.path)).toEqual(['f-1', 'f-2', 'f-3', 'f-4', 'f-5', 'f-6']);
    expect(received(other.path)).toEqual(['f-1', 'f-2', 'f-3', 'f-4', 'f-5', 'o-1', 'o-mixed', 'f-6']);
  });

  it('the ingress signal: events past the bound are not queued, and are once the backlog drained', async () => {
    // Tenant globex, so its ingress workflow retrying does not hold up another test's signals.
    const as: As = 'globex';
    const sub = await subscribe(['ing.*'], { paused: true, as });
    expect((await publish(events('ing.x', ['i-1', 'i-2', 'i-3', 'i-4']), as)).status).toBe(202);
    const handle = app.client.workflow.getHandle(ingressWorkflowId(app.tenants.globex));
    await handle.signal('publish', events('ing.x', ['i-5', 'i-6']));

    // The ingress activity is refused for a full backlog (and retried), not given up or half-done.
    await waitUntil(async () => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      return pending.some(
        (a) => a.lastFailure?.applicationFailureInfo?.type === 'BacklogFull' && Number(a.attempt) >= 2,
      );
    }, 60_000);
    expect(await queueSize(sub.id, as)).toBe(4);
    for (const id of ['i-5', 'i-6'])
      expect((await app.call('GET', `/v1/events/${id}`, { as })).status).toBe(404);
    expect(await handle.query('rejectedPublishes')).toEqual([]);

    expect((await app.call('POST', `/v1/subscriptions/${sub.id}/resume`, { as })).status).toBe(200);
    await receiver.waitFor(() => received(sub.path).includes('i-6'), 90_000);
    expect(received(sub.path)).toEqual(['i-1', 'i-2', 'i-3', 'i-4', 'i-5', 'i-6']);
    expect((await app.call('GET', '/v1/events/i-6', { as })).body.subscriptions).toEqual([
      { id: sub.id, status: expect.any(String) },
    ]);
  });

  it('redeliver: past the bound answers 503 and re-queues nothing; up to it, 202', async () => {
    const sub = await subscribe(['re.*']);
    expect((await publish(events('re.x', ['r-1', 'r-2', 'r-3', 'r-4']))).status).toBe(202);
    await receiver.waitFor(() => received(sub.path).includes('r-4'));
    await waitUntil(
      async () =>
        (await app.call('GET', `/v1/subscriptions/${sub.id}/events/r-4`)).body.status === 'delivered',
    );
    expect((await app.call('POST', `/v1/subscriptions/${sub.id}/pause`)).status).toBe(200);
    expect((await publish(events('re.x', ['r-5', 'r-6']))).status).toBe(202);
    expect(await queueSize(sub.id)).toBe(2);

    const redeliver = (body: unknown) => app.call('POST', `/v1/subscriptions/${sub.id}/redeliver`, { body });
    // 2 queued + 4 = 6 > 5.
    expectBacklogFull(await redeliver({ eventIds: ['r-1', 'r-2', 'r-3', 'r-4'] }));
    expect(await queueSize(sub.id)).toBe(2);
    // 2 + 3 = 5: exactly the bound is fine.
    const taken = await redeliver({ eventIds: ['r-1', 'r-2', 'r-3'] });
    expect(taken.status).toBe(202);
    expect(taken.body.requeued).toEqual(['r-1', 'r-2', 'r-3']);
    expect(await queueSize(sub.id)).toBe(MAX);
    expectBacklogFull(await redeliver({ eventIds: ['r-4'] }));
    expect(await queueSize(sub.id)).toBe(MAX);

    expect((await app.call('POST', `/v1/subscriptions/${sub.id}/resume`)).status).toBe(200);
    await receiver.waitFor(() => received(sub.path).filter((id) => id === 'r-3').length === 2);
    await waitUntil(async () => (await queueSize(sub.id)) === 0);
    // With room again, the refused redelivery goes through; it is the last thing sent.
    const later = await redeliver({ eventIds: ['r-4'] });
    expect(later.status).toBe(202);
    await receiver.waitFor(() => received(sub.path).filter((id) => id === 'r-4').length === 2);
    expect(received(sub.path)).toEqual([
      'r-1',
      'r-2',
      'r-3',
      'r-4',
      'r-5',
      'r-6',
      'r-1',
      'r-2',
      'r-3',
      'r-4',
    ]);
  });
});
