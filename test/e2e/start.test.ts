import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../support/global-setup';
import { spawnService, waitForStatus } from '../support/service-process';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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
