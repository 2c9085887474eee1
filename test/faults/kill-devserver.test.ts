import { until } from './support/env';
import { startFaultCase, type FaultCase } from './support/harness';
import { alive, devServerPid, logTimes } from './support/service';

const TOTAL = 600;
/** Events published at once, before the pacing starts (the backlog the crash finds). */
const BURST = 300;
/** Events per second after the burst: publishing goes on while Temporal is down. */
const RATE = 20;
/** ms a readiness probe waits for an answer (a Kubernetes probe's default is 1 s; this is generous). */
const READYZ_TIMEOUT_MS = 5_000;

describe('SIGKILL of the embedded Temporal dev server under load', () => {
  let fc: FaultCase;

  afterAll(async () => {
    await fc?.cleanup();
  });

  it('loses nothing accepted: the service starts it again on the same SQLite file and drains every queue', async () => {
    fc = await startFaultCase({ name: 'kill-devserver', service: { kind: 'embedded' } });
    const { ledger, receiver } = fc;
    const service = await fc.start('all');
    receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: 100 });
    await fc.subscribe('/small', { maxBatchSize: 10 });
    await fc.subscribe('/large', { maxBatchSize: 50 });
    let down = false;
    const producer = fc.producer({
      prefix: 'kd',
      batchSize: 25,
      maxEvents: TOTAL,
      burst: BURST,
      ratePerSecond: RATE,
      requestTimeoutMs: 20_000,
    });
    producer.faultActive = () => down;

    await until(
      () => producer.sent >= BURST && receiver.posts.filter((p) => p.answered === 200).length >= 5,
      120_000,
      'load before the crash',
    );
    const inFlightAtCrash = ledger.outstanding(receiver.posts);
    const first = devServerPid(fc.dataDir)!;
    down = true;
    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');

    // The same process starts a new dev server (its log says so); until then /readyz is not 200.
    await until(
      () => logTimes(service.output(), 'temporal dev server restarted').length > 0,
      60_000,
      'the dev server restarted',
    );
    const restartedAt = logTimes(service.output(), 'temporal dev server restarted')[0]!;
    const second = devServerPid(fc.dataDir);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    await until(
      async () => {
        const res = await fetch(`${fc.url}/readyz`, { signal: AbortSignal.timeout(READYZ_TIMEOUT_MS) }).catch(
          () => null,
        );
        return res?.status === 200;
      },
      120_000,
      'readyz 200 again',
    );
    down = false;
    const recoveredAt = Date.now();
    // Publishes went on meanwhile: each is a commit to the store, and the wakes it owes wait there
    // for the reconciler. Every one of them is in the ledger, so the drain checks them too.

    // The whole load is published before the drain starts, so every run checks TOTAL events.
    await producer.waitForAccepted(TOTAL, 180_000);
    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 240_000,
      extra: {
        inFlightAtCrash,
        devServerRestartedAfterMs: restartedAt - killedAt,
        readyAgainAfterMs: recoveredAt - killedAt,
        acceptedWhileDown: producer.acceptedDuringFault,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(ledger.accepted.length).toBe(TOTAL);
    expect(verdict.total.delivered).toBe(TOTAL * fc.subscriptions.length);
    // One process all along: it was never restarted.
    expect(alive(service.pid)).toBe(true);

    expect(await service.stop()).toBe(0);
  });
});
