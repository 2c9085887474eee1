import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../support/global-setup';
import {
  alive,
  eventually,
  exitWithin,
  processesMentioning,
  spawnNpm,
  spawnService,
  waitForStatus,
  type ServiceProcess,
} from '../support/service-process';
import { devServerAddress, uniqueTaskQueue } from '../support/temporal';

describe('npm start with the embedded dev server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-start-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('becomes ready, stops cleanly on SIGTERM, and keeps its workflows across a restart', async () => {
    const [apiPort, devPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      DATA_DIR: dataDir,
      PORT: String(apiPort),
      TEMPORAL_DEV_PORT: String(devPort),
      TEMPORAL_UI_PORT: String(uiPort),
      TEMPORAL_ADDRESS: '',
      API_KEYS: '',
    };

    const first = spawnService(env);
    await waitForStatus(`http://127.0.0.1:${apiPort}/readyz`, 200, 90_000, first);
    await waitForStatus(`http://127.0.0.1:${uiPort}/`, 200, 30_000, first);
    expect((await fetch(`http://127.0.0.1:${apiPort}/healthz`)).status).toBe(200);

    // The generated key is stored 0600 and printed once.
    const keyFile = join(dataDir, 'api-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain(readFileSync(keyFile, 'utf8').trim());

    const connection = await Connection.connect({ address: `127.0.0.1:${devPort}` });
    const client = new Client({ connection });
    // Event records are kept 7 days: the embedded server's namespace retention says so.
    const namespace = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(namespace.config?.workflowExecutionRetentionTtl?.seconds)).toBe(7 * 24 * 3600);
    await client.workflow.start('pingWorkflow', {
      taskQueue: 'hookline',
      workflowId: 'survives-restart',
      args: ['still here', 7 * 24 * 3600 * 1000],
    });
    await connection.close();

    const devServerPid = Number(readFileSync(join(dataDir, 'temporal.pid'), 'utf8'));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(alive(devServerPid)).toBe(false);
    expect(existsSync(join(dataDir, 'temporal.pid'))).toBe(false);

    const second = spawnService(env);
    try {
      await waitForStatus(`http://127.0.0.1:${apiPort}/readyz`, 200, 90_000, second);
      expect(second.output()).not.toContain('Hookline API key');
      const again = await Connection.connect({ address: `127.0.0.1:${devPort}` });
      const description = await new Client({ connection: again }).workflow
        .getHandle('survives-restart')
        .describe();
      expect(description.status.name).toBe('RUNNING');
      await again.close();
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});

describe('start-up with bad configuration', () => {
  it('exits non-zero with a message naming the bad setting', async () => {
    const proc = spawnService({ PORT: 'eighty', DATA_DIR: mkdtempSync(join(tmpdir(), 'hookline-bad-')) });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/Invalid configuration:\n\s+PORT:/);
  });
});

/**
 * What a start-up test spawned: its processes and DATA_DIRs, all ended and removed after each test,
 * whether it passed or not (a dev server is found by its DATA_DIR on its command line).
 */
function startupHarness() {
  const procs: (ServiceProcess & { servicePid?: () => number | null })[] = [];
  const dirs: string[] = [];
  const listeners: Server[] = [];
  afterEach(async () => {
    for (const proc of procs.splice(0)) {
      const pid = proc.servicePid?.();
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    }
    for (const dir of dirs.splice(0)) {
      for (const pid of processesMentioning(dir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    await Promise.all(listeners.splice(0).map((l) => new Promise((resolve) => l.close(resolve))));
  });
  return {
    dataDir(): string {
      const dir = mkdtempSync(join(tmpdir(), 'hookline-startup-'));
      dirs.push(dir);
      return dir;
    },
    /** Free API, dev server and Web UI ports, and a fresh DATA_DIR with the embedded dev server. */
    async env(): Promise<Record<string, string>> {
      return {
        DATA_DIR: this.dataDir(),
        PORT: String(await freePort()),
        TEMPORAL_DEV_PORT: String(await freePort()),
        TEMPORAL_UI_PORT: String(await freePort()),
        TEMPORAL_ADDRESS: '',
        API_KEYS: '',
      };
    },
    service(env: Record<string, string>, args: string[] = []) {
      const proc = spawnService(env, args);
      procs.push(proc);
      return proc;
    },
    npm(script: string, env: Record<string, string>) {
      const proc = spawnNpm(script, env);
      procs.push(proc);
      return proc;
    },
    /** Something else listening on `port` (every interface unless `host`). */
    async occupy(port: number, host?: string): Promise<void> {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen({ port, host }, resolve));
      listeners.push(server);
    },
  };
}

/** The embedded dev servers of `dataDir` still running. */
const devServersOf = (dataDir: string) => processesMentioning(join(dataDir, 'temporal.db'));

describe('start-up with a port already taken', () => {
  const harness = startupHarness();

  it('refuses a TEMPORAL_DEV_PORT where another Temporal server listens, naming it, instead of joining it', async () => {
    const env = await harness.env();
    const otherServerPort = devServerAddress().split(':')[1]!;
    const proc = harness.service({ ...env, TEMPORAL_DEV_PORT: otherServerPort });
    expect(await exitWithin(proc, 30_000)).toBe(1);
    expect(proc.output()).toContain(
      `hookline failed to start: port ${otherServerPort} (TEMPORAL_DEV_PORT) is already in use: another Temporal server? set TEMPORAL_DEV_PORT or TEMPORAL_ADDRESS`,
    );
    expect(proc.output()).not.toContain('API listening');
    expect(devServersOf(env.DATA_DIR!)).toEqual([]);
  });

  it('refuses a taken TEMPORAL_UI_PORT, naming it', async () => {
    const env = await harness.env();
    await harness.occupy(Number(env.TEMPORAL_UI_PORT), '127.0.0.1');
    const proc = harness.service(env);
    expect(await exitWithin(proc, 30_000)).toBe(1);
    expect(proc.output()).toContain(`port ${env.TEMPORAL_UI_PORT} (TEMPORAL_UI_PORT) is already in use`);
    expect(devServersOf(env.DATA_DIR!)).toEqual([]);
  });

  it('refuses a taken PORT at once with one line naming it, and starts no dev server', async () => {
    const env = await harness.env();
    await harness.occupy(Number(env.PORT));
    const proc = harness.service(env);
    expect(await exitWithin(proc, 15_000)).toBe(1);
    expect(proc.output().trim()).toBe(`hookline failed to start: port ${env.PORT} (PORT) is already in use`);
    expect(devServersOf(env.DATA_DIR!)).toEqual([]);
  });

  it('stops the dev server it started when a later start-up step fails', async () => {
    const env = await harness.env();
    // The API key file cannot be read or written: start-up fails after the dev server and worker are up.
    mkdirSync(join(env.DATA_DIR!, 'api-key'));
    const proc = harness.service(env);
    expect(await exitWithin(proc, 90_000)).toBe(1);
    expect(proc.output()).toContain('temporal dev server started');
    expect(devServersOf(env.DATA_DIR!)).toEqual([]);
  });
});

describe('stop signals', () => {
  const harness = startupHarness();

  it('SIGTERM to the `npm start` process stops node and the dev server within 15 s', async () => {
    const env = await harness.env();
    const npm = harness.npm('start', env);
    await waitForStatus(`http://127.0.0.1:${env.PORT}/readyz`, 200, 90_000, npm);
    const nodePid = npm.servicePid();
    const devServerPid = Number(readFileSync(join(env.DATA_DIR!, 'temporal.pid'), 'utf8'));
    expect(nodePid).not.toBeNull();
    expect(alive(devServerPid)).toBe(true);

    npm.child.kill('SIGTERM');
    const gone = await eventually(() => !alive(nodePid!) && !alive(devServerPid), 15_000);
    expect({ gone, output: gone ? '' : npm.output() }).toEqual({ gone: true, output: '' });
    expect(await exitWithin(npm, 5_000)).toBe(0);
  });

  it.each([
    ['start:api', '/healthz'],
    ['start:worker', '/metrics'],
  ])('SIGTERM to `npm run %s` stops its node process within 15 s', async (script, path) => {
    const port = await freePort();
    const npm = harness.npm(script, {
      DATA_DIR: harness.dataDir(),
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('npm-signal'),
      API_KEYS: `npm-signal-${Date.now()}:npm-signal-key-0123456789`,
      PORT: String(port),
      METRICS_PORT: String(script === 'start:worker' ? port : await freePort()),
    });
    await waitForStatus(`http://127.0.0.1:${port}${path}`, 200, 90_000, npm);
    const nodePid = npm.servicePid();
    expect(nodePid).not.toBeNull();

    npm.child.kill('SIGTERM');
    expect(await eventually(() => !alive(nodePid!), 15_000)).toBe(true);
    expect(await exitWithin(npm, 5_000)).toBe(0);
  });

  it('SIGTERM while start-up still waits for Temporal stops it there', async () => {
    const env = await harness.env();
    // Nothing listens there: start-up keeps retrying the connection.
    const proc = harness.service({ ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    // In the wait for Temporal: its first failed attempt is logged (a fixed pause was too short on a
    // loaded machine: the signal came before the handlers were installed).
    expect(await eventually(() => proc.output().includes('connecting to Temporal'), 60_000)).toBe(true);
    expect(proc.child.exitCode).toBeNull();
    proc.child.kill('SIGTERM');
    expect(await exitWithin(proc, 15_000)).toBe(0);
    expect(proc.output()).toContain('stopped during start-up');
  });

  it('SIGTERM right after the dev server was spawned stops it too', async () => {
    const env = await harness.env();
    const proc = harness.service(env);
    expect(await eventually(() => existsSync(join(env.DATA_DIR!, 'temporal.pid')), 60_000, 20)).toBe(true);
    proc.child.kill('SIGTERM');
    expect(await exitWithin(proc, 15_000)).toBe(0);
    expect(devServersOf(env.DATA_DIR!)).toEqual([]);
  });
});
