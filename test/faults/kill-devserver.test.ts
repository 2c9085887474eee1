import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, until } from './support/env';
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
/** ms the service runs without its dev server before it is restarted. */
const DOWN_MS = 10_000;
/** ms a SIGTERM may take before the restart falls back to SIGKILL. */
const STOP_GRACE_MS = 20_000;
/** ms a readiness probe waits for an answer (a Kubernetes probe's default is 1 s; this is generous). */
const READYZ_TIMEOUT_MS = 5_000;

describe('SIGKILL of the embedded Temporal dev server, then a restart on the same SQLite file', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-faults-devserver-'));
  let receiver: FaultReceiver;
  const started: ServiceProcess[] = [];

  afterAll(async () => {
    Producer.abortAll();
    for (const s of started) killGroup(s.pid);
    const leftover = devServerPid(dataDir);
    if (leftover && alive(leftover)) process.kill(leftover, 'SIGKILL');
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing accepted: a restart of the service on the same SQLite file drains every queue', async () => {
    const startedAt = Date.now();
    const ports = await servicePorts();
    const baseUrl = `http://127.0.0.1:${ports.api}`;
    const env = {
      DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_DEV_PORT: String(ports.dev),
      TEMPORAL_UI_PORT: String(ports.ui),
      TEMPORAL_ADDRESS: '',
      API_KEYS: `faults:${KEY}`,
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    };
    const start = async () => {
      const s = spawnFaultService(env);
      started.push(s);
      await waitForStatus(`${baseUrl}/readyz`, 200, 180_000, s);
      return s;
    };
    let service = await start();

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

    // The service stays up without Temporal: not ready (503, or no answer: see readyzWhileDown), and
    // publishes fail (the producer retries them), never answered 202 and dropped. It does not restart
    // the dev server itself.
    let readyzWhileDown = '';
    await until(
      async () => {
        const res = await fetch(`${baseUrl}/readyz`, {
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
    // At most the request in flight at the kill was answered 202 afterwards.
    expect(ledger.accepted.length - acceptedAtKill).toBeLessThanOrEqual(25);
    expect(alive(first)).toBe(false);
    const postsWhileDown = receiver.posts.filter((p) => p.at > killedAt + 1_000).length;

    // The operator's (or supervisor's) restart: SIGTERM, SIGKILL when it does not stop in time.
    service.child.kill('SIGTERM');
    const stopped = await Promise.race([service.exited, sleep(STOP_GRACE_MS).then(() => 'timeout')]);
    if (stopped === 'timeout') killGroup(service.pid);
    await service.exited;
    const restartedAt = Date.now();
    service = await start();
    down = false;
    const recoveredAt = Date.now();
    expect(devServerPid(dataDir)).not.toBe(first);

    // The whole load is published before the drain starts, so every run checks TOTAL events.
    await producer.waitForAccepted(TOTAL, 180_000);
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
        serviceRestartMs: recoveredAt - restartedAt,
        shutdownWithoutTemporal: stopped === 'timeout' ? `no exit in ${STOP_GRACE_MS} ms` : stopped,
        acceptedWhileDown: producer.acceptedDuringFault,
        postsWhileDown,
        readyzWhileDown,
      },
    });
    expect(verdict.violations).toEqual([]);
    expect(ledger.accepted.length).toBe(TOTAL);
    expect(verdict.total.delivered).toBe(TOTAL * subs.length);

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });
});
