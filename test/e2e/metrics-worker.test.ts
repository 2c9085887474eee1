import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/global-setup';
import { TestReceiver } from '../support/receiver';
import { sampleValue, scrapeUntil } from '../support/scrape';
import { spawnService, waitForStatus } from '../support/service-process';
import { enqueueAll, makeEvents, makeSubscription, startSubscriber } from '../support/subscriber';
import { connectDevServer, devServerAddress, uniqueTaskQueue } from '../support/temporal';

const TOKEN = 'scrape-token-0123456789abcdef';

describe('metrics of a --worker-only process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookline-metrics-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves its delivery counts on METRICS_PORT (token required) and the SDK core metrics on TEMPORAL_METRICS_BIND', async () => {
    const [metricsPort, corePort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const taskQueue = uniqueTaskQueue('metrics-worker');
    const proc = spawnService(
      {
        DATA_DIR: dataDir,
        PORT: String(apiPort),
        TEMPORAL_ADDRESS: devServerAddress(),
        TEMPORAL_TASK_QUEUE: taskQueue,
        ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
        METRICS_PORT: String(metricsPort),
        METRICS_TOKEN: TOKEN,
        TEMPORAL_METRICS_BIND: `127.0.0.1:${corePort}`,
      },
      ['--worker-only'],
    );
    const temporal = await connectDevServer();
    const receiver = await TestReceiver.start();
    try {
      const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      await waitForStatus(metricsUrl, 401, 60_000, proc);
      const auth = { authorization: `Bearer ${TOKEN}` };

      const sub = makeSubscription({ url: receiver.url });
      const handle = await startSubscriber(temporal.client, taskQueue, sub);
      await enqueueAll(handle, makeEvents(3, 'w'));
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
      await handle.terminate();

      // The SDK core's own exporter: worker task metrics, named temporal_*.
      const core = await scrapeUntil(`http://127.0.0.1:${corePort}/metrics`, (s) =>
        s.some((x) => x.name.startsWith('temporal_') && x.labels.task_queue === taskQueue),
      );
      expect(core.some((x) => x.name.startsWith('temporal_workflow_task'))).toBe(true);

      // No API in this mode.
      await expect(fetch(`http://127.0.0.1:${apiPort}/healthz`)).rejects.toThrow();
    } finally {
      await receiver.close();
      await temporal.close();
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
  });
});
