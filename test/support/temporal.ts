import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
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

/** Starts a real worker of the project on the shared dev server. */
export function startTestWorker(
  taskQueue: string,
  overrides: Partial<StartWorkerOptions> = {},
): Promise<WorkerHandle> {
  return startWorker({
    address: devServerAddress(),
    namespace: 'default',
    taskQueue,
    logger: testLogger,
    deps: { clock: () => new Date() },
    workflowBundle: workflowBundle(),
    ...overrides,
  });
}

/** A time-skipping test server (the pinned `temporal-test-server`, else the SDK's download). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = findTemporalBinary('testServer');
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: path ? { type: 'existing-path', path } : { type: 'cached-download' } },
  });
}
