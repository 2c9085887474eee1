import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/global-setup';
import { devServerAddress, uniqueTaskQueue } from '../support/temporal';
import { sleep, until } from './support/env';
import { drainAndCheck } from './support/drain';
import { Ledger } from './support/ledger';
import { Producer } from './support/producer';
import { FaultReceiver } from './support/receiver';
import {
  killGroup,
  spawnFaultService,
  subscribe,
  waitForStatus,
  type ServiceProcess,
} from './support/service';

const KEY = 'faults-kill-worker-key-0123456789';
const TOTAL = 800;
/** ms the worker stays dead while the API keeps taking events. */
const WORKER_DOWN_MS = 25_000;

describe('SIGKILL of the worker alone while the API keeps accepting', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-faults-worker-'));
  let receiver: FaultReceiver;
  const started: ServiceProcess[] = [];
  /** Publish requests answered 202 while the worker was dead (set by the first test). */
  let requestsAcceptedWhileDown: number | null = null;

  afterAll(async () => {
    Producer.abortAll();
    for (const s of started) killGroup(s.pid);
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing accepted while the worker is dead; a new worker drains everything in order', async () => {
    const startedAt = Date.now();
    const port = await freePort();
    const env = {
      DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('faults-worker'),
      API_KEYS: `faultsw-${randomBytes(4).toString('hex')}:${KEY}`,
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
      LOG_LEVEL: 'info',
    };
    const baseUrl = `http://127.0.0.1:${port}`;
    const startWorker = async () => {
      const w = spawnFaultService(env, ['--worker-only']);
      started.push(w);
      await until(() => w.output().includes('worker polling'), 120_000, 'worker polling');
      return w;
    };

    receiver = await FaultReceiver.start();
    receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: 100 });
    let worker = await startWorker();
    const api = spawnFaultService(env, ['--api-only']);
    started.push(api);
    await waitForStatus(`${baseUrl}/readyz`, 200, 120_000, api);
    const subs = [
      await subscribe(baseUrl, KEY, `${receiver.url}/small`, { maxBatchSize: 5 }),
      await subscribe(baseUrl, KEY, `${receiver.url}/large`, { maxBatchSize: 20 }),
    ];

    const ledger = new Ledger();
    let down = false;
    const producer = new Producer({
      baseUrl: () => baseUrl,
      apiKey: KEY,
      prefix: 'kw',
      batchSize: 25,
      maxEvents: TOTAL,
      subscriptions: () => subs,
      ledger,
      requestTimeoutMs: 60_000,
    }).start();
    producer.faultActive = () => down;

    await until(
      () => producer.sent >= 300 && receiver.posts.filter((p) => p.answered === 200).length >= 10,
      120_000,
      'load before the crash',
    );
    const inFlightAtCrash = ledger.outstanding(receiver.posts);
    down = true;
    killGroup(worker.pid);
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
    worker = await startWorker();
    down = false;
    const recoveredAt = Date.now();

    // The whole load is published before the drain starts, so every case checks TOTAL events.
    await producer.waitForAccepted(TOTAL, 180_000);
    const verdict = await drainAndCheck({
      name: 'kill-worker',
      ledger,
      receiver,
      producer,
      baseUrl,
      apiKey: KEY,
      subscriptions: subs,
      recoveredAt,
      startedAt,
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
    expect(verdict.total.delivered).toBe(TOTAL * subs.length);
  });

  /*
   * The API keeps accepting while no worker polls: a subscriber that misses the update deadline gets
   * its events by signal (durable without a worker) for a while, and routing falls back to the cached
   * table when the registry's query does not answer. Five requests in 25 s would be far too few.
   */
  it('answers publishes with 202 while no worker polls', () => {
    expect(requestsAcceptedWhileDown).not.toBeNull();
    expect(requestsAcceptedWhileDown).toBeGreaterThanOrEqual(5);
  });
});
