import type { LookupFunction } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { startServer, type RunningServer } from '../../src/api/app';
import { loadConfig, type Config } from '../../src/config';
import type { Logger } from '../../src/logger';
import type { Metrics } from '../../src/metrics';
import { createTargetGuard, parseAllowedNetworks, type HostLookup } from '../../src/net/ssrf';
import { activityDeps, createCore, startBackground, type Core } from '../../src/service';
import { openStore, type Store } from '../../src/store';
import { createPayloadCodec, dataConverterFor } from '../../src/temporal/codec';
import type { WorkerHandle } from '../../src/worker';
import { targetsStack } from './stack';
import { startStackApp } from './stack-app';
import { freshDatabase, testDialect } from './store';
import { devServerAddress, startTestWorker, testLogger, uniqueTaskQueue } from './temporal';

export const KEYS = {
  acme: 'acme-key-0123456789abcdef',
  globex: 'globex-key-0123456789abcdef',
} as const;

let apps = 0;

/** The database of the test apps: `HOOKLINE_TEST_DATABASE=postgres` runs them on PostgreSQL. */

export interface TestApp {
  /** An API's base URL (against the stack: the first API process's). */
  url: string;
  /** Every API's base URL: one in process, two against the stack (`call` takes turns). */
  urls: string[];
  /** Tenant names of this app (unique per app: its workflows live on the app's own task queue). */
  tenants: Record<keyof typeof KEYS, string>;
  config: Config;
  /** A client of the app's Temporal (signals to hookline-ingress-<tenant>, describe, queries). */
  client: Client;
  /** The app's store (against the stack: one more connection to the database its processes use). */
  store: Store;
  /** In process only: against the stack these throw, saying so. */
  core: Core;
  server: RunningServer;
  worker: WorkerHandle;
  /** Calls the API as tenant `as` (default acme); `key: null` sends no Authorization. */
  call(
    method: string,
    path: string,
    opts?: {
      as?: keyof typeof KEYS;
      key?: string | null;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * The real app on a free port, against the shared dev server and a fresh store (SQLite, or PostgreSQL
 * with HOOKLINE_TEST_DATABASE=postgres), with its own task queue and a real worker; two tenants (acme,
 * globex) and loopback targets allowed so receivers can run on 127.0.0.1.
 * With HOOKLINE_TEST_TARGET=stack (`npm run test:stack`) the same app runs as two API and two worker
 * processes on the stack's Temporal server and PostgreSQL instead (test/support/stack-app.ts).
 */
export async function startTestApp(
  env: Record<string, string> = {},
  opts: {
    metrics?: Metrics;
    /**
     * A test resolver for target host names, used at registration and by the worker's deliveries
     * (which then allow exactly the config's ALLOWED_TARGET_NETWORKS, not all of 127.0.0.0/8).
     */
    resolver?: { host: HostLookup; socket: LookupFunction };
    /** Tenant names to use instead of unique ones (names that are prefixes of each other, say). */
    tenants?: Record<keyof typeof KEYS, string>;
    /** Test hook of the publisher (see PublisherOptions.afterCommit). */
    afterCommit?: () => void;
    /**
     * Where the app logs (default: the silent test logger). Against the stack: every JSON line the
     * app's processes print is logged here again, at its own level.
     */
    logger?: Logger;
  } = {},
): Promise<TestApp> {
  if (targetsStack()) {
    const inProcessOptions = (['metrics', 'resolver', 'afterCommit'] as const).filter((o) => opts[o]);
    return startStackApp(env, KEYS, { tenants: opts.tenants, logger: opts.logger, inProcessOptions });
  }
  const logger = opts.logger ?? testLogger;
  const taskQueue = uniqueTaskQueue('api');
  const suffix = `${process.pid}-${++apps}-${Date.now() % 100000}`;
  const tenants = opts.tenants ?? { acme: `acme-${suffix}`, globex: `globex-${suffix}` };
  const database = await freshDatabase(testDialect());
  const config = loadConfig({
    API_KEYS: `${tenants.acme}:${KEYS.acme},${tenants.globex}:${KEYS.globex}`,
    TEMPORAL_ADDRESS: devServerAddress(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    DATA_DIR: database.dataDir,
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    RECONCILE_INTERVAL_MS: '2000',
    ...env,
  });
  const store = await openStore({
    ...config.database,
    dataDir: config.dataDir,
    encryption: config.encryption,
  });
  const connection = await Connection.connect({ address: devServerAddress() });
  // Payload encryption as the config asks (PAYLOAD_ENCRYPTION_KEY in `env`), on client and worker alike.
  const dataConverter = dataConverterFor(createPayloadCodec(config.encryption));
  const client = new Client({ connection, workflow: { queryRejectCondition: 'NOT_OPEN' }, dataConverter });
  const allowed = parseAllowedNetworks(config.allowedTargetNetworks);
  const core = createCore({
    config,
    client,
    store,
    logger,
    guard: createTargetGuard({ allowed, lookup: opts.resolver?.host }),
    afterCommit: opts.afterCommit,
  });
  const worker = await startTestWorker(
    taskQueue,
    (http) => activityDeps(core, { config, http, logger, metrics: opts.metrics, version: 'test' }),
    { dataConverter, maxCachedWorkflows: config.workerMaxCachedWorkflows ?? undefined },
    opts.resolver ? { allowed, lookup: opts.resolver } : {},
  );
  const background = startBackground(core, { config, logger });
  // As src/main.ts does: the tenants of API_KEYS have rows (GET /v1/tenants lists them).
  await store.tenants.ensure(Object.values(tenants), Date.now());
  for (const tenant of Object.values(tenants)) await core.subscribers.startIngress(tenant);
  if (opts.metrics) opts.metrics.observeBacklog(() => store.queues.backlogs());
  const server = await startServer({
    config,
    client,
    logger,
    apiKeys: config.apiKeys!,
    store,
    subscribers: core.subscribers,
    publisher: core.publisher,
    subscriptions: core.subscriptions,
    port: 0,
    metrics: opts.metrics,
    workerReady: () => Promise.resolve(worker.isPolling()),
  });
  return {
    url: server.url,
    urls: [server.url],
    tenants,
    config,
    client,
    store,
    core,
    server,
    worker,
    async call(method, path, callOpts = {}) {
      const headers: Record<string, string> = { ...(callOpts.headers ?? {}) };
      const key = callOpts.key === undefined ? KEYS[callOpts.as ?? 'acme'] : callOpts.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (callOpts.raw !== undefined) body = callOpts.raw;
      else if (callOpts.body !== undefined) {
        body = JSON.stringify(callOpts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${server.url}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async stop() {
      await server.stop();
      await background.stop();
      await worker.stop();
      await connection.close();
      await store.close();
      database.cleanup();
    },
  };
}
