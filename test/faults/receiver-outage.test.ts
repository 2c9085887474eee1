import { OUTAGE_SECONDS, sleep, until } from './support/env';
import { startFaultCase, type FaultCase } from './support/harness';

/** Events per second published before, during and after the outage. */
const RATE = 20;

describe(`a receiver outage of ${OUTAGE_SECONDS} s with publishes going on`, () => {
  let fc: FaultCase;

  afterAll(async () => {
    await fc?.cleanup();
  });

  it('queues everything while the receiver is down, then drains it in publish order', async () => {
    fc = await startFaultCase({ name: 'receiver-outage', service: { kind: 'in-process' } });
    const { ledger, receiver } = fc;
    receiver.behave = () => ({ kind: 'answer', status: 200 });
    await fc.subscribe('/small', { maxBatchSize: 10 });
    await fc.subscribe('/large', { maxBatchSize: 100 });
    let down = false;
    const producer = fc.producer({ prefix: 'out', batchSize: 10, ratePerSecond: RATE });
    producer.faultActive = () => down;

    // Steady state first: deliveries flowing to both subscriptions.
    await until(
      () => new Set(receiver.posts.filter((p) => p.answered === 200).map((p) => p.path)).size === 2,
      60_000,
      'deliveries to both subscriptions before the outage',
    );
    await sleep(3_000);

    const postsBefore = receiver.posts.length;
    const acceptedBefore = ledger.accepted.length;
    down = true;
    await receiver.goDown();
    await sleep(OUTAGE_SECONDS * 1000);
    const acceptedDuringOutage = ledger.accepted.length - acceptedBefore;
    // Nothing got through while the port was closed, and publishing went on.
    expect(receiver.posts.length).toBe(postsBefore);
    expect(acceptedDuringOutage).toBeGreaterThan(0);
    const owedAtRecovery = ledger.outstanding(receiver.posts);

    await receiver.reopen();
    down = false;
    const recoveredAt = Date.now();
    // Publishing goes on a little after the outage too, behind the backlog.
    await sleep(3_000);

    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 180_000,
      extra: {
        outageSeconds: OUTAGE_SECONDS,
        ratePerSecond: RATE,
        eventsAcceptedDuringOutage: acceptedDuringOutage,
        owedAtRecovery,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.dead).toBe(0);
    expect(verdict.total.delivered).toBe(ledger.accepted.length * fc.subscriptions.length);
    expect(owedAtRecovery).toBeGreaterThanOrEqual(acceptedDuringOutage * fc.subscriptions.length);
  });
});
