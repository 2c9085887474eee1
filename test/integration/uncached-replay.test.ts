import { Worker } from '@temporalio/worker';
import { startTestApp, type TestApp } from '../support/app';
import { TestReceiver } from '../support/receiver';
import { workflowBundle } from '../support/temporal';

/**
 * A worker that caches no workflow run (as after a restart, or an eviction under memory pressure)
 * replays each run from its history before every task, and writes the next commands from that replayed
 * state. Those histories must replay again: otherwise the next restart stalls the subscription on a
 * non-determinism error. Each wake here (publish, pause, resume, config, rotate, redeliver, delete)
 * lands on a run that is not in the cache.
 */
describe('histories written by a worker without a workflow cache', () => {
  let app: TestApp;
  let receiver: TestReceiver;

  beforeAll(async () => {
    app = await startTestApp({ WORKER_MAX_CACHED_WORKFLOWS: '0' });
    // The first delivery fails: a back-off timer and a retry go into the history too.
    receiver = await TestReceiver.start((_req, n) => ({ status: n === 0 ? 503 : 204 }));
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.close();
  });

  it('replay without non-determinism, for every workflow type involved', async () => {
    const created = await app.call('POST', '/v1/subscriptions', {
      body: { url: receiver.url, eventTypes: ['order.created'] },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const publish = async (ids: string[]) => {
      const events = ids.map((e) => ({ id: e, type: 'order.created', data: { e } }));
      const res = await app.call('POST', '/v1/events', { body: { events } });
      expect(res.status).toBe(202);
    };

    await publish(['a-1']);
    await publish(['a-2', 'a-3']);
    await receiver.waitFor(() => receiver.eventIds().includes('a-3'));

    expect((await app.call('POST', `/v1/subscriptions/${id}/pause`)).status).toBe(200);
    await publish(['b-1']);
    const patched = await app.call('PATCH', `/v1/subscriptions/${id}`, { body: { description: 'uncached' } });
    expect(patched.status).toBe(200);
    expect((await app.call('POST', `/v1/subscriptions/${id}/secret/rotate`)).status).toBe(200);
    expect((await app.call('POST', `/v1/subscriptions/${id}/resume`)).status).toBe(200);
    await receiver.waitFor(() => receiver.eventIds().includes('b-1'));

    const since = new Date(Date.now() - 60_000).toISOString();
    expect((await app.call('POST', `/v1/subscriptions/${id}/redeliver`, { body: { since } })).status).toBe(
      202,
    );
    await receiver.waitFor(() => receiver.eventIds().filter((e) => e === 'a-1').length >= 2);
    expect((await app.call('DELETE', `/v1/subscriptions/${id}`)).status).toBe(204);

    // Every run on this app's task queue: its subscriber and the tenants' ingress workflows.
    const types = new Set<string>();
    let replayed = 0;
    const query = `TaskQueue = '${app.config.temporal.taskQueue}'`;
    for await (const wf of app.client.workflow.list({ query })) {
      const handle = app.client.workflow.getHandle(wf.workflowId, wf.runId);
      if (wf.status.name === 'RUNNING') await handle.terminate('replay test');
      await Worker.runReplayHistory(
        { workflowBundle: workflowBundle() },
        await handle.fetchHistory(),
        wf.workflowId,
      );
      types.add(wf.type);
      replayed++;
    }
    expect([...types].sort()).toEqual(expect.arrayContaining(['ingressWorkflow', 'subscriberWorkflow']));
    expect(replayed).toBeGreaterThanOrEqual(2);
  });
});
