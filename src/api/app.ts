import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Publisher } from '../publish/publisher';
import type { Store } from '../store';
import type { Subscribers } from '../temporal/subscribers';
import { VERSION } from '../version';
import { Authenticator, requireApiKey, requireOperatorKey } from './auth';
import { HttpError } from './errors';
import { httpErrorOf } from './failures';
import type { ApiKey } from './keys';
import { methodNotAllowed } from './method-not-allowed';
import { buildOpenApiDocument } from './openapi';
import { codecRouter, codecRouteOptions } from './routes/codec';
import { eventsRouter } from './routes/events';
import { healthRouter } from './routes/health';
import { metricsRouter } from './routes/metrics';
import { docsRouter } from './routes/docs';
import { openapiRouter } from './routes/openapi';
import { portalPageRouter, portalSessionsRouter } from './routes/portal';
import { subscriptionsRouter } from './routes/subscriptions';
import { tenantSelfRouter, tenantsRouter } from './routes/tenants';
import { handshakeCallbackRouter } from './routes/handshake-callback';
import type { SubscriptionService } from './subscriptions-service';
import { TenantService } from './tenants-service';

export interface AppDeps {
  config: Config;
  client: Client;
  logger: Logger;
  apiKeys: ApiKey[];
  store: Store;
  subscribers: Subscribers;
  publisher: Publisher;
  subscriptions: SubscriptionService;
  /** Whether a worker of this deployment polls the task queue (in-process or anywhere). */
  workerReady: () => Promise<boolean>;
  /** The process's metrics: served at GET /metrics and counted by the publish route. Absent: no /metrics. */
  metrics?: Metrics;
  /** ms a tenant key found in the store is trusted before it is looked up again (default 2 s). */
  keyCacheTtlMs?: number;
}

export function createApp(deps: AppDeps): Express {
  const auth = new Authenticator({
    configured: deps.apiKeys,
    adminKeyDigests: deps.config.adminKeyDigests,
    store: deps.store,
    cacheTtlMs: deps.keyCacheTtlMs,
  });
  const tenants = new TenantService({
    store: deps.store,
    auth,
    subscriptions: deps.subscriptions,
    subscribers: deps.subscribers,
    defaults: { eventsPerMonth: deps.config.defaultEventsPerMonth },
    logger: deps.logger,
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(healthRouter(deps));
  app.use(openapiRouter(VERSION));
  app.use(docsRouter());
  app.use(portalPageRouter({ frameAncestors: deps.config.portalFrameAncestors }));
  app.use(handshakeCallbackRouter(deps));
  // Before the API-key check: the codec route takes operator keys (CODEC_AUTH_KEYS), not tenant keys.
  app.use(codecRouter(codecRouteOptions(deps.config)));
  // Before the API-key check: scrapers carry no API key (METRICS_TOKEN guards it when set).
  if (deps.metrics) app.use(metricsRouter(deps.metrics, deps.config.metrics.token));
  // Auth comes before any body is read. Operator keys reach only /v1/tenants…; tenant keys the rest.
  app.use('/v1/tenants', requireOperatorKey(auth));
  app.use('/v1', requireApiKey(auth));
  app.use(tenantsRouter(tenants));
  app.use(tenantSelfRouter(tenants));
  app.use(subscriptionsRouter(deps.subscriptions));
  app.use(eventsRouter(deps.publisher, deps.subscriptions, deps.metrics));
  app.use(portalSessionsRouter({ store: deps.store, publicBaseUrl: deps.config.publicBaseUrl }));
  // A documented path with an undocumented method: 405 with Allow (built from the served document).
  app.use(methodNotAllowed(() => buildOpenApiDocument({ version: VERSION })));
  app.use((_req, _res, next) => next(HttpError.notFound('route')));
  app.use(errorMiddleware(deps.logger));
  return app;
}

/**
 * The one place errors become HTTP answers. Client errors (any error carrying a 4xx `status` or
 * `statusCode`, as the body parser's and the router's do) answer that status with the error body and
 * log a warning at most; anything else is logged and answers a bare 500.
 */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    const httpError = toHttpError(err, logger);
    res.status(httpError.status).set(httpError.headers);
    res.json({
      error: { code: httpError.code, message: httpError.message, details: httpError.details },
    });
  };
}

function toHttpError(err: unknown, logger: Logger): HttpError {
  const known = httpErrorOf(err);
  if (known) return known;
  // Whatever its status, a body the parser refused is the client's.
  if (isBodyParserError(err)) return fromBodyParser(err, clientErrorStatus(err) ?? 400);
  const status = clientErrorStatus(err);
  if (status === null) {
    logger.error({ err }, 'unhandled error in request');
    return new HttpError(500, 'internal', 'internal error');
  }
  // The router could not decode a path parameter (`/v1/events/%E0%A4`).
  if (err instanceof URIError) return HttpError.badRequest('the path holds a malformed percent-escape');
  // A library's client error this middleware does not know yet: no stack, it is the client's fault.
  logger.warn({ status, error: err instanceof Error ? err.message : String(err) }, 'client error in request');
  return new HttpError(status, codeForStatus(status), exposedMessage(err) ?? statusText(status));
}

/** The 4xx status an error carries (`status` or `statusCode`, as http-errors sets them), else null. */
function clientErrorStatus(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value < 500 ? value : null;
}

/** The error codes the API documents, by status; other statuses get their reason phrase in snake_case. */
const CODES: Record<number, string> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

function codeForStatus(status: number): string {
  return (
    CODES[status] ??
    statusText(status)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
  );
}

function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Client Error';
}

/** The message http-errors marks as safe to show (`expose`), if any. */
function exposedMessage(err: unknown): string | null {
  const { expose, message } = err as { expose?: unknown; message?: unknown };
  return expose === true && typeof message === 'string' && message !== '' ? message : null;
}

/** An error of the body parser (express.json): a `type` such as `entity.too.large`, and a status. */
interface BodyParserError {
  type: string;
  status: number;
  encoding?: string;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  if (typeof err !== 'object' || err === null) return false;
  const { type, status } = err as { type?: unknown; status?: unknown };
  return typeof type === 'string' && typeof status === 'number';
}

function fromBodyParser(err: BodyParserError, status: number): HttpError {
  switch (err.type) {
    case 'entity.too.large':
      return HttpError.payloadTooLarge('the body is over 1 MiB');
    case 'entity.parse.failed':
      return HttpError.badRequest('the body is not valid JSON');
    case 'encoding.unsupported':
      return HttpError.unsupportedMediaType(
        `Content-Encoding ${err.encoding ?? ''} is not supported: send gzip, deflate, br or no encoding`,
      );
    case 'charset.unsupported':
      return HttpError.unsupportedMediaType('the body must be UTF-8 JSON');
    default:
      return new HttpError(status, codeForStatus(status), 'bad request');
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
