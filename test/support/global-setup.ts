import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { findTemporalBinary } from '../../src/temporal/binaries';
import { registerSearchAttributes } from '../../src/temporal/setup';
import { startTestPostgres, type TestPostgres } from './postgres';

/**
 * Ports for the processes tests start, below the kernel's ephemeral range (32768 and up here), where
 * listen(0) and outgoing connections never land, and one block per Jest worker (the global setup is
 * block 0), so two test files running at once are never handed the same port. A port handed out is
 * still free only until someone binds it: each is checked bindable, then not handed out again by
 * this file.
 */
const PORT_BASE = 20_000;
const PORT_BLOCK = 1_500;
const portSlot = Number(process.env.JEST_WORKER_ID ?? 0) % 8;
let portCursor = Math.floor(Math.random() * PORT_BLOCK);

/** A TCP port on loopback that nothing listens on now (see above for why it stays free). */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_BLOCK; tries++) {
    const port = PORT_BASE + portSlot * PORT_BLOCK + (portCursor++ % PORT_BLOCK);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in block ${portSlot} (${PORT_BASE + portSlot * PORT_BLOCK}+${PORT_BLOCK})`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
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
