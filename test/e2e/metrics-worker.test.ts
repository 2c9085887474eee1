import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/global-setup';
import { TestReceiver } from '../support/receiver';
import { sampleValue, scrapeUntil } from '../support/scrape';
import { api, spawnService, waitForStatus } from '../support/service-process';
import { devServerAddress, uniqueTaskQueue } from '../support/temporal';

const TOKEN = 'scrape-token-0123456789abcdef';
const API_KEY = 'hk_metrics_worker_0123456789abcdef';

describe('metrics of a --worker-only process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-metrics-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves its delivery counts on METRICS_PORT (token required) and the SDK core metrics on TEMPORAL_METRICS_BIND', async () => {
    const [metricsPort, corePort, apiPort] = [await freePort(), await freePort(), await freePort()];
    // The worker is given a PORT this test holds: were it to listen there, it would fail to start.
    // (A port freed and left free could be taken by another test's process meanwhile.)
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const workerApiPort = (held.address() as { port: number }).port;
    const shared = {
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('metrics-worker'),
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
      API_KEYS: `acme:${API_KEY}`,
    };
    const proc = spawnService(
      {
        ...shared,
        PORT: String(workerApiPort),
        METRICS_PORT: String(metricsPort),
        METRICS_TOKEN: TOKEN,
        TEMPORAL_METRICS_BIND: `127.0.0.1:${corePort}`,
      },
      ['--worker-only'],
    );
    // The events come in through an API process on the same store, as in production.
    const apiProc = spawnService({ ...shared, PORT: String(apiPort) }, ['--api-only']);
    const receiver = await TestReceiver.start();
    const base = `http://127.0.0.1:${apiPort}`;
    const call = (path: string, body: unknown) => api(base, API_KEY, 'POST', path, body);
    try {
      const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      await waitForStatus(metricsUrl, 401, 60_000, proc);
      await waitForStatus(`${base}/readyz`, 200, 60_000, apiProc);
      const auth = { authorization: `Bearer ${TOKEN}` };

      const sub = await call('/v1/subscriptions', { url: receiver.url, eventTypes: ['*'] });
      expect(sub.status).toBe(201);
      const published = await call('/v1/events', {
        events: [1, 2, 3].map((n) => ({ type: 'order.created', data: { n } })),
      });
      expect(published.status).toBe(202);
      await receiver.waitFor(() => receiver.eventIds().length >= 3);
      const s = await scrapeUntil(
        metricsUrl,
        (s) => (sampleValue(s, 'hookline_events_delivered_total') ?? 0) >= 3,
        30_000,
        auth,
      );
      expect(sampleValue(s, 'hookline_events_delivered_total')).toBe(3);
      expect(sampleValue(s, 'hookline_delivery_attempts_total', { outcome: 'success' })).toBe(
        receiver.requests.length,
      );
      const removed = await fetch(`${base}/v1/subscriptions/${sub.body.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(removed.status).toBe(204);

      // The SDK core's own exporter: worker task metrics, named temporal_*.
      const core = await scrapeUntil(`http://127.0.0.1:${corePort}/metrics`, (s) =>
        s.some((x) => x.name.startsWith('temporal_') && x.labels.task_queue === shared.TEMPORAL_TASK_QUEUE),
      );
      expect(core.some((x) => x.name.startsWith('temporal_workflow_task'))).toBe(true);

      // No API in this mode: it started with its PORT taken, and never said it listened.
      expect(proc.child.exitCode).toBeNull();
      expect(proc.output()).not.toContain('API listening');
    } finally {
      await receiver.close();
      held.close();
      proc.child.kill('SIGTERM');
      apiProc.child.kill('SIGTERM');
      const exited = await proc.exited;
      if (exited !== 0) console.log(proc.output().slice(-4000));
      expect(exited).toBe(0);
      const apiExited = await apiProc.exited;
      if (apiExited !== 0) console.log(apiProc.output().slice(-4000));
      expect(apiExited).toBe(0);
    }
  });
});
