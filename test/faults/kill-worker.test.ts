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

  afterAll(async () => {
    for (const s of started) killGroup(s.pid);
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps answering 202, and a new worker drains everything in order', async () => {
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
    // The API took events while no worker ran; nothing reached the receiver meanwhile.
    const acceptedWhileDown = producer.acceptedDuringFault;
    expect(acceptedWhileDown).toBeGreaterThan(0);
    const postsWhileDown = receiver.posts.length - postsAtCrash;

    const restartedAt = Date.now();
    worker = await startWorker();
    down = false;
    const recoveredAt = Date.now();

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
    expect(verdict.total.delivered).toBe(TOTAL * subs.length);
  });
});
