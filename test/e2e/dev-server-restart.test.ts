import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESTART_BACKOFF_MS } from '../../src/temporal/dev-server';
import { freePort } from '../support/global-setup';
import { TestReceiver } from '../support/receiver';
import {
  alive,
  api,
  devServerPid,
  eventually,
  exitWithin,
  spawnService,
  waitForStatus,
} from '../support/service-process';

const API_KEY = 'hk_devserver_restart_0123456789ab';

/** `npm start` with its embedded dev server on ports and a DATA_DIR of its own. */
async function startEmbedded(dataDir: string) {
  const [apiPort, devPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const proc = spawnService({
    DATA_DIR: dataDir,
    PORT: String(apiPort),
    TEMPORAL_DEV_PORT: String(devPort),
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_ADDRESS: '',
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    API_KEYS: `acme:${API_KEY}`,
  });
  const base = `http://127.0.0.1:${apiPort}`;
  await waitForStatus(`${base}/readyz`, 200, 90_000, proc);
  const post = (path: string, body: unknown) => api(base, API_KEY, 'POST', path, body);
  return { proc, base, post, devServerPid: () => devServerPid(dataDir)! };
}

describe('the embedded dev server, killed under a running service', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-devserver-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('is started again on the same file: the service becomes ready and delivers what it accepted', async () => {
    const receiver = await TestReceiver.start();
    const service = await startEmbedded(dataDir());
    try {
      expect((await service.post('/v1/subscriptions', { url: receiver.url, eventTypes: ['*'] })).status).toBe(
        201,
      );
      const publish = (id: string) => service.post('/v1/events', { id, type: 'order.created', data: { id } });
      expect((await publish('before')).status).toBe(202);
      await receiver.waitFor(() => receiver.eventIds().includes('before'));

      const killed = service.devServerPid();
      process.kill(killed, 'SIGKILL');
      // Accepted while Temporal is down (stored; the wake is owed) or refused with 503: never lost.
      const during = (await publish('during')).status;
      expect([202, 503]).toContain(during);

      expect(
        await eventually(() => service.proc.output().includes('temporal dev server restarted'), 60_000),
      ).toBe(true);
      expect(service.proc.output()).toContain('the temporal dev server exited; restarting it');
      const restarted = service.devServerPid();
      expect(restarted).not.toBe(killed);
      expect(alive(restarted)).toBe(true);
      await waitForStatus(`${service.base}/readyz`, 200, 90_000, service.proc);

      expect((await publish('after')).status).toBe(202);
      const owed = during === 202 ? ['before', 'during', 'after'] : ['before', 'after'];
      await receiver.waitFor(() => owed.every((id) => receiver.eventIds().includes(id)), 90_000);
      // In order, each once.
      expect(receiver.eventIds()).toEqual(owed);

      service.proc.child.kill('SIGTERM');
      expect(await service.proc.exited).toBe(0);
      expect(alive(restarted)).toBe(false);
    } finally {
      service.proc.child.kill('SIGKILL');
      await receiver.close();
    }
  });

  it('stops the service with exit code 1 when it cannot be started again', async () => {
    const dir = dataDir();
    const service = await startEmbedded(dir);
    try {
      // Its database replaced by a directory: the running server keeps the file it opened, and
      // every restart fails to open one.
      for (const file of ['temporal.db', 'temporal.db-wal', 'temporal.db-shm'])
        rmSync(join(dir, file), { force: true });
      mkdirSync(join(dir, 'temporal.db'));
      process.kill(service.devServerPid(), 'SIGKILL');

      expect(await exitWithin(service.proc, 90_000)).toBe(1);
      const out = service.proc.output();
      expect(out.match(/the temporal dev server did not come back/g)).toHaveLength(RESTART_BACKOFF_MS.length);
      expect(out).toContain('the temporal dev server keeps exiting; giving up');
      expect(out).toContain('shutting down after a failure');
    } finally {
      service.proc.child.kill('SIGKILL');
    }
  });
});
