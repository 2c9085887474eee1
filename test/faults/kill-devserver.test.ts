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

const KEY = 'faults-kill-devserver-key-0123456789';
const TOTAL = 600;

describe('SIGKILL of the embedded Temporal dev server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-faults-devserver-'));
  let receiver: FaultReceiver;
  let service: ServiceProcess | null = null;

  afterAll(async () => {
    if (service) killGroup(service.pid);
    const leftover = devServerPid(dataDir);
    if (leftover && alive(leftover)) process.kill(leftover, 'SIGKILL');
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is restarted by the service on the same SQLite file; nothing accepted is lost', async () => {
    const startedAt = Date.now();
    const ports = await servicePorts();
    const baseUrl = `http://127.0.0.1:${ports.api}`;
    service = spawnFaultService({
      DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_DEV_PORT: String(ports.dev),
      TEMPORAL_UI_PORT: String(ports.ui),
      TEMPORAL_ADDRESS: '',
      API_KEYS: `faults:${KEY}`,
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    });
    await waitForStatus(`${baseUrl}/readyz`, 200, 180_000, service);

    receiver = await FaultReceiver.start();
    receiver.behave = () => ({ kind: 'answer', status: 200, delayMs: 100 });
    const subs = [
      await subscribe(baseUrl, KEY, `${receiver.url}/small`, { maxBatchSize: 10 }),
      await subscribe(baseUrl, KEY, `${receiver.url}/large`, { maxBatchSize: 50 }),
    ];
    const ledger = new Ledger();
    let down = false;
    const producer = new Producer({
      baseUrl: () => baseUrl,
      apiKey: KEY,
      prefix: 'kd',
      batchSize: 25,
      maxEvents: TOTAL,
      subscriptions: () => subs,
      ledger,
      requestTimeoutMs: 20_000,
    }).start();
    producer.faultActive = () => down;

    await until(
      () => producer.sent >= 300 && receiver.posts.filter((p) => p.answered === 200).length >= 5,
      120_000,
      'load before the crash',
    );
    const inFlightAtCrash = ledger.outstanding(receiver.posts);
    const first = devServerPid(dataDir)!;
    down = true;
    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');

    // The service notices, starts a new dev server on the same file and ports, and is ready again.
    await until(
      () => {
        const pid = devServerPid(dataDir);
        return pid !== null && pid !== first && alive(pid);
      },
      60_000,
      'a new dev server',
    );
    await waitForStatus(`${baseUrl}/readyz`, 200, 120_000, service);
    down = false;
    const recoveredAt = Date.now();
    expect(service.child.exitCode).toBeNull();

    const verdict = await drainAndCheck({
      name: 'kill-devserver',
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
        devServerDownMs: recoveredAt - killedAt,
        acceptedWhileDown: producer.acceptedDuringFault,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(verdict.total.delivered).toBe(TOTAL * subs.length);

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = null;
  });
});
