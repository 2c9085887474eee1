import { SA } from '../../src/temporal/search-attributes';
import { startTestApp, type TestApp } from '../support/app';

const HooklineEventTypes = SA.eventTypes;
import { TestReceiver } from '../support/receiver';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import { waitUntil } from '../support/subscriber';

/**
 * Registrations at the limits API.md allows. Temporal terminates a workflow whose search attribute
 * value is over 2 KB; before the values were bounded, one such registration terminated the registry
 * workflow of its tenant, and one such PATCH terminated the subscriber.
 */
describe('subscriptions at the size limits', () => {
  let app: TestApp;
  let receiver: TestReceiver;
  /** 100 patterns of 256 characters: the most API.md allows, 26 KB as a keyword list. */
  const manyTypes = Array.from(
    { length: 100 },
    (_, i) => `t${String(i).padStart(3, '0')}.${'x'.repeat(251)}`,
  );

  beforeAll(async () => {
    app = await startTestApp();
    receiver = await TestReceiver.start();
  });
  afterAll(async () => {
    await app.stop();
    await receiver.close();
  });

  const status = async (workflowId: string) =>
    (
      await app.client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => null)
    )?.status.name;

  it('registers and changes them without losing the registry or the subscriber', async () => {
    const first = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/first`, eventTypes: ['order.*'] },
    });
    expect(first.status).toBe(201);

    const wide = await app.call('POST', '/v1/subscriptions', {
      body: { url: `${receiver.url}/wide`, eventTypes: manyTypes },
    });
    expect(wide.status).toBe(201);
    // A URL of exactly 2,048 characters.
    const base = `${receiver.url}/long/`;
    const long = await app.call('POST', '/v1/subscriptions', {
      body: { url: base + 'p'.repeat(2048 - base.length), eventTypes: ['*'] },
    });
    expect(long.status).toBe(201);
    for (const id of [first.body.id, wide.body.id, long.body.id]) {
      await waitUntil(async () => (await status(subscriberWorkflowId(id))) === 'RUNNING');
    }

    const patched = await app.call('PATCH', `/v1/subscriptions/${first.body.id}`, {
      body: { eventTypes: manyTypes },
    });
    expect(patched.status).toBe(200);
    // The subscriber reads the change and indexes its new types (bounded): it keeps running.
    const indexed = async () => {
      const d = await app.client.workflow.getHandle(subscriberWorkflowId(first.body.id)).describe();
      return (d.typedSearchAttributes.get(HooklineEventTypes) ?? []).length > 1;
    };
    await waitUntil(indexed);
    expect(await status(subscriberWorkflowId(first.body.id))).toBe('RUNNING');

    // Routing (in the store since the storage rewrite; no registry workflow) still reaches all three.
    const published = await app.call('POST', '/v1/events', { body: { type: manyTypes[7], data: {} } });
    expect(published.status).toBe(202);
    expect([...published.body.events[0].subscriptions].sort()).toEqual(
      [first.body.id, wide.body.id, long.body.id].sort(),
    );
    const list = await app.call('GET', '/v1/subscriptions');
    expect(list.body.data).toHaveLength(3);
  });
});
