/**
 * The delivery activity: one POST of one batch. It loads the batch's payloads and the subscription's
 * secrets from the store by reference (the workflow passes sequence numbers only), cuts the batch by
 * count and by size, signs per Standard Webhooks, POSTs, records the attempt in the store and returns
 * a small result. Any 2xx is success; anything else throws an ApplicationFailure whose details say
 * what the workflow needs to schedule the retry.
 */
import { ApplicationFailure } from '@temporalio/common';
import { isReservedHeader } from '../domain/headers';
import { activeSecrets } from '../domain/secrets';
import type { SubscriptionStatus } from '../domain/types';
import { formatBatch, userAgent } from '../delivery/formats';
import type { HttpClient } from '../delivery/http';
import { TransportError } from '../delivery/http';
import { sign } from '../delivery/signing';
import type { MetricsRecorder } from '../metrics';
import type { Store } from '../store';
import { MAX_RETRY_AFTER_MS } from '../workflows/retry';

export interface DeliveryRequest {
  subscriptionId: string;
  /** Stable across the batch's retries: the receiver's idempotency key. */
  msgId: string;
  /** The batch is the entries after `afterSeq` up to `maxSeq`, cut by size: the same on every retry. */
  afterSeq: number;
  maxSeq: number;
  /** 1-based. */
  attempt: number;
  /** When the workflow started this attempt (ms, workflow time): what the deliveries log records. */
  at: number;
}

/** The queue after a delivered batch, and what the batch held. */
export interface Delivered {
  outcome: 'delivered';
  statusCode: number;
  durationMs: number;
  firstSeq: number;
  lastSeq: number;
  events: number;
  headSeq: number;
  doneSeq: number;
  idle: boolean;
}

/** Nothing was sent: the subscription is not active (or is deleted), or the batch is finished. */
export type NotSent = { outcome: 'skipped'; status: SubscriptionStatus | 'deleted' } | { outcome: 'empty' };

export type DeliveryResult = Delivered | NotSent;

/** Carried in the ApplicationFailure of a failed attempt (details[0]), read by the workflow. */
export interface DeliveryFailureDetails {
  statusCode: number | null;
  errorClass: string;
  durationMs: number;
  /** ms, from Retry-After on 429/503. */
  retryAfterMs: number | null;
  firstSeq: number;
  lastSeq: number;
  events: number;
  headSeq: number;
}

export interface DeliverDeps {
  store: Store;
  http: HttpClient;
  clock: () => Date;
  /** Hookline's version, for the user-agent. */
  version: string;
  /** Host of PUBLIC_BASE_URL: the WebHook-Request-Origin of validated subscriptions. */
  origin: string;
  metrics: MetricsRecorder;
}

/**
 * Retry-After as ms: delta-seconds or an HTTP date, at most MAX_RETRY_AFTER_MS (24 h). Null when
 * absent or unreadable. Hazard: the value comes from the receiver and becomes the failure's
 * `nextRetryDelay`; an unbounded one (`Retry-After: 9999…9` is Infinity ms) cannot be encoded, and
 * that stopped the whole worker.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return null;
    ms = Math.max(0, at - now.getTime());
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function failure(
  message: string,
  type: string,
  details: DeliveryFailureDetails,
  cause?: Error,
): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type,
    details: [details],
    cause,
    // The workflow schedules retries; Retry-After still shows here for operators reading the history.
    nextRetryDelay: details.retryAfterMs ?? undefined,
  });
}

/**
 * Connection-specific headers (RFC 9110 7.6.1) and `expect`: meaningless as static headers, and undici
 * refuses a request carrying `keep-alive`, `upgrade` or `expect` outright.
 */
const CONNECTION_HEADERS: ReadonlySet<string> = new Set([
  'keep-alive',
  'proxy-connection',
  'te',
  'upgrade',
  'expect',
]);
/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Tab, visible ASCII and Latin-1, as undici checks: no CR or LF (header injection), no NUL. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Whether a subscription's static header goes out. Reserved names never override Hookline's own
 * headers. A header that could not be sent at all is left out rather than failing every delivery of
 * the subscription for 7 days (registration should refuse it up front).
 */
function isSendableStaticHeader(name: string, value: string): boolean {
  if (isReservedHeader(name) || CONNECTION_HEADERS.has(name.toLowerCase())) return false;
  return HEADER_NAME.test(name) && typeof value === 'string' && HEADER_VALUE.test(value);
}

/** Reason phrase excerpt of a response body: bounded, single line. */
function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** One POST of one batch, signed per Standard Webhooks. */
export function createDeliver(deps: DeliverDeps) {
  return async function deliverBatch(req: DeliveryRequest): Promise<DeliveryResult> {
    const now = deps.clock();
    const view = await deps.store.subscriptions.forDelivery(req.subscriptionId, now);
    if (!view || view.deleted) return { outcome: 'skipped', status: 'deleted' };
    const sub = view.subscription;
    // Paused, disabled or pending a handshake: nothing goes out, whatever the workflow last knew.
    if (sub.status !== 'active') return { outcome: 'skipped', status: sub.status };
    const entries = await deps.store.progress.batch(sub.id, req.afterSeq, req.maxSeq);
    if (entries.length === 0) return { outcome: 'empty' };
    const firstSeq = entries[0]!.seq;
    const lastSeq = entries.at(-1)!.seq;
    const bytes = entries.reduce((sum, e) => sum + e.bytes, 0);

    const { contentType, body } = formatBatch({
      format: sub.format,
      msgId: req.msgId,
      subscriptionId: sub.id,
      maxBatchSize: sub.maxBatchSize,
      events: entries.map((e) => e.event),
      version: deps.version,
    });
    const timestamp = Math.floor(now.getTime() / 1000);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(sub.headers)) {
      if (isSendableStaticHeader(name, value)) headers[name] = value;
    }
    Object.assign(headers, {
      'content-type': contentType,
      'user-agent': userAgent(deps.version),
      'webhook-id': req.msgId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign({
        msgId: req.msgId,
        timestamp,
        body,
        secrets: activeSecrets(view.secrets, now),
      }),
    });
    if (sub.requireValidation) headers['webhook-request-origin'] = deps.origin;

    const started = performance.now();
    const record = (
      ok: boolean,
      statusCode: number | null,
      error: string | null,
      errorClass: string | null,
      durationMs: number,
    ) => {
      deps.metrics.deliveryAttempt(
        ok ? 'success' : (errorClass ?? 'internal'),
        (performance.now() - started) / 1000,
        entries.length,
      );
      return deps.store.progress.recordAttempt(
        sub.id,
        {
          msgId: req.msgId,
          firstSeq,
          lastSeq,
          events: entries.length,
          attempt: req.attempt,
          ok,
          statusCode,
          error,
          errorClass,
          durationMs,
          at: req.at,
        },
        bytes,
      );
    };
    const shape = { firstSeq, lastSeq, events: entries.length };

    let res;
    try {
      res = await deps.http.post(sub.url, headers, body);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      const after = await record(false, null, err.message, err.errorClass, err.durationMs);
      const type = `Delivery${err.errorClass[0]!.toUpperCase()}${err.errorClass.slice(1)}`;
      throw failure(
        err.message,
        type,
        {
          statusCode: null,
          errorClass: err.errorClass,
          durationMs: err.durationMs,
          retryAfterMs: null,
          ...shape,
          headSeq: after.headSeq,
        },
        err,
      );
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      const after = await record(true, res.statusCode, null, null, res.durationMs);
      return {
        outcome: 'delivered',
        statusCode: res.statusCode,
        durationMs: res.durationMs,
        ...shape,
        ...after,
      };
    }
    const text = excerpt(res.body);
    const message = `HTTP ${res.statusCode}${text ? `: ${text}` : ''}`;
    const after = await record(false, res.statusCode, message, 'status', res.durationMs);
    const retryAfterMs =
      res.statusCode === 429 || res.statusCode === 503
        ? parseRetryAfter(res.headers['retry-after'], now)
        : null;
    const details = {
      statusCode: res.statusCode,
      errorClass: 'status',
      durationMs: res.durationMs,
      retryAfterMs,
      ...shape,
      headSeq: after.headSeq,
    };
    if (res.statusCode === 410) {
      // 410 Gone disables the subscription (events keep queueing; resume re-enables it).
      await deps.store.subscriptions.transition(sub.id, 'active', 'disabled', now);
      throw failure(message, 'Gone', details);
    }
    throw failure(message, 'DeliveryStatus', details);
  };
}
