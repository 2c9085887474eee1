import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { temporal as protoTypes } from '@temporalio/proto';
import { temporal as proto } from '@temporalio/proto';
import { deliveriesQuery, progressQuery } from '../../src/workflows/messages';
import { TestReceiver } from '../support/receiver';
import { makeEvents, startSubscriberHarness, waitUntil, type SubscriberHarness } from '../support/subscriber';
import { connectDevServer, type DevServerHarness } from '../support/temporal';

/** The bound of every workflow message (ARCHITECTURE.md "Where data lives"). */
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MARKER = 'payload-marker-7c1f0e';

type Payload = protoTypes.api.common.v1.IPayload;

/** Every Payload anywhere in a history: inputs, signals, updates, activity inputs and results, memos. */
function payloadsOf(value: unknown, out: Payload[] = [], seen = new Set<unknown>()): Payload[] {
  if (value === null || typeof value !== 'object' || seen.has(value) || value instanceof Uint8Array)
    return out;
  seen.add(value);
  const v = value as Record<string, unknown>;
  if (v.data instanceof Uint8Array && v.metadata && typeof v.metadata === 'object') {
    out.push(v);
    return out;
  }
  for (const child of Object.values(v)) payloadsOf(child, out, seen);
  return out;
}

function checkHistory(history: protoTypes.api.history.v1.IHistory, forbidden: string[]) {
  const payloads = payloadsOf(history.events);
  expect(payloads.length).toBeGreaterThan(0);
  const largest = Math.max(...payloads.map((p) => p.data!.length));
  expect(largest).toBeLessThan(MAX_PAYLOAD_BYTES);
  const text = payloads.map((p) => Buffer.from(p.data!).toString('utf8')).join('\n');
  for (const word of forbidden) expect(text).not.toContain(word);
  return { payloads: payloads.length, largest };
}

/**
 * Workflows hold references and progress, never event data or secrets, and every message stays small
 * whatever the backlog: checked on real histories, the recorded fixtures and a fresh one.
 */
describe('workflow histories carry no event data and no secret', () => {
  const fixtures = join(__dirname, '..', 'fixtures', 'histories');
  const recorded = existsSync(fixtures) ? readdirSync(fixtures).filter((f) => f.endsWith('.binpb')) : [];

  it.each(recorded)('%s: no payload of 64 KiB or more, no signing secret', (file) => {
    const history = proto.api.history.v1.History.decode(readFileSync(join(fixtures, file)));
    checkHistory(history, ['whsec_']);
  });

  describe('a fresh run with a backlog of 3,000 events and a 200 KiB event', () => {
    let temporal: DevServerHarness;
    let h: SubscriberHarness;
    let receiver: TestReceiver;
    beforeAll(async () => {
      temporal = await connectDevServer();
      h = await startSubscriberHarness({ client: temporal.client });
      receiver = await TestReceiver.start(() => ({ status: 503 }));
    });
    afterAll(async () => {
      await h?.stop();
      await receiver?.close();
      await temporal?.close();
    });

    it('keeps every message, query answer and activity result small and free of data', async () => {
      const sub = await h.subscribe({ url: receiver.url, maxBatchSize: 100 });
      const events = makeEvents(3000, 'big').map((e, i) => ({
        ...e,
        data: i === 10 ? { marker: MARKER, blob: 'x'.repeat(200 * 1024) } : { marker: MARKER, i },
      }));
      await h.publish(events, 100);
      const handle = h.handle(sub);
      // A few failed attempts with the whole backlog queued.
      await waitUntil(() => receiver.requests.length >= 2, 60_000);
      const progress = JSON.stringify(await handle.query(progressQuery));
      const deliveries = JSON.stringify(await handle.query(deliveriesQuery, 50));
      for (const answer of [progress, deliveries]) {
        expect(Buffer.byteLength(answer)).toBeLessThan(MAX_PAYLOAD_BYTES);
        expect(answer).not.toContain(MARKER);
        expect(answer).not.toContain(sub.secret);
      }
      // The whole backlog waits (the store's count: the workflow knows of new entries when it asks).
      expect(await h.store.queues.backlogs()).toEqual([{ subscriptionId: sub.id, events: 3000 }]);

      receiver.respond(() => ({ status: 200 }));
      await receiver.waitFor(() => new Set(receiver.eventIds()).size >= 3000, 120_000);
      await handle.signal('delete');
      await handle.result();
      checkHistory(await handle.fetchHistory(), [MARKER, sub.secret]);
    });
  });
});
