import type { LookupFunction } from 'node:net';
import type { BlockList } from 'node:net';
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
  /** ms for the whole exchange, request sent to response read (API.md: 15 s). */
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
  /** At most maxResponseBytes of the body, as UTF-8. */
  body: string;
  truncated: boolean;
  durationMs: number;
}

export interface HttpClient {
  /** POSTs once; no redirects are followed. Throws TransportError when there is no HTTP answer. */
  post(url: string, headers: Record<string, string>, body: string): Promise<HttpResponse>;
  /** OPTIONS request (the validation handshake). */
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
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'dns';
  if (/TIMEOUT/.test(code) || code === 'ETIMEDOUT') return 'timeout';
  if (TLS_CODES.test(code)) return 'tls';
  return 'network';
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
    try {
      await guard.checkUrl(url);
      const res = await request(url, {
        method,
        headers,
        body,
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const room = maxResponseBytes - size;
        if (chunk.length >= room) {
          if (room > 0) chunks.push(chunk.subarray(0, room));
          size = maxResponseBytes;
          truncated = true;
          // Stop reading: an endless or huge body must not hold memory or the attempt.
          res.body.destroy();
          break;
        }
        chunks.push(chunk);
        size += chunk.length;
      }
      const headersOut: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headersOut[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      return {
        statusCode: res.statusCode,
        headers: headersOut,
        body: Buffer.concat(chunks).toString('utf8'),
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
