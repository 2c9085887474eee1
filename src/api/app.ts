import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Publisher } from '../publish/publisher';
import { VERSION } from '../version';
import { requireApiKey } from './auth';
import { HttpError } from './errors';
import type { ApiKey } from './keys';
import { methodNotAllowed } from './method-not-allowed';
import { buildOpenApiDocument } from './openapi';
import { codecRouter, codecRouteOptions } from './routes/codec';
import { eventsRouter } from './routes/events';
import { healthRouter } from './routes/health';
import { metricsRouter } from './routes/metrics';
import { docsRouter } from './routes/docs';
import { openapiRouter } from './routes/openapi';
import { subscriptionsRouter } from './routes/subscriptions';
import { validateRouter } from './routes/validate';
import type { SubscriptionService } from './subscriptions-service';

export interface AppDeps {
  config: Config;
  client: Client;
  logger: Logger;
  apiKeys: ApiKey[];
  publisher: Publisher;
  subscriptions: SubscriptionService;
  /** Whether a worker of this deployment polls the task queue (in-process or anywhere). */
  workerReady: () => Promise<boolean>;
  /** The process's metrics: served at GET /metrics and counted by the publish route. Absent: no /metrics. */
  metrics?: Metrics;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(healthRouter(deps));
  app.use(openapiRouter(VERSION));
  app.use(docsRouter());
  app.use(validateRouter(deps.client));
  // Before the API-key check: the codec route takes operator keys (CODEC_AUTH_KEYS), not tenant keys.
  app.use(codecRouter(codecRouteOptions(deps.config)));
  // Before the API-key check: scrapers carry no API key (METRICS_TOKEN guards it when set).
  if (deps.metrics) app.use(metricsRouter(deps.metrics, deps.config.metrics.token));
  // Auth comes before any body is read.
  app.use('/v1', requireApiKey(deps.apiKeys));
  app.use(subscriptionsRouter(deps.subscriptions));
  app.use(eventsRouter(deps.publisher, deps.subscriptions, deps.metrics));
  // A documented path with an undocumented method: 405 with Allow (built from the served document).
  app.use(methodNotAllowed(() => buildOpenApiDocument({ version: VERSION })));
  app.use((_req, _res, next) => next(HttpError.notFound('route')));
  app.use(errorMiddleware(deps.logger));
  return app;
}

/** The one place errors become HTTP answers. Unknown errors are logged and answer a bare 500. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    let httpError: HttpError;
    if (err instanceof HttpError) httpError = err;
    else if (isBodyParserError(err)) httpError = fromBodyParser(err);
    else {
      logger.error({ err }, 'unhandled error in request');
      httpError = new HttpError(500, 'internal', 'internal error');
    }
    res.status(httpError.status).set(httpError.headers);
    res.json({
      error: { code: httpError.code, message: httpError.message, details: httpError.details },
    });
  };
}

interface BodyParserError {
  type: string;
  status: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && 'type' in err && 'status' in err;
}

function fromBodyParser(err: BodyParserError): HttpError {
  switch (err.type) {
    case 'entity.too.large':
      return HttpError.payloadTooLarge('the body is over 1 MiB');
    case 'entity.parse.failed':
      return HttpError.badRequest('the body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return HttpError.unsupportedMediaType('the body must be UTF-8 JSON');
    default:
      return new HttpError(
        err.status >= 400 && err.status < 500 ? err.status : 400,
        'bad_request',
        'bad request',
      );
  }
}

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Bytes of request line plus headers Node accepts (its default is 16 KiB). A query parameter at its
 * documented limit (a 2,048-character `url`, percent-encoded at up to 12 bytes a character) must
 * reach validation and answer 400, not Node's bare 431.
 */
const MAX_HEADER_BYTES = 64 * 1024;

/** Starts the API on `port` (0 for a free one). */
export function startServer(deps: AppDeps & { port: number }): Promise<RunningServer> {
  // Bounded request handling: slow-loris bodies and idle sockets do not pile up.
  return listen(createApp(deps), deps.port, {
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 15_000,
  });
}

/** Serves `app` on `port` (0 for a free one) with the given bounds; `stop` also ends idle sockets. */
export async function listen(
  app: Express,
  port: number,
  bounds: { maxHeaderSize?: number; requestTimeoutMs: number; headersTimeoutMs: number },
): Promise<RunningServer> {
  const options = bounds.maxHeaderSize === undefined ? {} : { maxHeaderSize: bounds.maxHeaderSize };
  const server: Server = await new Promise((resolve, reject) => {
    const s = createServer(options, app).listen(port, () => resolve(s));
    s.once('error', reject);
  });
  server.requestTimeout = bounds.requestTimeoutMs;
  server.headersTimeout = bounds.headersTimeoutMs;
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
