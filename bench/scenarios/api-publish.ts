/**
 * The REST API in front: the real app (startServer) in this process, against the bench's server and
 * worker, 10 subscriptions to the receiver. Figures: publish→202 latency of one event per request
 * (sequential), and events/s accepted (202) with batches of 100 from several concurrent producers.
 */
import { Client } from '@temporalio/client';
import { startServer } from '../../src/api/app';
import { SubscriptionService } from '../../src/api/subscriptions-service';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createTargetGuard, parseAllowedNetworks } from '../../src/net/ssrf';
import { Publisher } from '../../src/publish/publisher';
import { newLatencyHistogram, nowMs } from '../receiver';
import { log, pool, summarizeLatency, type CaseResult, type Scenario } from '../support';

const KEY = 'bench-key-0123456789abcdef';

export const apiPublish: Scenario = async ({ env, quick }) => {
  const tenant = `bench-${Date.now().toString(36)}`;
  const config = loadConfig({
    API_KEYS: `${tenant}:${KEY}`,
    TEMPORAL_ADDRESS: env.temporal.address,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    MAX_BACKLOG: '100000',
    MAX_BACKLOG_BYTES: String(1024 * 1024),
    LOG_LEVEL: 'silent',
  });
  const client = new Client({ connection: env.client.connection, namespace: env.namespace });
  const logger = createLogger('silent');
  const publisher = new Publisher({ client, taskQueue: env.taskQueue, logger });
  const subscriptions = new SubscriptionService({
    client,
    config,
    guard: createTargetGuard({ allowed: parseAllowedNetworks(config.allowedTargetNetworks) }),
    publisher,
  });
  const server = await startServer({
    config,
    client,
    logger,
    apiKeys: config.apiKeys!,
    publisher,
    subscriptions,
    port: 0,
    workerReady: () => Promise.resolve(true),
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as { id?: string }) : {};
  };

  const results: CaseResult[] = [];
  const ids: string[] = [];
  try {
    env.receiver.reset({ delayMs: 0, trackIds: false });
    for (let i = 0; i < 10; i++) {
      ids.push(
        (
          await call('POST', '/v1/subscriptions', {
            url: env.receiver.url(`/api/${tenant}/${i}`),
            eventTypes: ['bench.*'],
          })
        ).id!,
      );
    }

    const single = quick ? 100 : 400;
    log(`api-publish: ${single} single-event publishes, one at a time, 10 subscriptions`);
    const latency = newLatencyHistogram();
    await call('POST', '/v1/events', { type: 'bench.warmup', data: {} });
    const started = nowMs();
    const { resources } = await env.measure(async () => {
      for (let i = 0; i < single; i++) {
        const sent = nowMs();
        await call('POST', '/v1/events', { type: 'bench.single', data: { i } });
        latency.recordValue(Math.max(1, Math.round((nowMs() - sent) * 1000)));
      }
    });
    const seconds = (nowMs() - started) / 1000;
    results.push({
      scenario: 'api-publish',
      case: '1 event per request, sequential, 10 subs',
      params: { subscriptions: 10, batch: 1, concurrency: 1, requests: single },
      events: single,
      eventsPerSec: Math.round(single / seconds),
      opsPerSec: Math.round(single / seconds),
      latency: summarizeLatency(latency),
      wallSec: Math.round(seconds * 10) / 10,
      ...resources,
    });

    const batches = quick ? 40 : 200;
    const concurrency = 4;
    log(`api-publish: ${batches} requests of 100 events, ${concurrency} at a time, 10 subscriptions`);
    const batchLatency = newLatencyHistogram();
    const startedBatch = nowMs();
    const measured = await env.measure(() =>
      pool(
        Array.from({ length: batches }, (_, b) => b),
        concurrency,
        async (b) => {
          const sent = nowMs();
          await call('POST', '/v1/events', {
            events: Array.from({ length: 100 }, (_, i) => ({ type: 'bench.batch', data: { b, i } })),
          });
          batchLatency.recordValue(Math.max(1, Math.round((nowMs() - sent) * 1000)));
        },
      ),
    );
    const batchSeconds = (nowMs() - startedBatch) / 1000;
    results.push({
      scenario: 'api-publish',
      case: `100 events per request, ${concurrency} concurrent, 10 subs`,
      params: { subscriptions: 10, batch: 100, concurrency, requests: batches },
      events: batches * 100,
      eventsPerSec: Math.round((batches * 100) / batchSeconds),
      opsPerSec: Math.round(batches / batchSeconds),
      latency: summarizeLatency(batchLatency),
      wallSec: Math.round(batchSeconds * 10) / 10,
      ...measured.resources,
      extra: { note: 'events/s accepted (202), each event queued to all 10 subscriptions' },
    });
  } finally {
    for (const id of ids) await call('DELETE', `/v1/subscriptions/${id}`).catch(() => undefined);
    await server.stop();
  }
  return results;
};
