import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { errorMiddleware, type RunningServer } from './app';
import { HttpError } from './errors';
import { metricsRouter } from './routes/metrics';

export interface MetricsServerOptions {
  metrics: Metrics;
  token: string | null;
  /** 0 picks a free one. */
  port: number;
  logger: Logger;
}

/**
 * A listener that serves only `GET /metrics` (METRICS_PORT): how a `--worker-only` process, which has
 * no API, is scraped. Every other path answers 404.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<RunningServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(metricsRouter(opts.metrics, opts.token));
  app.use((_req, _res, next) => next(HttpError.notFound('route')));
  app.use(errorMiddleware(opts.logger));
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port, () => resolve(s));
    s.once('error', reject);
  });
  // A scrape is one small GET: idle or slow sockets are cut early.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
