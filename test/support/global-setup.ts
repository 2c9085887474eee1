import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { findTemporalBinary } from '../../src/temporal/binaries';
import { registerSearchAttributes } from '../../src/temporal/setup';
import { startTestPostgres, type TestPostgres } from './postgres';

/** A free TCP port on loopback (released right away; the race with other processes is acceptable here). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

/**
 * One real dev server for every integration test (random port, in-memory), and one workflow bundle
 * shared by every test worker. Their whereabouts reach the test files through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const cli = findTemporalBinary('cli');
  // The SDK gives the server 5 s to come up; on a loaded machine a first start can take longer.
  const start = async () =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: cli ? { type: 'existing-path', path: cli } : { type: 'cached-download' },
        ip: '127.0.0.1',
        port: await freePort(),
        // Continue-as-new comes early, so tests cross many runs with few events.
        extraArgs: [
          '--dynamic-config-value',
          'limit.historyCount.suggestContinueAsNew=200',
          '--log-level',
          'error',
        ],
      },
    });
  let env: TestWorkflowEnvironment | undefined;
  for (let attempt = 1; !env; attempt++) {
    try {
      env = await start();
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  await registerSearchAttributes(env.connection, 'default');
  (globalThis as { __temporalEnv?: TestWorkflowEnvironment }).__temporalEnv = env;

  // PostgreSQL: the one named by TEST_DATABASE_URL, or a private cluster for this run.
  if (process.env.TEST_DATABASE_URL) process.env.HOOKLINE_TEST_PG_URL = process.env.TEST_DATABASE_URL;
  else {
    const postgres = await startTestPostgres(await freePort());
    (globalThis as { __testPostgres?: TestPostgres }).__testPostgres = postgres;
    process.env.HOOKLINE_TEST_PG_URL = postgres.url;
  }

  const dir = mkdtempSync(join(tmpdir(), 'hookline-test-'));
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} },
  });
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  process.env.HOOKLINE_TEST_TEMPORAL_ADDRESS = env.address;
  process.env.HOOKLINE_TEST_BUNDLE = bundlePath;
  process.env.HOOKLINE_TEST_TMP = dir;
}
