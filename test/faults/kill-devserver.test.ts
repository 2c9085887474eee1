import { sleep, until } from './support/env';
import { startFaultCase, type FaultCase } from './support/harness';
import { alive, devServerPid } from './support/service';

const TOTAL = 600;
/** Events published at once, before the pacing starts (the backlog the crash finds). */
const BURST = 300;
/** Events per second after the burst: publishing goes on while Temporal is down. */
const RATE = 20;
/** ms the service runs without its dev server before it is restarted. */
const DOWN_MS = 10_000;
/** ms a SIGTERM may take before the restart falls back to SIGKILL. */
const STOP_GRACE_MS = 20_000;
/** ms a readiness probe waits for an answer (a Kubernetes probe's default is 1 s; this is generous). */
const READYZ_TIMEOUT_MS = 5_000;

describe('SIGKILL of the embedded Temporal dev server, then a restart on the same SQLite file', () => {
  let fc: FaultCase;

  afterAll(async () => {
    await fc?.cleanup();
  });

  it('loses nothing accepted: a restart of the service on the same SQLite file drains every queue', async () => {
    fc = await startFaultCase({ name: 'kill-devserver', service: { kind: 'embedded' } });
    const { ledger, receiver } = fc;
    let service = await fc.start('all');
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

    // The service stays up without Temporal: not ready (503, or no answer: see readyzWhileDown). It
    // does not restart the dev server itself.
    let readyzWhileDown = '';
    await until(
      async () => {
        const res = await fetch(`${fc.url}/readyz`, {
          signal: AbortSignal.timeout(READYZ_TIMEOUT_MS),
        }).catch(() => null);
        readyzWhileDown = res ? String(res.status) : `no answer in ${READYZ_TIMEOUT_MS} ms`;
        return res?.status !== 200;
      },
      60_000,
      'readyz no longer 200',
    );
    const acceptedAtKill = ledger.accepted.length;
    await sleep(DOWN_MS);
    // Publishes go on without Temporal: each is a commit to the store, and the wakes it owes wait
    // there for the reconciler. Every one of them is in the ledger, so the drain below checks that
    // what was answered 202 while Temporal was down is delivered too.
    const acceptedWhileTemporalDown = ledger.accepted.length - acceptedAtKill;
    expect(acceptedWhileTemporalDown).toBeGreaterThan(0);
    expect(alive(first)).toBe(false);
    const postsWhileDown = receiver.posts.filter((p) => p.at > killedAt + 1_000).length;

    // The operator's (or supervisor's) restart: SIGTERM, SIGKILL when it does not stop in time.
    const stopped = await service.stop(STOP_GRACE_MS);
    const restartedAt = Date.now();
    service = await fc.start('all', { port: service.port! });
    down = false;
    const recoveredAt = Date.now();
    expect(devServerPid(fc.dataDir)).not.toBe(first);

    // The whole load is published before the drain starts, so every run checks TOTAL events.
    await producer.waitForAccepted(TOTAL, 180_000);
    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 240_000,
      extra: {
        inFlightAtCrash,
        devServerDownMs: recoveredAt - killedAt,
        serviceRestartMs: recoveredAt - restartedAt,
        shutdownWithoutTemporal: stopped === 'SIGKILL' ? `no exit in ${STOP_GRACE_MS} ms` : stopped,
        acceptedWhileDown: producer.acceptedDuringFault,
        eventsAcceptedWhileTemporalDown: acceptedWhileTemporalDown,
        postsWhileDown,
        readyzWhileDown,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(ledger.accepted.length).toBe(TOTAL);
    expect(verdict.total.delivered).toBe(TOTAL * fc.subscriptions.length);

    expect(await service.stop()).toBe(0);
  });
});
