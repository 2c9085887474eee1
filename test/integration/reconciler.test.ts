import { subscriberWorkflowId } from '../../src/workflows/ids';
import { startTestApp, type TestApp } from '../support/app';
import { TestReceiver } from '../support/receiver';
import { waitUntil } from '../support/subscriber';

/**
 * Nothing is lost when a signal is: the store remembers the wakes it owes and which subscriptions
 * have a backlog, and the reconciler beside the worker (RECONCILE_INTERVAL_MS, 2 s in tests) makes
 * the workflows catch up.
 */
describe('the reconciler', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  let dropWakes = false;

  beforeAll(async () => {
    app = await startTestApp(
      {},
      {
        // As if the process died between the commit and its signals: the commit stands, no wake goes.
        afterCommit: () => {
          if (dropWakes) throw new Error('test: the process died after the commit');
        },
      },
    );
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  const publish = (ids: string[]) =>
    app.call('POST', '/v1/events', {
      body: { events: ids.map((id) => ({ id, type: 'order.created', data: { id } })) },
    });
  const subscribe = async (url = receiver.url) => {
    const created = await app.call('POST', '/v1/subscriptions', {
      body: { url, eventTypes: ['order.*'] },
    });
    expect(created.status).toBe(201);
    return created.body.id as string;
  };

  it('delivers a commit whose signals were never sent', async () => {
    const id = await subscribe();
    expect((await publish(['lost-1'])).status).toBe(202);
    await receiver.waitFor(() => receiver.eventIds().includes('lost-1'));
    dropWakes = true;
    try {
      // The client hears of a failure; the events were committed all the same.
      expect((await publish(['lost-2', 'lost-3'])).status).toBe(500);
    } finally {
      dropWakes = false;
    }
    const entry = await app.call('GET', `/v1/events/lost-2`);
    expect(entry.status).toBe(200);
    await receiver.waitFor(() => receiver.eventIds().includes('lost-3'));
    expect(receiver.eventIds()).toEqual(['lost-1', 'lost-2', 'lost-3']);
    expect((await app.call('GET', `/v1/subscriptions/${id}`)).status).toBe(200);
  });

  it('tells a subscriber of its delete when the signal was lost', async () => {
    const id = await subscribe(`${receiver.url}/deleted`);
    const handle = app.client.workflow.getHandle(subscriberWorkflowId(id));
    // Its first sync done, it waits for a signal.
    await waitUntil(async () =>
      (await handle.fetchHistory().catch(() => ({ events: [] }))).events!.some(
        (e) => e.activityTaskCompletedEventAttributes,
      ),
    );
    // DELETE's commit without its signal: only the store knows.
    expect(await app.store.subscriptions.remove(app.tenants.acme, id, new Date())).not.toBeNull();
    await handle.result();
    const owed = await app.store.db
      .selectFrom('queues')
      .select(['wake_owed_at', 'sync_owed_at'])
      .where('subscription_id', '=', id)
      .executeTakeFirst();
    expect(owed).toEqual({ wake_owed_at: null, sync_owed_at: null });
  });

  it('starts a terminated subscriber again, which resumes at its first undelivered event', async () => {
    let down = true;
    const delivered: string[] = [];
    const outage = await TestReceiver.start((req) => {
      if (down) return { status: 503 };
      delivered.push(...(JSON.parse(req.body) as { events: { id: string }[] }).events.map((e) => e.id));
      return { status: 200 };
    });
    try {
      const id = await subscribe(outage.url);
      const handle = app.client.workflow.getHandle(subscriberWorkflowId(id));
      expect((await publish(['t-1', 't-2', 't-3'])).status).toBe(202);
      await outage.waitFor((r) => r.length >= 1);
      const first = (await handle.describe()).runId;
      // What "Terminate" in the Web UI does: the workflow ends, and nothing tells the store.
      await handle.terminate('operator pressed Terminate');
      await waitUntil(async () => {
        const d = await app.client.workflow.getHandle(subscriberWorkflowId(id)).describe();
        return d.runId !== first && d.status.name === 'RUNNING';
      }, 60_000);
      down = false;
      expect((await publish(['t-4'])).status).toBe(202);
      await outage.waitFor(() => delivered.includes('t-4'));
      expect(delivered).toEqual(['t-1', 't-2', 't-3', 't-4']);
    } finally {
      await outage.close();
    }
  });
});
