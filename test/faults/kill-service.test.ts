import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './support/env';
import { drainAndCheck } from './support/drain';
import { Ledger } from './support/ledger';
import { Producer } from './support/producer';
import { FaultReceiver } from './support/receiver';
import {
  alive,
  devServerPid,
  killGroup,
  servicePorts,
  spawnFaultService,
  subscribe,
  waitForStatus,
  type ServiceProcess,
} from './support/service';

const KEY = 'faults-kill-service-key-0123456789';
/** Events accepted before the first crash; with a slow receiver most of them are still queued. */
const BEFORE_CRASH = 600;
const TOTAL = 800;
/** Deliveries accepted and not yet acknowledged when the first crash comes (issue #8: 500+). */
const IN_FLIGHT = 500;

describe('SIGKILL of the whole service under load, then a restart on the same DATA_DIR', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-faults-kill-'));
  let receiver: FaultReceiver;
  let service: ServiceProcess | null = null;
  const started: ServiceProcess[] = [];

  afterAll(async () => {
    Producer.abortAll();
    for (const s of started) killGroup(s.pid);
    const leftover = devServerPid(dataDir);
    if (leftover && alive(leftover)) process.kill(leftover, 'SIGKILL');
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every accepted event once in order, duplicates only as whole re-sent batches', async () => {
    const startedAt = Date.now();
    const ports = await servicePorts();
    const env = {
      DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_DEV_PORT: String(ports.dev),
      TEMPORAL_UI_PORT: String(ports.ui),
      TEMPORAL_ADDRESS: '',
      API_KEYS: `faults:${KEY}`,
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    };
    const baseUrl = `http://127.0.0.1:${ports.api}`;
    const start = async () => {
      const s = spawnFaultService(env);
      started.push(s);
      await waitForStatus(`${baseUrl}/readyz`, 200, 180_000, s);
      return s;
    };

    // A slow receiver: 300 ms per POST, so hundreds of events wait in the queues when the crash comes.
    receiver = await FaultReceiver.start();
    receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: 300 });
    service = await start();
    const subs = [
      await subscribe(baseUrl, KEY, `${receiver.url}/small`, { maxBatchSize: 10 }),
      await subscribe(baseUrl, KEY, `${receiver.url}/large`, { maxBatchSize: 50 }),
    ];
    const ledger = new Ledger();
    let down = false;
    const producer = new Producer({
      baseUrl: () => baseUrl,
      apiKey: KEY,
      prefix: 'ks',
      batchSize: 50,
      maxEvents: TOTAL,
      subscriptions: () => subs,
      ledger,
      requestTimeoutMs: 20_000,
    }).start();
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
    const orphan = devServerPid(dataDir)!;
    down = true;
    service.child.kill('SIGKILL');
    expect(await service.exited).toBe('SIGKILL');
    expect(alive(orphan)).toBe(true);
    service = await start();
    down = false;
    expect(alive(orphan)).toBe(false);

    // Crash 2: the whole process group (node and dev server at once, as a container kill does).
    const acked = receiver.posts.length;
    await until(() => receiver.posts.length >= acked + 20, 120_000, 'progress after the first restart');
    const inFlightAtCrash2 = ledger.outstanding(receiver.posts);
    down = true;
    killGroup(service.pid);
    expect(await service.exited).toBe('SIGKILL');
    const restartedAt = Date.now();
    service = await start();
    down = false;
    const recoveredAt = Date.now();

    // The whole load is published before the drain starts, so every run checks TOTAL events.
    await producer.waitForAccepted(TOTAL, 180_000);
    const verdict = await drainAndCheck({
      name: 'kill-service',
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
        inFlightAtCrash1,
        inFlightAtCrash2,
        restartMs: recoveredAt - restartedAt,
        acceptedWhileDown: producer.acceptedDuringFault,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.delivered).toBe(TOTAL * subs.length);
    expect(inFlightAtCrash1).toBeGreaterThanOrEqual(IN_FLIGHT);

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });
});
