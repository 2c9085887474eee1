import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import { startTestApp, type TestApp } from '../support/app';
import { TestReceiver } from '../support/receiver';

const EventType = temporal.api.enums.v1.EventType;

/** Visibility is eventually consistent: a filter is polled until it answers what is expected, this long. */
const VISIBILITY_WAIT_MS = 30_000;

/**
 * Operators filter subscriber workflows in the Web UI by Hookline's search attributes. The UI lists
 * through the visibility API (ListWorkflowExecutions), which is what `client.workflow.list` calls: these
 * tests run the UI's kind of query against subscriptions made through the real REST API.
 */
describe('listing subscriber workflows by search attribute', () => {
  let app: TestApp;
  /** Answers 410 Gone on paths ending in /gone, 200 elsewhere. */
  let shared: TestReceiver;
  /** A second host, so that the target-host filter has something to tell apart. */
  let other: TestReceiver;
  const ids: Record<string, string> = {};

  const answer = (path: string) => ({ status: path.endsWith('/gone') ? 410 : 200 });

  beforeAll(async () => {
    app = await startTestApp();
    shared = await TestReceiver.start((req) => answer(req.path));
    other = await TestReceiver.start((req) => answer(req.path));
    const create = async (name: string, as: 'acme' | 'globex', url: string, eventTypes: string[]) => {
      const res = await app.call('POST', '/v1/subscriptions', { as, body: { url, eventTypes } });
      expect(res.status).toBe(201);
      ids[name] = res.body.id as string;
    };
    await create('acmeOrders', 'acme', `${other.url}/orders`, ['order.*']);
    await create('acmeGone', 'acme', `${shared.url}/gone`, ['invoice.*']);
    await create('acmePaused', 'acme', `${shared.url}/paused`, ['order.*', 'refund.*']);
    await create('globexGone', 'globex', `${shared.url}/gone`, ['invoice.*']);
    await create('globexRefunds', 'globex', `${shared.url}/refunds`, ['refund.*']);

    expect((await app.call('POST', `/v1/subscriptions/${ids.acmePaused}/pause`)).body.status).toBe('paused');
    // The 410 answers disable the two /gone subscriptions, one per tenant.
    for (const as of ['acme', 'globex'] as const) {
      const res = await app.call('POST', '/v1/events', { as, body: { type: 'invoice.paid', data: { as } } });
      expect(res.status).toBe(202);
    }
    const published = await app.call('POST', '/v1/events', {
      body: { id: 'order-1', type: 'order.created', data: { total: 1 } },
    });
    expect(published.status).toBe(202);
    await other.waitFor(() => other.requests.length >= 1, 30_000);
  });
  afterAll(async () => {
    await app?.stop();
    await shared?.close();
    await other?.close();
  });

  const tenant = (as: 'acme' | 'globex') => `HooklineTenant = "${app.tenants[as]}"`;
  const bothTenants = () => `(${tenant('acme')} OR ${tenant('globex')})`;
  const workflowIdsOf = (...names: string[]) => names.map((n) => subscriberWorkflowId(ids[n]!)).sort();

  /** Workflow ids the visibility query answers, polled until they equal `expected` or the wait ends. */
  async function listUntil(query: string, expected: string[]): Promise<string[]> {
    const deadline = Date.now() + VISIBILITY_WAIT_MS;
    let seen: string[] = [];
    for (;;) {
      seen = [];
      for await (const wf of app.client.workflow.list({ query })) seen.push(wf.workflowId);
      seen.sort();
      if (JSON.stringify(seen) === JSON.stringify(expected) || Date.now() > deadline) return seen;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('finds the disabled subscriptions of one tenant, and only those', async () => {
    const query = `${tenant('acme')} AND HooklineStatus = "disabled"`;
    expect(await listUntil(query, workflowIdsOf('acmeGone'))).toEqual(workflowIdsOf('acmeGone'));
    // Without the tenant filter both tenants' disabled subscriptions match: the filter above did the work.
    const both = workflowIdsOf('acmeGone', 'globexGone');
    expect(await listUntil(`${bothTenants()} AND HooklineStatus = "disabled"`, both)).toEqual(both);
  });

  it('finds paused subscriptions by status', async () => {
    const query = `${tenant('acme')} AND HooklineStatus = "paused"`;
    expect(await listUntil(query, workflowIdsOf('acmePaused'))).toEqual(workflowIdsOf('acmePaused'));
  });

  it('finds subscriptions by target host', async () => {
    const host = new URL(other.url).host;
    const query = `${tenant('acme')} AND HooklineTargetHost = "${host}"`;
    expect(await listUntil(query, workflowIdsOf('acmeOrders'))).toEqual(workflowIdsOf('acmeOrders'));
  });

  it('finds subscriptions by one of their event types (a keyword list)', async () => {
    const refunds = workflowIdsOf('acmePaused', 'globexRefunds');
    expect(await listUntil(`${bothTenants()} AND HooklineEventTypes = "refund.*"`, refunds)).toEqual(refunds);
    const activeRefunds = `${bothTenants()} AND HooklineEventTypes = "refund.*" AND HooklineStatus = "active"`;
    expect(await listUntil(activeRefunds, workflowIdsOf('globexRefunds'))).toEqual(
      workflowIdsOf('globexRefunds'),
    );
  });

  it('makes a delivery readable at a glance: activity summary, result and current details', async () => {
    const handle = app.client.workflow.getHandle(subscriberWorkflowId(ids.acmeOrders!));
    expect(await (await handle.describe()).staticSummary()).toBe(`${other.url}/orders · order.*`);

    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
        e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverBatch',
    );
    expect(scheduled).toHaveLength(1);
    const summary = defaultPayloadConverter.fromPayload<string>(scheduled[0]!.userMetadata!.summary!);
    const msgId = String(other.requests[0]!.headers['webhook-id']);
    expect(summary).toBe(`${msgId} · 1 events · attempt 1`);
    // The summary is fixed when the attempt is scheduled; its status code is in the activity's result…
    const deliverEventId = scheduled[0]!.eventId;
    const completed = events.find(
      (e) =>
        e.activityTaskCompletedEventAttributes &&
        String(e.activityTaskCompletedEventAttributes.scheduledEventId) === String(deliverEventId),
    );
    const result = defaultPayloadConverter.fromPayload<{ statusCode: number }>(
      completed!.activityTaskCompletedEventAttributes!.result!.payloads![0]!,
    );
    expect(result.statusCode).toBe(200);
    // …and in the workflow's current details (the Web UI asks them by the built-in metadata query).
    const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toMatch(/^\*\*active\*\* · 0 queued · 0 dead letters/);
    expect(meta.currentDetails).toContain(`last attempt: ${msgId} · 1 events · attempt 1 · 200 in `);

    const gone = app.client.workflow.getHandle(subscriberWorkflowId(ids.acmeGone!));
    const goneMeta = await gone.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(goneMeta.currentDetails).toMatch(/^\*\*disabled\*\*/);
    expect(goneMeta.currentDetails).toMatch(/last: 410/);
  });

  it('a deleted subscription is listed as deleted, never as active', async () => {
    expect(
      (await app.call('DELETE', `/v1/subscriptions/${ids.globexRefunds}`, { as: 'globex' })).status,
    ).toBe(204);
    const deleted = workflowIdsOf('globexRefunds');
    expect(await listUntil(`${tenant('globex')} AND HooklineStatus = "deleted"`, deleted)).toEqual(deleted);
    expect(await listUntil(`${tenant('globex')} AND HooklineStatus = "active"`, [])).toEqual([]);
  });
});
