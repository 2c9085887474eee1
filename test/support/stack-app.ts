/**
 * startTestApp against the stack (HOOKLINE_TEST_TARGET=stack): the app as separate Hookline
 * processes, two APIs and two workers, on the stack's Temporal server and a fresh database on its
 * PostgreSQL, with the test's settings, its own task queue and tenants. `call()` takes turns between
 * the two APIs, so every test also checks that what one API process did, the other sees.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config';
import type { Logger } from '../../src/logger';
import { openStore } from '../../src/store';
import { createPayloadCodec, dataConverterFor } from '../../src/temporal/codec';
import { freePort } from './global-setup';
import {
  createStackDatabase,
  readStackEnv,
  spawnHookline,
  waitForAnswer,
  type HooklineProcess,
} from './stack';
import { uniqueTaskQueue } from './temporal';
import type { KEYS, TestApp } from './app';

/** API and worker processes per app: the production shape's two of each. */
const APIS = 2;
const WORKERS = 2;
/** ms a process may take to start (bundling the workflows, migrations) on a loaded 2-core machine. */
const START_TIMEOUT_MS = 180_000;

let apps = 0;

/** What cannot exist outside the test's own process: reaching for it fails with the reason. */
function inProcessOnly(what: string): never {
  throw new Error(
    `app.${what} is the in-process app's; against the stack (HOOKLINE_TEST_TARGET=stack) the app runs in separate processes`,
  );
}

/** pino's level numbers, by name. */
const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** Logs each JSON line of a process to `logger` again, at the line's level (other lines as errors). */
function relogTo(logger: Logger): (line: string) => void {
  return (line) => {
    let record: { level?: number; msg?: string } & Record<string, unknown>;
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      logger.error({ line }, 'a Hookline process printed a line that is not JSON');
      return;
    }
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...rest } = record;
    logger[LEVELS[level ?? 50] ?? 'error'](rest, msg ?? '');
  };
}

export async function startStackApp(
  env: Record<string, string>,
  keys: typeof KEYS,
  opts: { tenants?: Record<keyof typeof KEYS, string>; logger?: Logger; inProcessOptions: string[] },
): Promise<TestApp> {
  if (opts.inProcessOptions.length > 0) {
    throw new Error(
      `startTestApp options ${opts.inProcessOptions.join(', ')} hook into the in-process app; they cannot reach the stack's processes`,
    );
  }
  const stack = readStackEnv();
  const suffix = `${process.pid}-${++apps}-${Date.now() % 100000}`;
  const tenants = opts.tenants ?? { acme: `acme-${suffix}`, globex: `globex-${suffix}` };
  const dir = mkdtempSync(join(tmpdir(), 'hookline-stack-app-'));
  const database = createStackDatabase();
  const processes: HooklineProcess[] = [];
  let connection: Connection | null = null;
  let store: Awaited<ReturnType<typeof openStore>> | null = null;

  const cleanup = async () => {
    // The APIs first (no new requests), then the workers; each drains on SIGTERM.
    const apis = processes.filter((p) => p.name.startsWith('api'));
    const workers = processes.filter((p) => !p.name.startsWith('api'));
    await Promise.all(apis.map((p) => p.stop()));
    await Promise.all(workers.map((p) => p.stop()));
    await connection?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    database.drop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const settings: Record<string, string> = {
      API_KEYS: `${tenants.acme}:${keys.acme},${tenants.globex}:${keys.globex}`,
      TEMPORAL_ADDRESS: stack.TEMPORAL_ADDRESS!,
      TEMPORAL_NAMESPACE: stack.TEMPORAL_NAMESPACE!,
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('stack-api'),
      DATABASE_URL: database.url,
      ALLOWED_TARGET_NETWORKS: '127.0.0.0/8',
      PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      LOG_LEVEL: 'info',
      DATA_DIR: join(dir, 'data'),
      RECONCILE_INTERVAL_MS: '2000',
      // Not the stack's own (its UI port, its key): only what this app is given.
      TEMPORAL_UI_PORT: '',
      ...env,
    };
    const config = loadConfig(settings);
    const apiPorts = await Promise.all(Array.from({ length: APIS }, () => freePort()));
    const metricsPorts = await Promise.all(Array.from({ length: WORKERS }, () => freePort()));
    const forward = opts.logger ? relogTo(opts.logger) : undefined;
    for (const [i, port] of metricsPorts.entries()) {
      const name = `worker-${i + 1}`;
      processes.push(
        spawnHookline(
          name,
          ['--worker-only'],
          { ...settings, METRICS_PORT: String(port) },
          join(dir, `${name}.log`),
          forward,
        ),
      );
    }
    for (const [i, port] of apiPorts.entries()) {
      const name = `api-${i + 1}`;
      processes.push(
        spawnHookline(
          name,
          ['--api-only'],
          { ...settings, PORT: String(port) },
          join(dir, `${name}.log`),
          forward,
        ),
      );
    }
    // A worker's metrics listener opens once it polls; an API is ready once Temporal answers and a worker polls.
    await Promise.all(
      processes.map((p, i) =>
        p.name.startsWith('worker')
          ? waitForAnswer(`http://127.0.0.1:${metricsPorts[i]}/metrics`, (s) => s < 500, START_TIMEOUT_MS, p)
          : waitForAnswer(
              `http://127.0.0.1:${apiPorts[i - WORKERS]}/readyz`,
              (s) => s === 200,
              START_TIMEOUT_MS,
              p,
            ),
      ),
    );
    const urls = apiPorts.map((p) => `http://127.0.0.1:${p}`);

    connection = await Connection.connect({ address: stack.TEMPORAL_ADDRESS! });
    const dataConverter = dataConverterFor(createPayloadCodec(config.encryption));
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      workflow: { queryRejectCondition: 'NOT_OPEN' },
      dataConverter,
    });
    // The same database the processes use, for a test that reads the store itself.
    store = await openStore({ ...config.database, dataDir: config.dataDir, encryption: config.encryption });
    const openedStore = store;

    let turn = 0;
    const app: TestApp = {
      url: urls[0]!,
      urls,
      tenants,
      config,
      client,
      store: openedStore,
      get core(): never {
        return inProcessOnly('core');
      },
      get server(): never {
        return inProcessOnly('server');
      },
      get worker(): never {
        return inProcessOnly('worker');
      },
      async call(method, path, callOpts = {}) {
        const base = urls[turn++ % urls.length]!;
        const headers: Record<string, string> = { ...(callOpts.headers ?? {}) };
        const key = callOpts.key === undefined ? keys[callOpts.as ?? 'acme'] : callOpts.key;
        if (key !== null) headers.authorization = `Bearer ${key}`;
        let body: string | undefined;
        if (callOpts.raw !== undefined) body = callOpts.raw;
        else if (callOpts.body !== undefined) {
          body = JSON.stringify(callOpts.body);
          headers['content-type'] ??= 'application/json';
        }
        const res = await fetch(`${base}${path}`, { method, headers, body });
        const text = await res.text();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON: keep the text
        }
        return { status: res.status, body: parsed, headers: res.headers };
      },
      stop: cleanup,
    };
    return app;
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
}
