/**
 * Subscriber workflows on a real server (the shared dev server, or a time-skipping one) with a real
 * store and a real worker, without the REST API: subscriptions are created in the store, events are
 * published through the publisher, and what the subscriber did is read from the store.
 */
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { SubscriptionInput } from '../../src/api/subscriptions-service';
import { loadConfig, type Config } from '../../src/config';
import type { HttpClientOptions } from '../../src/delivery/http';
import type { HooklineEvent, Subscription } from '../../src/domain/types';
import type { Metrics } from '../../src/metrics';
import { createTargetGuard, parseAllowedNetworks } from '../../src/net/ssrf';
import { activityDeps, createCore, type Core } from '../../src/service';
import type { PublishOutcome } from '../../src/store/publishing';
import type { WorkerHandle } from '../../src/worker';
import { subscriberWorkflowId } from '../../src/workflows/ids';
import type { subscriberWorkflow } from '../../src/workflows/subscriber';
import { openTestStore, type TestDialect, type TestStore } from './store';
import { startTestWorker, testLogger, uniqueTaskQueue } from './temporal';

export const TEST_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export function makeEvents(n: number, prefix = 'evt'): HooklineEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(6, '0')}`,
    type: 'order.created',
    source: 'test',
    subject: `orders/${i}`,
    category: null,
    labels: {},
    time: new Date().toISOString(),
    data: { n: i },
  }));
}

export interface SubscriberHarness {
  tenant: string;
  config: Config;
  store: TestStore;
  core: Core;
  client: Client;
  taskQueue: string;
  worker: WorkerHandle;
  /** Registers a subscription (in the store) and starts its workflow (unless `start: false`). */
  subscribe(
    input: Partial<SubscriptionInput> & { url: string },
    opts?: { start?: boolean },
  ): Promise<Subscription & { secret: string }>;
  /** Publishes `events` in order, `chunk` per request, one request at a time. */
  publish(events: HooklineEvent[], chunk?: number): Promise<PublishOutcome[]>;
  handle(subscription: Subscription): WorkflowHandle<typeof subscriberWorkflow>;
  /** Stops the worker and starts a new one on the same task queue. */
  restartWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSubscriberHarness(opts: {
  client: Client;
  /** A worker connection of the server (the time-skipping server's); default: the shared dev server. */
  connection?: NativeConnection;
  timeSkipping?: boolean;
  dialect?: TestDialect;
  env?: Record<string, string>;
  metrics?: Metrics;
  http?: Partial<HttpClientOptions>;
}): Promise<SubscriberHarness> {
  const taskQueue = uniqueTaskQueue('sub');
  const tenant = `t-${randomUUID().slice(0, 8)}`;
  const store = await openTestStore(opts.dialect ?? 'sqlite');
  const config = loadConfig({
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    TEMPORAL_TASK_QUEUE: taskQueue,
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    PUBLIC_BASE_URL: 'http://hookline.test',
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const core = createCore({
    config,
    client: opts.client,
    store,
    logger: testLogger,
    guard: createTargetGuard({ allowed: parseAllowedNetworks(config.allowedTargetNetworks) }),
    // The time-skipping server has no custom search attributes, and ends workflows after a default
    // execution timeout unless given one; ours run for weeks.
    searchAttributes: !opts.timeSkipping,
    startOptions: opts.timeSkipping ? { workflowExecutionTimeout: '365 days' } : undefined,
  });
  const startWorker = () =>
    startTestWorker(
      taskQueue,
      (http) =>
        activityDeps(core, { config, http, logger: testLogger, metrics: opts.metrics, version: 'test' }),
      opts.connection ? { connection: opts.connection, address: undefined } : {},
      opts.http,
    );
  const started: Subscription[] = [];
  const harness: SubscriberHarness = {
    tenant,
    config,
    store,
    core,
    client: opts.client,
    taskQueue,
    worker: await startWorker(),
    async subscribe(input, subscribeOpts = {}) {
      const { subscription, secret } = await core.subscriptions.create(tenant, {
        eventTypes: ['*'],
        format: 'raw',
        requireValidation: false,
        maxBatchSize: 100,
        headers: {},
        rateLimitPerSecond: null,
        description: null,
        metadata: {},
        ...input,
      });
      if (subscribeOpts.start !== false) await core.subscribers.start(subscription.id);
      started.push(subscription);
      return { ...subscription, secret };
    },
    async publish(events, chunk = 100) {
      const outcomes: PublishOutcome[] = [];
      for (let i = 0; i < events.length; i += chunk) {
        outcomes.push(...(await core.publisher.publish(tenant, events.slice(i, i + chunk))));
      }
      return outcomes;
    },
    handle: (s) => opts.client.workflow.getHandle(subscriberWorkflowId(s.id)),
    async restartWorker() {
      await harness.worker.stop();
      harness.worker = await startWorker();
    },
    async stopWorker() {
      await harness.worker.stop();
    },
    async stop() {
      // Workflows left running would hold the server's time (a time-skipping server waits for their
      // tasks) and pile up on a shared dev server: end them with their worker.
      await core.subscribers.drained();
      for (const sub of started)
        await harness
          .handle(sub)
          .terminate('test over')
          .catch(() => undefined);
      await harness.worker.stop().catch(() => undefined);
      await core.subscribers.drained();
      await store.dispose();
    },
  };
  return harness;
}

/** Polls `check` every 200 ms until it holds. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
