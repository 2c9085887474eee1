/**
 * Concurrent publishers on PostgreSQL, the production store: two API processes and one worker share
 * a database, and 20 producers publish at once, spread over both APIs. This is where sequence numbers
 * committed out of order would bite (ARCHITECTURE.md): a subscriber that read past an entry committed
 * late would skip it, a loss the ledger reports. Each producer is sequential, so its own order is a
 * publish order every subscription must keep; between producers no order is promised.
 */
import { startFaultCase, type FaultCase, type FaultProcess } from './support/harness';
import { logLines } from './support/service';

const PRODUCERS = 20;
const EVENTS_EACH = 500;
/** Events per request: small, so there are many concurrent transactions. */
const BATCH = 2;
const APIS = 2;

describe(`${PRODUCERS} concurrent producers × ${EVENTS_EACH} events on PostgreSQL, two APIs, one worker`, () => {
  let fc: FaultCase;

  afterAll(async () => {
    await fc?.cleanup();
  });

  it('delivers every event once to every subscription, each producer’s events in its order', async () => {
    fc = await startFaultCase({
      name: 'concurrent-publishers-pg',
      service: { kind: 'processes' },
      database: 'postgres',
    });
    const { ledger, receiver } = fc;
    receiver.behave = () => ({ kind: 'answer', status: 200 });
    await fc.start('worker');
    const apis: FaultProcess[] = [];
    for (let i = 0; i < APIS; i++) apis.push(await fc.start('api'));
    // Every process opened Hookline's store on PostgreSQL, the one database they share.
    for (const p of fc.processes) {
      expect(logLines(p.output(), 'store open, migrations applied').map((l) => l.database)).toEqual([
        'postgres',
      ]);
    }
    await fc.subscribe('/twenty', { maxBatchSize: 20 });
    await fc.subscribe('/fifty', { maxBatchSize: 50 });
    await fc.subscribe('/hundred', { maxBatchSize: 100 });

    const publishFrom = Date.now();
    const producers = Array.from({ length: PRODUCERS }, (_, i) => {
      const url = apis[i % APIS]!.url!;
      return fc.producer({
        prefix: `p${i}`,
        stream: `p${i}`,
        batchSize: BATCH,
        maxEvents: EVENTS_EACH,
        url: () => url,
      });
    });
    await Promise.all(producers.map((p) => p.waitForAccepted(EVENTS_EACH, 300_000)));
    const publishMs = Date.now() - publishFrom;

    const verdict = await fc.drain({
      recoveredAt: publishFrom,
      timeoutMs: 300_000,
      extra: {
        producers: PRODUCERS,
        apiProcesses: APIS,
        eventsPerRequest: BATCH,
        publishMs,
        publishedPerSecond: Math.round((ledger.accepted.length / publishMs) * 1000),
        duplicatesAnswered: producers.reduce((n, p) => n + p.duplicates, 0),
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(ledger.accepted.length).toBe(PRODUCERS * EVENTS_EACH);
    expect(verdict.total.delivered).toBe(PRODUCERS * EVENTS_EACH * fc.subscriptions.length);
    expect(verdict.total.dead).toBe(0);
  });
});
