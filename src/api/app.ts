import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Publisher } from '../publish/publisher';
import { VERSION } from '../version';
import { requireApiKey } from './auth';
import { HttpError } from './errors';
import type { ApiKey } from './keys';
import { eventsRouter } from './routes/events';
import { healthRouter } from './routes/health';
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
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(healthRouter(deps));
  app.use(openapiRouter(VERSION));
  app.use(validateRouter(deps.client));
  // Auth comes before any body is read.
  app.use('/v1', requireApiKey(deps.apiKeys));
  app.use(subscriptionsRouter(deps.subscriptions));
  app.use(eventsRouter(deps.publisher, deps.subscriptions));
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

/** Starts the API on `port` (0 for a free one). */
export async function startServer(deps: AppDeps & { port: number }): Promise<RunningServer> {
  const app = createApp(deps);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(deps.port, () => resolve(s));
    s.once('error', reject);
  });
  // Bounded request handling: slow-loris bodies and idle sockets do not pile up.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
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
