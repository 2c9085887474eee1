import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../src/activities';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/delivery/http';
import { parseAllowedNetworks } from '../../src/net/ssrf';
import { findTemporalBinary } from '../../src/temporal/binaries';
import { createLogger } from '../../src/logger';
import { startWorker, type StartWorkerOptions, type WorkerHandle } from '../../src/worker';

export const testLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'hookline-test');

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through Jest (its global setup sets it)`);
  return value;
}

/** The shared dev server started by the global setup. */
export function devServerAddress(): string {
  return requiredEnv('HOOKLINE_TEST_TEMPORAL_ADDRESS');
}

/** The workflow bundle built once by the global setup. */
export function workflowBundle(): { codePath: string } {
  return { codePath: requiredEnv('HOOKLINE_TEST_BUNDLE') };
}

/** A task queue of its own per test, so tests never pick up each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

export interface DevServerHarness {
  connection: Connection;
  client: Client;
  close(): Promise<void>;
}

/** A client of the shared dev server. */
export async function connectDevServer(): Promise<DevServerHarness> {
  const connection = await Connection.connect({ address: devServerAddress() });
  const client = new Client({ connection, namespace: 'default' });
  return { connection, client, close: () => connection.close() };
}

/**
 * The delivery client as production builds it, but allowed to reach loopback receivers (unless
 * `options` says otherwise: other allowed networks, a test resolver).
 */
export function loopbackHttpClient(options: Partial<HttpClientOptions> = {}): HttpClient {
  return createHttpClient({ allowed: parseAllowedNetworks(['127.0.0.0/8']), ...options });
}

/**
 * Starts a real worker of the project (on the shared dev server unless `connection` is given), with
 * the delivery client as production builds it but allowed to reach loopback receivers.
 */
export async function startTestWorker(
  taskQueue: string,
  deps: (http: HttpClient) => Omit<ActivityDeps, 'logger'>,
  overrides: Partial<Omit<StartWorkerOptions, 'deps'>> = {},
  httpOptions: Partial<HttpClientOptions> = {},
): Promise<WorkerHandle> {
  const http = loopbackHttpClient(httpOptions);
  const handle = await startWorker({
    address: devServerAddress(),
    namespace: 'default',
    taskQueue,
    logger: testLogger,
    workflowBundle: workflowBundle(),
    ...overrides,
    deps: deps(http),
  });
  let stopped: Promise<void> | null = null;
  return {
    ...handle,
    stop() {
      stopped ??= handle.stop().then(() => http.close());
      return stopped;
    },
  };
}

/** A time-skipping test server (the pinned `temporal-test-server`, else the SDK's download). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = findTemporalBinary('testServer');
  // This server has no custom search attributes: start workflows on it without them.
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: path ? { type: 'existing-path', path } : { type: 'cached-download' } },
  });
}
