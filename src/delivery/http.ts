import type { BlockList, LookupFunction } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { Agent, request } from 'undici';
import {
  createTargetGuard,
  guardedLookup,
  TargetForbiddenError,
  TargetResolutionError,
  type HostLookup,
} from '../net/ssrf';
import { TargetUrlError } from '../net/url';

/** How an attempt failed, as recorded in the deliveries log. */
export type ErrorClass = 'dns' | 'refused' | 'timeout' | 'tls' | 'forbidden' | 'network' | 'status';

/** A request that got no HTTP answer (the target refused, timed out, failed TLS or was forbidden). */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
    readonly durationMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface HttpClientOptions {
  /** Networks a target may resolve into although private/loopback/link-local (ALLOWED_TARGET_NETWORKS). */
  allowed: BlockList | null;
  /** ms to establish TCP + TLS. */
  connectTimeoutMs?: number;
  /** ms for the whole exchange, request sent to response read (deliveries are promised 15 s). */
  timeoutMs?: number;
  /** Most response bytes read; the rest is discarded and the connection closed. */
  maxResponseBytes?: number;
  /** Sockets per origin (one keep-alive pool each). */
  connectionsPerOrigin?: number;
  /** Resolver, injectable so tests can make a name resolve to a forbidden address. */
  lookup?: { host: HostLookup; socket: LookupFunction };
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** At most maxResponseBytes of the body, as UTF-8 (a character cut at the limit is left out). */
  body: string;
  truncated: boolean;
  durationMs: number;
}

export interface HttpClient {
  /** POSTs once; no redirects are followed. Throws TransportError when there is no HTTP answer. */
  post(url: string, headers: Record<string, string>, body: string): Promise<HttpResponse>;
  /** OPTIONS request (the CloudEvents handshake). */
  options(url: string, headers: Record<string, string>): Promise<HttpResponse>;
  close(): Promise<void>;
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/;

function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return '';
}

function findCause<T>(err: unknown, type: abstract new (...args: never[]) => T): T | null {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e; depth++) {
    if (e instanceof type) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** Sorts a failed request into the classes the deliveries log shows. */
export function classify(err: unknown): ErrorClass {
  if (findCause(err, TargetForbiddenError) || findCause(err, TargetUrlError)) return 'forbidden';
  if (findCause(err, TargetResolutionError)) return 'dns';
  // Not `instanceof Error`: the abort reason is a DOMException, which may come from another realm
  // (Jest's vm context, for one) and then fails that check although it is a TimeoutError.
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'dns';
  if (/TIMEOUT/.test(code) || code === 'ETIMEDOUT') return 'timeout';
  if (TLS_CODES.test(code)) return 'tls';
  return 'network';
}

/** `work`, or the signal's reason once it aborts first (the work itself cannot be cancelled). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = () => {};
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error);
  });
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * The delivery HTTP client: one undici Agent (a keep-alive pool per origin), TLS verification on,
 * no redirects, a deadline on the whole exchange and a bounded response read. Every target is checked
 * against the SSRF rules twice: its resolved addresses before the request, and again in the socket's
 * own DNS lookup, so a name that changes its answer in between (DNS rebinding) is still refused.
 */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const maxResponseBytes = opts.maxResponseBytes ?? 64 * 1024;
  const guard = createTargetGuard({ allowed: opts.allowed, lookup: opts.lookup?.host });
  const agent = new Agent({
    connections: opts.connectionsPerOrigin ?? 8,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: {
      timeout: opts.connectTimeoutMs ?? 5_000,
      rejectUnauthorized: true,
      lookup: guardedLookup(opts.allowed, opts.lookup?.socket),
    },
  });

  async function send(
    method: 'POST' | 'OPTIONS',
    url: string,
    headers: Record<string, string>,
    body?: string,
  ) {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    // One deadline from the first DNS query to the last body byte: a resolver that never answers
    // counts against it too.
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      await untilAborted(guard.checkUrl(url), deadline);
      const res = await request(url, { method, headers, body, dispatcher: agent, signal: deadline });
      // A decoder, not Buffer#toString: a multi-byte character cut at the limit is dropped, not
      // turned into U+FFFD.
      const decoder = new StringDecoder('utf8');
      let text = '';
      let size = 0;
      let truncated = false;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const room = maxResponseBytes - size;
        if (chunk.length > room) {
          if (room > 0) text += decoder.write(chunk.subarray(0, room));
          size = maxResponseBytes;
          truncated = true;
          // Stop reading: an endless or huge body must not hold memory or the attempt. The
          // connection is closed, not returned to the pool.
          res.body.destroy();
          break;
        }
        text += decoder.write(chunk);
        size += chunk.length;
      }
      // Hazard: undici marks the connection free one macrotask after the body has ended. A caller
      // that posts to the same origin right away would otherwise open a second connection.
      if (!truncated) {
        text += decoder.end();
        await nextMacrotask();
      }
      const headersOut: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headersOut[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      return {
        statusCode: res.statusCode,
        headers: headersOut,
        body: text,
        truncated,
        durationMs: elapsed(),
      };
    } catch (err) {
      const errorClass = classify(err);
      const detail = err instanceof Error ? err.message : String(err);
      throw new TransportError(errorClass, `${errorClass}: ${detail}`, elapsed(), { cause: err });
    }
  }

  return {
    post: (url, headers, body) => send('POST', url, headers, body),
    options: (url, headers) => send('OPTIONS', url, headers),
    close: () => agent.close(),
  };
}
