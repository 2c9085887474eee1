import { EventRecords, RECORD_TTL_SECONDS, recordTimeoutSeconds } from '../../src/publish/records';
import { connectDevServer, uniqueTaskQueue, type DevServerHarness } from '../support/temporal';
import { makeEvents } from '../support/subscriber';

const DAY = 86_400;

describe('event record lifetime', () => {
  it('is RECORD_TTL in all: what retention keeps after the timeout makes up the rest', () => {
    expect(recordTimeoutSeconds(7 * DAY)).toBe(1);
    expect(recordTimeoutSeconds(30 * DAY)).toBe(1);
    expect(recordTimeoutSeconds(1 * DAY)).toBe(RECORD_TTL_SECONDS - DAY);
    expect(recordTimeoutSeconds(0)).toBe(RECORD_TTL_SECONDS);
  });

  describe('on a real server', () => {
    let t: DevServerHarness;
    beforeAll(async () => {
      t = await connectDevServer();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('with a 7-day retention, closes at once without any worker, stays readable and keeps its id', async () => {
      const tenant = `rec-${Date.now()}`;
      // No worker polls this task queue: a record must never need one.
      const records = new EventRecords(t.client, uniqueTaskQueue('records'), 7 * DAY);
      const [event] = makeEvents(1, 'rec');
      const record = {
        tenant,
        event: event!,
        subscriptionIds: ['sub_a'],
        publishedAt: new Date().toISOString(),
      };
      expect(await records.claim(record)).toBe(true);

      const handle = t.client.workflow.getHandle(`hookline-evt-${tenant}-${event!.id}`);
      const deadline = Date.now() + 30_000;
      let status = (await handle.describe()).status.name;
      while (status === 'RUNNING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await handle.describe()).status.name;
      }
      expect(status).toBe('TIMED_OUT');

      expect(await records.read(tenant, event!.id)).toEqual(record);
      expect(await records.claim(record)).toBe(false);
      // It never ran: its history is the start and the timeout, no workflow task.
      const types = ((await handle.fetchHistory()).events ?? []).map((e) => e.eventType);
      expect(types).toHaveLength(2);
    });
  });
});
