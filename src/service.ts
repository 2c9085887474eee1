/**
 * The parts of a Hookline process that work on the store and on Temporal, wired once: made by the
 * entry point (src/main.ts) and by the tests, so both run the same composition.
 */
import type { Client } from '@temporalio/client';
import type { ActivityDeps } from './activities';
import { parseEvents } from './api/ingress-parse';
import { SubscriptionService } from './api/subscriptions-service';
import type { Config } from './config';
import type { HttpClient } from './delivery/http';
import type { Logger } from './logger';
import { NO_METRICS, type MetricsRecorder } from './metrics';
import type { TargetGuard } from './net/ssrf';
import { Publisher } from './publish/publisher';
import type { Store } from './store';
import { Reconciler } from './temporal/reconciler';
import { Subscribers } from './temporal/subscribers';
import { VERSION } from './version';

export interface Core {
  store: Store;
  client: Client;
  subscribers: Subscribers;
  publisher: Publisher;
  subscriptions: SubscriptionService;
}

export interface CoreOptions {
  config: Config;
  client: Client;
  store: Store;
  logger: Logger;
  guard: TargetGuard;
  /** False on a server without Hookline's search attributes (the time-skipping test server). */
  searchAttributes?: boolean;
  /** Test hook of the publisher (see PublisherOptions.afterCommit). */
  afterCommit?: () => void;
  /** Extra options of every subscriber start (tests: see SubscribersOptions.startOptions). */
  startOptions?: { workflowExecutionTimeout?: string };
}

export function createCore(opts: CoreOptions): Core {
  const { config, client, store, logger } = opts;
  const subscribers = new Subscribers({
    client,
    store,
    taskQueue: config.temporal.taskQueue,
    logger,
    searchAttributes: opts.searchAttributes,
    startOptions: opts.startOptions,
  });
  const publisher = new Publisher({
    store,
    subscribers,
    limits: config.backlog,
    tenantDefaults: { eventsPerMonth: config.defaultEventsPerMonth },
    logger,
    afterCommit: opts.afterCommit,
  });
  const subscriptions = new SubscriptionService({ store, subscribers, config, guard: opts.guard, logger });
  return { store, client, subscribers, publisher, subscriptions };
}

/** What the worker's activities need, from the core. */
export function activityDeps(
  core: Core,
  opts: { config: Config; http: HttpClient; logger: Logger; metrics?: MetricsRecorder; version?: string },
): ActivityDeps {
  return {
    logger: opts.logger,
    clock: () => new Date(),
    store: core.store,
    http: opts.http,
    version: opts.version ?? VERSION,
    origin: new URL(opts.config.publicBaseUrl).host,
    publicBaseUrl: opts.config.publicBaseUrl,
    limits: opts.config.backlog,
    publisher: core.publisher,
    parseEvents,
    metrics: opts.metrics ?? NO_METRICS,
  };
}

/** The background jobs of a worker process: the reconciler, and retention every minute. */
export function startBackground(
  core: Core,
  opts: { config: Config; logger: Logger },
): { stop(): Promise<void> } {
  const reconciler = new Reconciler({
    store: core.store,
    client: core.client,
    subscribers: core.subscribers,
    taskQueue: opts.config.temporal.taskQueue,
    logger: opts.logger,
    scanIntervalMs: opts.config.reconcileIntervalMs,
  });
  reconciler.start();
  let purging: Promise<unknown> = Promise.resolve();
  const retention = setInterval(() => {
    purging = purging
      .then(() => core.store.retention.purge(Date.now()))
      .catch((err: unknown) => opts.logger.warn({ err }, 'retention purge failed; the next one retries'));
  }, 60_000);
  retention.unref();
  return {
    async stop() {
      clearInterval(retention);
      await reconciler.stop();
      await purging.catch(() => undefined);
      await core.subscribers.drained();
    },
  };
}
