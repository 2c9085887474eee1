import { startServer, type RunningServer } from '../../src/api/app';
import { createTargetGuard, parseAllowedNetworks } from '../../src/net/ssrf';
import { createCore } from '../../src/service';
import { openStore } from '../../src/store';
import type { TestApp } from './app';
import { targetsStack } from './stack';
import { testLogger } from './temporal';

export interface SecondApi {
  url: string;
  /** Calls this API with `key` (null: no Authorization). */
  call(
    method: string,
    path: string,
    opts?: { key?: string | null; body?: unknown },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * One more API process's worth of parts on `app`'s database and Temporal: its own store connection,
 * publisher and key cache, as a second replica has (in this test process, without a worker). Against
 * the stack (HOOKLINE_TEST_TARGET=stack): the stack app's second API process.
 */
export async function startSecondApi(app: TestApp): Promise<SecondApi> {
  // Against the stack the app is two API processes already: the second is the other one.
  if (targetsStack()) {
    const url = app.urls[1]!;
    return { url, call: (method, path, opts = {}) => callApi(url, method, path, opts), stop: async () => {} };
  }
  const { config } = app;
  const store = await openStore({
    ...config.database,
    dataDir: config.dataDir,
    encryption: config.encryption,
  });
  const core = createCore({
    config,
    client: app.client,
    store,
    logger: testLogger,
    guard: createTargetGuard({ allowed: parseAllowedNetworks(config.allowedTargetNetworks) }),
  });
  let server: RunningServer;
  try {
    server = await startServer({
      config,
      client: app.client,
      logger: testLogger,
      apiKeys: config.apiKeys!,
      store,
      subscribers: core.subscribers,
      publisher: core.publisher,
      subscriptions: core.subscriptions,
      port: 0,
      workerReady: () => Promise.resolve(true),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    url: server.url,
    call: (method, path, opts = {}) => callApi(server.url, method, path, opts),
    async stop() {
      await server.stop();
      await core.subscribers.drained();
      await store.close();
    },
  };
}

/** One JSON call to the API at `base`. */
export async function callApi(
  base: string,
  method: string,
  path: string,
  opts: { key?: string | null; body?: unknown } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (opts.key != null) headers.authorization = `Bearer ${opts.key}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
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
}
