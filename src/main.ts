import { Client } from '@temporalio/client';
import { startServer, type RunningServer } from './api/app';
import { resolveApiKeys } from './api/keys';
import { ConfigError, loadConfig } from './config';
import { createHttpClient } from './delivery/http';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import { startMetricsServer } from './api/metrics-server';
import { createTargetGuard, parseAllowedNetworks } from './net/ssrf';
import { Publisher } from './publish/publisher';
import { SubscriptionService } from './api/subscriptions-service';
import { validateEvents } from './api/ingress-validation';
import { createPayloadCodec, dataConverterFor } from './temporal/codec';
import { startDevServer, type DevServer } from './temporal/dev-server';
import { hasLivePoller } from './temporal/pollers';
import {
  connectWithRetry,
  ensureRetention,
  registerSearchAttributes,
  RETENTION_DAYS,
  retentionSeconds,
} from './temporal/setup';
import { installRuntime } from './temporal/runtime';
import { VERSION } from './version';
import { startWorker, type WorkerHandle } from './worker';

type Mode = 'all' | 'api' | 'worker';

function modeFromArgs(argv: string[]): Mode {
  if (argv.includes('--api-only')) return 'api';
  if (argv.includes('--worker-only')) return 'worker';
  return 'all';
}

/**
 * `npm start`: the embedded dev server (unless TEMPORAL_ADDRESS is set), the worker and the API in one
 * process. `--api-only` / `--worker-only` run one part against TEMPORAL_ADDRESS (default: the local
 * dev server's port), so each scales out on its own.
 */
async function main(): Promise<void> {
  const mode = modeFromArgs(process.argv.slice(2));
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  installRuntime(
    logger,
    config.logLevel === 'debug' || config.logLevel === 'trace' ? 'INFO' : 'WARN',
    config.metrics.temporalBind,
  );
  if (config.metrics.temporalBind) {
    logger.info({ url: `http://${config.metrics.temporalBind}/metrics` }, 'Temporal SDK metrics listening');
  }
  // One registry for the process: the API's publish counts and the worker's delivery counts.
  const metrics = createMetrics();

  // Payload encryption: one codec for every Client and Worker of this process (null: plain JSON).
  const dataConverter = dataConverterFor(createPayloadCodec(config.encryption));
  const codecOn = config.encryption !== null && config.codec.authKeyDigests.length > 0;
  if (config.encryption && !codecOn)
    logger.info('payloads are encrypted; set CODEC_AUTH_KEYS to decode them in the Web UI');

  let devServer: DevServer | null = null;
  let address = config.temporal.address;
  if (!address && mode === 'all') {
    devServer = await startDevServer({
      dataDir: config.dataDir,
      namespace: config.temporal.namespace,
      port: config.temporal.devPort,
      uiPort: config.temporal.uiPort,
      logger,
      // The Web UI decodes encrypted payloads through our codec route (operators sign in at /codec/login).
      uiCodecEndpoint: codecOn && mode === 'all' ? `${config.publicBaseUrl}/codec` : undefined,
    });
    address = devServer.address;
  }
  address ??= `127.0.0.1:${config.temporal.devPort}`;

  const connection = await connectWithRetry(address);
  await registerSearchAttributes(connection, config.temporal.namespace);
  const retention = devServer
    ? await ensureRetention(connection, config.temporal.namespace)
    : await retentionSeconds(connection, config.temporal.namespace);
  if (retention < RETENTION_DAYS * 86_400) {
    // A cluster's namespace is its operators': warn, do not change it. Event records make up for a
    // shorter retention by staying open longer; deleted subscriptions' histories go sooner.
    logger.warn(
      { namespace: config.temporal.namespace, wantedDays: RETENTION_DAYS },
      'namespace retention is shorter than 7 days',
    );
  }
  // Queries of closed workflows (deleted subscriptions) are refused rather than replayed.
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    workflow: { queryRejectCondition: 'NOT_OPEN' },
    dataConverter,
  });
  const allowed = parseAllowedNetworks(config.allowedTargetNetworks);
  const publisher = new Publisher({
    client,
    taskQueue: config.temporal.taskQueue,
    logger,
    retentionSeconds: retention,
  });

  let worker: WorkerHandle | null = null;
  const http = createHttpClient({ allowed });
  if (mode !== 'api') {
    worker = await startWorker({
      address,
      dataConverter,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      logger,
      deps: {
        clock: () => new Date(),
        http,
        version: VERSION,
        origin: new URL(config.publicBaseUrl).host,
        publisher,
        validateEvents,
        metrics,
      },
      maxCachedWorkflows: config.workerMaxCachedWorkflows ?? undefined,
    });
    logger.info({ taskQueue: config.temporal.taskQueue }, 'worker polling');
  }

  let server: RunningServer | null = null;
  let metricsServer: RunningServer | null = null;
  if (config.metrics.port !== null) {
    metricsServer = await startMetricsServer({
      metrics,
      token: config.metrics.token,
      port: config.metrics.port,
      logger,
    });
    logger.info({ url: `http://localhost:${metricsServer.port}/metrics` }, 'metrics listening');
  } else if (mode === 'worker') {
    logger.info('no METRICS_PORT: this worker-only process exposes no /metrics');
  }
  if (mode !== 'worker') {
    const keys = resolveApiKeys(config);
    if (keys.generated) {
      // Printed once, on the run that generated it; never logged.
      process.stdout.write(
        `\nHookline API key for tenant "default": ${keys.keys[0]!.key}\n(kept in ${keys.file})\n\n`,
      );
    }
    const localWorker = worker;
    const subscriptions = new SubscriptionService({
      client,
      config,
      guard: createTargetGuard({ allowed }),
      publisher,
    });
    // Every tenant's registry and ingress workflow runs from the start (`publish` can be signalled).
    for (const tenant of new Set(keys.keys.map((k) => k.tenant))) await subscriptions.ensureTenant(tenant);
    server = await startServer({
      config,
      client,
      logger,
      apiKeys: keys.keys,
      publisher,
      subscriptions,
      port: config.port,
      metrics,
      workerReady: async () =>
        localWorker
          ? localWorker.isPolling()
          : hasLivePoller(client, config.temporal.namespace, config.temporal.taskQueue),
    });
    logger.info({ url: `http://localhost:${server.port}`, apiKeyFile: keys.file }, 'API listening');
  }
  if (devServer) logger.info({ url: devServer.uiUrl }, 'Temporal Web UI');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    try {
      await server?.stop();
      await metricsServer?.stop();
      await worker?.stop();
      await http.close();
      await connection.close();
      await devServer?.stop();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'unclean shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(
      `hookline failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
