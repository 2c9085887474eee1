import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Config } from '../../config';
import { createPayloadCodec, PayloadDecryptionError } from '../../temporal/codec';
import { HttpError } from '../errors';
import { PayloadsJson, type PayloadJson } from '../schemas/codec';
import { judgeContentType, parseBody } from '../parse';

/**
 * Largest codec request body. The Web UI sends one event's payloads at a time; the largest payload we
 * write is a subscriber's continue-as-new input (backlog <= 1 MiB) and Temporal refuses any over 2 MB,
 * so 2 MB of payload bytes as base64 (x4/3) plus JSON framing stays under this.
 */
export const CODEC_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A session signed in at `/codec/login` lasts this long (seconds). */
export const CODEC_SESSION_SECONDS = 12 * 3600;

export const CODEC_SESSION_COOKIE = 'hookline_codec';

/** Headers the Web UI and CLI send: `X-Namespace` always, `Authorization` when configured. */
const ALLOWED_HEADERS = 'content-type, authorization, x-namespace';

export interface CodecRouteOptions {
  /** null: payload encryption is off, so the route is off. */
  codec: PayloadCodec | null;
  /** sha256 digests of the operator keys (CODEC_AUTH_KEYS); empty: the route is off. */
  authKeyDigests: Buffer[];
  /** Exact browser origins (the Web UI's) answered with CORS headers; others are refused. */
  corsOrigins: string[];
  /** Session cookies for an https deployment: `Secure; SameSite=None` (the UI may be on another site). */
  secureCookies: boolean;
  /** ms since the epoch; tests move it. */
  now?: () => number;
}

/** The route as the configuration asks for it. */
export function codecRouteOptions(config: Config): CodecRouteOptions {
  return {
    codec: createPayloadCodec(config.encryption),
    authKeyDigests: config.codec.authKeyDigests,
    corsOrigins: config.codec.corsOrigins,
    secureCookies: config.publicBaseUrl.startsWith('https:'),
  };
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function sessionMac(keyDigest: Buffer, expires: number): Buffer {
  return createHmac('sha256', keyDigest).update(`hookline-codec-session.${expires}`).digest();
}

/**
 * The codec server of the Temporal Web UI and CLI (`POST /codec/decode`, `POST /codec/encode`, also
 * under `/codec/{namespace}/…`), protocol: the body is `Payloads` as proto3 JSON, answered in the same
 * shape; a payload that cannot be decoded answers 400.
 *
 * Only operators: decoding reveals every tenant's event data, so it takes an operator key
 * (CODEC_AUTH_KEYS), never a tenant API key. Browsers cannot attach a static bearer key from the Web UI,
 * so an operator signs in once at `/codec/login` and gets an HttpOnly session cookie (an HMAC keyed
 * with the operator key's digest, valid CODEC_SESSION_SECONDS), which the UI sends when its codec
 * setting "Include cross-origin credentials" is on. Scripts and the CLI send `Authorization: Bearer`.
 */
export function codecRouter(opts: CodecRouteOptions): Router {
  const router = Router();
  const now = opts.now ?? Date.now;
  const allowed = new Set(opts.corsOrigins);
  const enabled = opts.codec !== null && opts.authKeyDigests.length > 0;

  router.use('/codec', (_req, _res, next) => {
    if (enabled) return next();
    next(
      new HttpError(
        404,
        'not_found',
        'the codec route is off: it needs PAYLOAD_ENCRYPTION_KEY (or PAYLOAD_DECRYPTION_KEYS) and CODEC_AUTH_KEYS',
      ),
    );
  });

  const knownKey = (digest: Buffer): boolean => {
    let found = false;
    for (const k of opts.authKeyDigests) if (timingSafeEqual(k, digest)) found = true;
    return found;
  };

  const validSession = (token: string): boolean => {
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return false;
    const expires = Number(match[1]);
    const nowSeconds = Math.floor(now() / 1000);
    if (expires <= nowSeconds || expires > nowSeconds + CODEC_SESSION_SECONDS) return false;
    const presented = Buffer.from(match[2]!, 'base64url');
    let found = false;
    for (const k of opts.authKeyDigests) if (timingSafeEqual(sessionMac(k, expires), presented)) found = true;
    return found;
  };

  /** A bearer operator key, or else a valid session cookie. Checked before any body is read. */
  const requireOperator: RequestHandler = (req, _res, next) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (bearer && knownKey(sha256(bearer[1]!))) return next();
    const session = readCookie(req, CODEC_SESSION_COOKIE);
    if (session !== null && validSession(session)) return next();
    next(HttpError.unauthorized('an operator key (CODEC_AUTH_KEYS) or a /codec/login session is required'));
  };

  /**
   * CORS for the codec calls: an allowed origin gets its own origin back with credentials allowed (a
   * wildcard cannot carry credentials); any other Origin is refused, so no other site can drive an
   * operator's browser session. Calls without Origin (the CLI, scripts) need no CORS.
   */
  const cors = (req: Request, res: Response): boolean => {
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (!allowed.has(origin)) return false;
    res.set({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' });
    return true;
  };

  router.options('/codec{/*rest}', (req, res) => {
    if (!cors(req, res) || req.headers.origin === undefined) {
      throw HttpError.forbidden('this origin may not call the codec route (CODEC_CORS_ORIGINS)');
    }
    res
      .status(204)
      .set({
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        // Seconds; browsers cap it lower (Chromium: 2 h).
        'Access-Control-Max-Age': '600',
      })
      .end();
  });

  router.get('/codec/login', (_req, res) => {
    sendPage(
      res,
      200,
      `<form method="post" action="login">
<p>Sign in with an operator key (CODEC_AUTH_KEYS) so the Temporal Web UI can decode Hookline's payloads
in this browser for ${CODEC_SESSION_SECONDS / 3600} hours.</p>
<p><label>Operator key <input type="password" name="key" autocomplete="off" required></label>
<button type="submit">Sign in</button></p>
</form>`,
    );
  });

  router.post('/codec/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    const key = typeof body?.key === 'string' ? body.key : '';
    const digest = key ? sha256(key) : null;
    if (!digest || !knownKey(digest)) {
      sendPage(res, 401, '<p>That is not an operator key. <a href="login">Try again</a>.</p>');
      return;
    }
    const expires = Math.floor(now() / 1000) + CODEC_SESSION_SECONDS;
    const token = `${expires}.${sessionMac(digest, expires).toString('base64url')}`;
    res.cookie(CODEC_SESSION_COOKIE, token, {
      httpOnly: true,
      path: '/codec',
      maxAge: CODEC_SESSION_SECONDS * 1000,
      secure: opts.secureCookies,
      // Over http the UI must be same-site (same host, any port: localhost:8233 → localhost:3000).
      sameSite: opts.secureCookies ? 'none' : 'strict',
    });
    sendPage(
      res,
      200,
      '<p>Signed in. The Web UI sends this session only with "Include cross-origin credentials" on: in its ' +
        'Codec Server settings choose "Use my browser setting", enter this server\'s /codec URL and turn that on ' +
        '(or run the UI with TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true).</p>',
    );
  });

  const parseJson = express.json({ limit: CODEC_MAX_BODY_BYTES, strict: false, type: () => true });
  const readPayloads: RequestHandler = (req, res, next) => {
    const verdict = judgeContentType(req.headers['content-type'] ?? '');
    if (verdict !== 'json')
      return next(HttpError.unsupportedMediaType('the body must be UTF-8 application/json'));
    void parseJson(req, res, (err?: unknown) => {
      if (isTooLarge(err)) {
        return next(HttpError.payloadTooLarge(`the body is over ${CODEC_MAX_BODY_BYTES / 1024 / 1024} MiB`));
      }
      next(err);
    });
  };
  router.post('/codec{/:namespace}/:op', async (req, res, next) => {
    const op = req.params.op;
    if (op !== 'decode' && op !== 'encode') return next();
    if (!cors(req, res))
      throw HttpError.forbidden('this origin may not call the codec route (CODEC_CORS_ORIGINS)');
    res.set('Cache-Control', 'no-store');
    await run(requireOperator, req, res);
    await run(readPayloads, req, res);
    // The namespace (path or X-Namespace) is not consulted: one codec serves this deployment's namespace.
    const body = parseBody(PayloadsJson, req.body);
    const payloads = body.payloads.map(fromJson);
    let out: Payload[];
    try {
      out = op === 'decode' ? await opts.codec!.decode(payloads) : await opts.codec!.encode(payloads);
    } catch (err) {
      if (err instanceof PayloadDecryptionError) throw new HttpError(400, 'decode_failed', err.message);
      throw err;
    }
    res.json({ payloads: out.map(toJson) });
  });

  return router;
}

/** Runs a middleware inline: resolves when it calls next(), rejects with what it passes to next(err). */
function run(mw: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void mw(req, res, (err?: unknown) =>
      err ? reject(err instanceof Error ? err : new Error('middleware failed')) : resolve(),
    );
  });
}

function isTooLarge(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'entity.too.large';
}

function fromJson(p: PayloadJson): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(p.data ?? '', 'base64') };
}

function toJson(p: Payload): PayloadJson {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

/** One cookie's value from the Cookie header, or null. */
function readCookie(req: Request, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** A tiny page with no script and nothing loaded from anywhere. */
function sendPage(res: Response, status: number, body: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
      'Cache-Control': 'no-store',
    })
    .send(
      `<!doctype html><html><head><title>Hookline codec sign-in</title></head><body>${body}</body></html>`,
    );
}
