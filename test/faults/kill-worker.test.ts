import { sleep, until } from './support/env';
import { startFaultCase, type FaultCase } from './support/harness';

const TOTAL = 800;
/** Events published at once, before the pacing starts (the backlog the crash finds). */
const BURST = 300;
/** Events per second after the burst: 25-event requests keep coming while the worker is dead. */
const RATE = 20;
/** ms the worker stays dead while the API keeps taking events. */
const WORKER_DOWN_MS = 25_000;

describe('SIGKILL of the worker alone while the API keeps accepting', () => {
  let fc: FaultCase;
  /** Publish requests answered 202 while the worker was dead (set by the first test). */
  let requestsAcceptedWhileDown: number | null = null;

  afterAll(async () => {
    await fc?.cleanup();
  });

  it('loses nothing accepted while the worker is dead; a new worker drains everything in order', async () => {
    fc = await startFaultCase({ name: 'kill-worker', service: { kind: 'processes' } });
    const { ledger, receiver } = fc;
    receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: 100 });
    let worker = await fc.start('worker');
    await fc.start('api');
    await fc.subscribe('/small', { maxBatchSize: 5 });
    await fc.subscribe('/large', { maxBatchSize: 20 });

    let down = false;
    const producer = fc.producer({
      prefix: 'kw',
      batchSize: 25,
      maxEvents: TOTAL,
      burst: BURST,
      ratePerSecond: RATE,
      requestTimeoutMs: 60_000,
    });
    producer.faultActive = () => down;

    await until(
      () => producer.sent >= BURST && receiver.posts.filter((p) => p.answered === 200).length >= 10,
      120_000,
      'load before the crash',
    );
    const inFlightAtCrash = ledger.outstanding(receiver.posts);
    down = true;
    worker.kill();
    expect(await worker.exited).toBe('SIGKILL');
    const postsAtCrash = receiver.posts.length;
    await sleep(WORKER_DOWN_MS);
    // What the API accepted while no worker ran (see the test below); nothing reached the
    // receiver meanwhile.
    const acceptedWhileDown = producer.acceptedDuringFault;
    requestsAcceptedWhileDown = acceptedWhileDown;
    const postsWhileDown = receiver.posts.length - postsAtCrash;
    expect(postsWhileDown).toBe(0);

    const restartedAt = Date.now();
    worker = await fc.start('worker');
    down = false;
    const recoveredAt = Date.now();

    // The whole load is published before the drain starts, so every case checks TOTAL events.
    await producer.waitForAccepted(TOTAL, 180_000);
    const verdict = await fc.drain({
      recoveredAt,
      timeoutMs: 240_000,
      extra: {
        inFlightAtCrash,
        workerDownMs: WORKER_DOWN_MS,
        acceptedWhileDown,
        eventsAcceptedWhileDown: acceptedWhileDown * 25,
        postsWhileDown,
        workerRestartMs: recoveredAt - restartedAt,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(ledger.accepted.length).toBe(TOTAL);
    expect(verdict.total.delivered).toBe(TOTAL * fc.subscriptions.length);
  });

  /*
   * The API keeps accepting while no worker polls: a publish is a commit to the store, which needs no
   * worker, and a wake of an idle subscriber is a signal Temporal keeps for the next worker. At RATE
   * events/s in 25-event requests, 25 s hold about 20 requests; five would be far too few.
   */
  it('answers publishes with 202 while no worker polls', () => {
    expect(requestsAcceptedWhileDown).not.toBeNull();
    expect(requestsAcceptedWhileDown).toBeGreaterThanOrEqual(5);
  });
});
