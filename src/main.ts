import { Client, type Connection } from '@temporalio/client';
import { startServer } from './api/app';
import { portalBundle } from './api/portal-bundle';
import { resolveApiKeys } from './api/keys';
import { ConfigError, loadConfig, type Config } from './config';
import { createHttpClient } from './delivery/http';
import { Lifecycle, StartupError, StopRequested } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { startMetricsServer } from './api/metrics-server';
import { describeListenError, explainListen, listenError } from './net/ports';
import { createTargetGuard, parseAllowedNetworks } from './net/ssrf';
import { privateDataDir } from './data-dir';
import { activityDeps, createCore, startBackground, type Core } from './service';
import { openStore } from './store';
import { createPayloadCodec, dataConverterFor } from './temporal/codec';
import { startDevServer } from './temporal/dev-server';
import { hasLivePoller } from './temporal/pollers';
import {
  connectWithRetry,
  prepareNamespace,
  RETENTION_DAYS,
  retryStartupStep,
  startupBudget,
  type StartupBudget,
} from './temporal/setup';
import { installRuntime } from './temporal/runtime';
import { startWorker, type WorkerHandle } from './worker';

type Mode = 'all' | 'api' | 'worker';

function modeFromArgs(argv: string[]): Mode {
  if (argv.includes('--api-only')) return 'api';
  if (argv.includes('--worker-only')) return 'worker';
  return 'all';
}

/** What every part of start-up uses. */
interface Context {
  mode: Mode;
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  /** One registry for the process: the API's publish counts and the worker's delivery counts. */
  metrics: Metrics;
}

/**
 * `npm start`: the embedded dev server (unless TEMPORAL_ADDRESS is set), the worker and the API in one
 * process. `--api-only` / `--worker-only` run one part against TEMPORAL_ADDRESS (default: the local
 * dev server's port), so each scales out on its own. SIGINT or SIGTERM, during start-up or after it,
 * stops whatever has started, last started first.
 */
async function main(): Promise<void> {
  const mode = modeFromArgs(process.argv.slice(2));
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // Signals first: one that comes during start-up stops what has started so far.
  const lifecycle = new Lifecycle(logger);
  lifecycle.handleSignals();
  try {
    await start({ mode, config, logger, lifecycle, metrics: createMetrics() });
  } catch (err) {
    const clean = await lifecycle.stop();
    // Whatever a step threw once a signal came (an aborted wait, a closed connection), it was asked to stop.
    if (!lifecycle.signal.aborted) throw err;
    logger.info({ signal: (lifecycle.signal.reason as StopRequested).signal }, 'stopped during start-up');
    process.exit(clean ? 0 : 1);
  }
  const signal = await lifecycle.stopRequested;
  if (lifecycle.failed) logger.error({ reason: lifecycle.failed }, 'shutting down after a failure');
  else logger.info({ signal }, 'shutting down');
  const clean = await lifecycle.stop();
  if (clean) logger.info('stopped');
  else logger.error('unclean shutdown');
  process.exit(clean && !lifecycle.failed ? 0 : 1);
}

async function start(ctx: Context): Promise<void> {
  const { mode, config, logger, lifecycle, metrics } = ctx;
  installRuntime(
    logger,
    config.logLevel === 'debug' || config.logLevel === 'trace' ? 'INFO' : 'WARN',
    config.metrics.temporalBind,
  );
  if (config.metrics.temporalBind) {
    logger.info({ url: `http://${config.metrics.temporalBind}/metrics` }, 'Temporal SDK metrics listening');
  }
  // Before anything starts: a taken port fails now, not after the dev server and the worker are up.
  await checkListenPorts(ctx);
  privateDataDir(config.dataDir);

  const { address, connection, embedded, uiUrl, budget } = await startTemporal(ctx);
  const retention = await prepareNamespace(connection, config.temporal.namespace, { embedded, budget });
  if (retention < RETENTION_DAYS * 86_400) {
    // A cluster's namespace is its operators': warn, do not change it. Closed runs (deleted
    // subscriptions, continued-as-new runs) then go sooner; the store keeps its own 7 days.
    logger.warn(
      { namespace: config.temporal.namespace, wantedDays: RETENTION_DAYS },
      'namespace retention is shorter than 7 days',
    );
  }
  // Payload encryption: one codec for every Client and Worker of this process (null: plain JSON).
  const dataConverter = dataConverterFor(createPayloadCodec(config.encryption));
  if (config.encryption && config.codec.authKeyDigests.length === 0)
    logger.info('payloads are encrypted; set CODEC_AUTH_KEYS to decode them in the Web UI');
  // Queries of closed workflows (deleted subscriptions) are refused rather than replayed.
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    workflow: { queryRejectCondition: 'NOT_OPEN' },
    dataConverter,
  });
  const allowed = parseAllowedNetworks(config.allowedTargetNetworks);
  const store = await lifecycle.start(
    config.database.url ? 'store (PostgreSQL)' : 'store (SQLite)',
    () => openStore({ ...config.database, dataDir: config.dataDir, encryption: config.encryption }),
    (st) => st.close(),
  );
  logger.info({ database: store.dialect }, 'store open, migrations applied');
  const core = createCore({
    config,
    client,
    store,
    logger,
    guard: createTargetGuard({ allowed }),
    afterCommit: killAfterCommits(logger),
  });
  metrics.observeBacklog(() => store.queues.backlogs());
  const http = createHttpClient({ allowed });
  lifecycle.started('delivery HTTP client', () => http.close());

  let worker: WorkerHandle | null = null;
  if (mode !== 'api') {
    worker = await lifecycle.start(
      'worker',
      () =>
        startWorker({
          address,
          dataConverter,
          namespace: config.temporal.namespace,
          taskQueue: config.temporal.taskQueue,
          logger,
          deps: activityDeps(core, { config, http, logger, metrics }),
          maxCachedWorkflows: config.workerMaxCachedWorkflows ?? undefined,
          onFailure: () => lifecycle.fail('the worker stopped with an error'),
        }),
      (w) => w.stop(),
    );
    logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
    // The reconciler and retention run where the worker runs (several workers: each, idempotently).
    const background = startBackground(core, { config, logger });
    lifecycle.started('reconciler and retention', () => background.stop());
  }

  if (config.metrics.port !== null) {
    const metricsPort = config.metrics.port;
    const metricsServer = await lifecycle.start(
      'metrics listener',
      () =>
        explainListen(metricsPort, 'METRICS_PORT', () =>
          startMetricsServer({ metrics, token: config.metrics.token, port: metricsPort, logger }),
        ),
      (s) => s.stop(),
    );
    logger.info({ url: `http://localhost:${metricsServer.port}/metrics` }, 'metrics listening');
  } else if (mode === 'worker') {
    logger.info('no METRICS_PORT: this worker-only process exposes no /metrics');
  }

  if (mode !== 'worker') await startApi(ctx, { core, connection, worker, budget });
  if (uiUrl) logger.info({ url: uiUrl }, 'Temporal Web UI');
}

/**
 * The embedded dev server (mode `all` without TEMPORAL_ADDRESS) and a connection to Temporal, each
 * recorded in the lifecycle. The budget for start-up's Temporal steps runs from when the address is
 * known.
 */
async function startTemporal(ctx: Context): Promise<{
  address: string;
  connection: Connection;
  embedded: boolean;
  uiUrl: string | null;
  budget: StartupBudget;
}> {
  const { mode, config, logger, lifecycle } = ctx;
  let address = config.temporal.address;
  let uiUrl: string | null = null;
  const embedded = !address && mode === 'all';
  if (embedded) {
    const codecOn = config.encryption !== null && config.codec.authKeyDigests.length > 0;
    const devServer = await lifecycle.start(
      'temporal dev server',
      () =>
        startDevServer({
          dataDir: config.dataDir,
          sqliteSynchronous: config.database.sqliteSynchronous,
          namespace: config.temporal.namespace,
          port: config.temporal.devPort,
          uiPort: config.temporal.uiPort,
          logger,
          // The Web UI decodes encrypted payloads through our codec route (operators sign in at /codec/login).
          uiCodecEndpoint: codecOn ? `${config.publicBaseUrl}/codec` : undefined,
          signal: lifecycle.signal,
          onGiveUp: () => lifecycle.fail('the temporal dev server exited and could not be restarted'),
        }),
      (d) => d.stop(),
    );
    address = devServer.address;
    uiUrl = devServer.uiUrl;
  }
  const target = address ?? `127.0.0.1:${config.temporal.devPort}`;
  const budget = startupBudget({ signal: lifecycle.signal, logger });
  const connection = await lifecycle.start(
    'Temporal connection',
    () => connectWithRetry(target, budget),
    (c) => c.close(),
  );
  return { address: target, connection, embedded, uiUrl, budget };
}

/** The API: every tenant's workflows started, then the listener on PORT. */
async function startApi(
  ctx: Context,
  deps: {
    core: Core;
    connection: Connection;
    worker: WorkerHandle | null;
    budget: StartupBudget;
  },
): Promise<void> {
  const { config, logger, lifecycle, metrics } = ctx;
  const { core, connection, worker, budget } = deps;
  const { client } = core;
  const keys = resolveApiKeys(config);
  if (keys.generated) {
    // Printed once, on the run that generated it; never logged.
    process.stdout.write(
      `\nHookline API key for tenant "default": ${keys.keys[0]!.key}\n(kept in ${keys.file})\n\n`,
    );
  }
  // The tenants of the keys exist in the store (GET /v1/tenants lists them).
  await core.store.tenants.ensure(
    keys.keys.map((k) => k.tenant),
    Date.now(),
  );
  // Every tenant's ingress workflow runs from the start (`publish` can be signalled): those of the
  // keys, and those made through the API (started when made; again here in case that failed).
  const tenants = new Set([...keys.keys.map((k) => k.tenant), ...(await core.store.tenants.liveIds())]);
  for (const tenant of tenants) {
    await retryStartupStep(
      `starting the ingress workflow of tenant ${tenant}`,
      () => core.subscribers.startIngress(tenant),
      budget,
      connection,
    );
    lifecycle.checkpoint();
  }
  const server = await lifecycle.start(
    'API listener',
    () =>
      explainListen(config.port, 'PORT', () =>
        startServer({
          config,
          client,
          logger,
          apiKeys: keys.keys,
          store: core.store,
          subscribers: core.subscribers,
          publisher: core.publisher,
          subscriptions: core.subscriptions,
          port: config.port,
          metrics,
          workerReady: async () =>
            worker
              ? worker.isPolling()
              : hasLivePoller(client, config.temporal.namespace, config.temporal.taskQueue),
        }),
      ),
    (s) => s.stop(),
  );
  logger.info({ url: `http://localhost:${server.port}`, apiKeyFile: keys.file }, 'API listening');
  // Build the consumer portal's script now, not on its first visitor; a failed build leaves the API up.
  portalBundle().then(
    (script) => logger.info({ bytes: script.length }, 'consumer portal built'),
    (err: unknown) => logger.error({ err }, 'the consumer portal failed to build: /portal/ answers 500'),
  );
}

/**
 * TEST ONLY (the fault suite's kill-between-commit-and-signal case): HOOKLINE_TEST_KILL_AFTER_COMMITS=N
 * makes the process SIGKILL itself right after its N-th publish commit, before that commit's wakes
 * are sent. Deliberately not a setting of src/config.ts: no deployment should ever set it.
 */
function killAfterCommits(logger: Logger): (() => void) | undefined {
  const raw = process.env.HOOKLINE_TEST_KILL_AFTER_COMMITS;
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new StartupError('HOOKLINE_TEST_KILL_AFTER_COMMITS must be an integer >= 1');
  logger.warn({ commits: n }, 'TEST HOOK: this process kills itself after that many publish commits');
  let commits = 0;
  return () => {
    if (++commits === n) process.kill(process.pid, 'SIGKILL');
  };
}

/** Fails start-up early when a port this process will listen on is taken (0 picks a free one). */
async function checkListenPorts({ mode, config }: Context): Promise<void> {
  const ports: { port: number; setting: string }[] = [];
  if (mode !== 'worker') ports.push({ port: config.port, setting: 'PORT' });
  if (config.metrics.port !== null) ports.push({ port: config.metrics.port, setting: 'METRICS_PORT' });
  for (const { port, setting } of ports) {
    if (port === 0) continue;
    const code = await listenError(port);
    if (code !== null) throw new StartupError(describeListenError(code, port, setting));
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else if (err instanceof StartupError) {
    process.stderr.write(`hookline failed to start: ${err.message}\n`);
  } else {
    process.stderr.write(
      `hookline failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
