import express from 'express';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { errorMiddleware, listen, type RunningServer } from './app';
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
export function startMetricsServer(opts: MetricsServerOptions): Promise<RunningServer> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(metricsRouter(opts.metrics, opts.token));
  app.use((_req, _res, next) => next(HttpError.notFound('route')));
  app.use(errorMiddleware(opts.logger));
  // A scrape is one small GET: idle or slow sockets are cut early.
  return listen(app, opts.port, { requestTimeoutMs: 10_000, headersTimeoutMs: 5_000 });
}
