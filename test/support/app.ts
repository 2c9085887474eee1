import type { LookupFunction } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { startServer, type RunningServer } from '../../src/api/app';
import { SubscriptionService } from '../../src/api/subscriptions-service';
import { validateEvents } from '../../src/api/ingress-validation';
import { loadConfig, type Config } from '../../src/config';
import type { Logger } from '../../src/logger';
import type { Metrics } from '../../src/metrics';
import { createTargetGuard, parseAllowedNetworks, type HostLookup } from '../../src/net/ssrf';
import { Publisher } from '../../src/publish/publisher';
import { createPayloadCodec, dataConverterFor } from '../../src/temporal/codec';
import type { WorkerHandle } from '../../src/worker';
import { devServerAddress, startTestWorker, testLogger, uniqueTaskQueue } from './temporal';

export const KEYS = {
  acme: 'acme-key-0123456789abcdef',
  globex: 'globex-key-0123456789abcdef',
} as const;

let apps = 0;

export interface TestApp {
  url: string;
  /** Tenant names of this app (unique per app: tenant workflows live on the app's own task queue). */
  tenants: Record<keyof typeof KEYS, string>;
  config: Config;
  client: Client;
  server: RunningServer;
  worker: WorkerHandle;
  subscriptions: SubscriptionService;
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
 * The real app on a free port, against the shared dev server, with its own task queue and a real
 * worker; two tenants (acme, globex) and loopback targets allowed so receivers can run on 127.0.0.1.
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
    /** The API's logger (default: the silent test logger). */
    logger?: Logger;
  } = {},
): Promise<TestApp> {
  const taskQueue = uniqueTaskQueue('api');
  const suffix = `${process.pid}-${++apps}-${Date.now() % 100000}`;
  const tenants = { acme: `acme-${suffix}`, globex: `globex-${suffix}` };
  const config = loadConfig({
    API_KEYS: `${tenants.acme}:${KEYS.acme},${tenants.globex}:${KEYS.globex}`,
    TEMPORAL_ADDRESS: devServerAddress(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
    PUBLIC_BASE_URL: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const connection = await Connection.connect({ address: devServerAddress() });
  // Payload encryption as the config asks (PAYLOAD_ENCRYPTION_KEY in `env`), on client and worker alike.
  const dataConverter = dataConverterFor(createPayloadCodec(config.encryption));
  const client = new Client({ connection, workflow: { queryRejectCondition: 'NOT_OPEN' }, dataConverter });
  const allowed = parseAllowedNetworks(config.allowedTargetNetworks);
  const publisher = new Publisher({ client, taskQueue, logger: testLogger });
  const worker = await startTestWorker(
    taskQueue,
    {
      dataConverter,
      maxCachedWorkflows: config.workerMaxCachedWorkflows ?? undefined,
      deps: {
        clock: () => new Date(),
        http: undefined as never, // replaced by startTestWorker's loopback client
        version: 'test',
        origin: new URL(config.publicBaseUrl).host,
        publisher,
        validateEvents,
        metrics: opts.metrics,
      },
    },
    opts.resolver ? { allowed, lookup: opts.resolver } : {},
  );
  const subscriptions = new SubscriptionService({
    client,
    config,
    guard: createTargetGuard({ allowed, lookup: opts.resolver?.host }),
    publisher,
  });
  const server = await startServer({
    config,
    client,
    logger: opts.logger ?? testLogger,
    apiKeys: config.apiKeys!,
    publisher,
    subscriptions,
    port: 0,
    metrics: opts.metrics,
    workerReady: () => Promise.resolve(worker.isPolling()),
  });
  return {
    url: server.url,
    tenants,
    config,
    client,
    server,
    worker,
    subscriptions,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const key = opts.key === undefined ? KEYS[opts.as ?? 'acme'] : opts.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (opts.raw !== undefined) body = opts.raw;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
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
      await worker.stop();
      await connection.close();
    },
  };
}
