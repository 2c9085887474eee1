import { until } from './support/env';
import { startFaultCase, type FaultCase, type FaultProcess } from './support/harness';
import { alive, devServerPid } from './support/service';

/** Events published at once before the first crash; with a slow receiver most of them are still queued. */
const BEFORE_CRASH = 600;
const TOTAL = 800;
/** Events per second after the first BEFORE_CRASH: publishing goes on through both crashes. */
const RATE = 10;
/** Deliveries accepted and not yet acknowledged when the first crash comes (issue #8: 500+). */
const IN_FLIGHT = 500;

describe('SIGKILL of the whole service under load, then a restart on the same DATA_DIR', () => {
  let fc: FaultCase;

  afterAll(async () => {
    await fc?.cleanup();
  });

  it('delivers every accepted event once in order, duplicates only as whole re-sent batches', async () => {
    fc = await startFaultCase({ name: 'kill-service', service: { kind: 'embedded' } });
    const { ledger, receiver } = fc;
    // A slow receiver: 300 ms per POST, so hundreds of events wait in the queues when the crash comes.
    receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: 300 });
    let service: FaultProcess = await fc.start('all');
    const restart = () => fc.start('all', { port: service.port! });
    await fc.subscribe('/small', { maxBatchSize: 10 });
    await fc.subscribe('/large', { maxBatchSize: 50 });
    let down = false;
    const producer = fc.producer({
      prefix: 'ks',
      batchSize: 50,
      maxEvents: TOTAL,
      burst: BEFORE_CRASH,
      ratePerSecond: RATE,
      requestTimeoutMs: 20_000,
    });
    producer.faultActive = () => down;

    // Crash 1: the node process alone (as the OOM killer does): its dev server lives on as an orphan
    // holding the SQLite file and the ports, until the next start stops it through temporal.pid.
    await until(
      () =>
        producer.sent >= BEFORE_CRASH &&
        receiver.posts.filter((p) => p.answered === 200).length >= 10 &&
        ledger.outstanding(receiver.posts) >= IN_FLIGHT,
      120_000,
      `${IN_FLIGHT}+ deliveries in flight before the first crash`,
    );
    const inFlightAtCrash1 = ledger.outstanding(receiver.posts);
    const orphan = devServerPid(fc.dataDir)!;
    down = true;
    service.child.kill('SIGKILL');
    expect(await service.exited).toBe('SIGKILL');
    expect(alive(orphan)).toBe(true);
    service = await restart();
    down = false;
    expect(alive(orphan)).toBe(false);

    // Crash 2: the whole process group (node and dev server at once, as a container kill does).
    const acked = receiver.posts.length;
    await until(() => receiver.posts.length >= acked + 20, 120_000, 'progress after the first restart');
    const inFlightAtCrash2 = ledger.outstanding(receiver.posts);
    const publishedAtCrash2 = producer.sent;
    down = true;
    service.kill();
    expect(await service.exited).toBe('SIGKILL');
    const restartedAt = Date.now();
    service = await restart();
    down = false;
    const recoveredAt = Date.now();

    // The whole load is published before the drain starts, so every run checks TOTAL events.
    await producer.waitForAccepted(TOTAL, 180_000);
    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 240_000,
      extra: {
        inFlightAtCrash1,
        inFlightAtCrash2,
        publishedAtCrash2,
        restartMs: recoveredAt - restartedAt,
        acceptedWhileDown: producer.acceptedDuringFault,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.delivered).toBe(TOTAL * fc.subscriptions.length);
    expect(inFlightAtCrash1).toBeGreaterThanOrEqual(IN_FLIGHT);

    expect(await service.stop()).toBe(0);
  });
});
