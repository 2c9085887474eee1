/** Request parsing for routes: zod schemas in, typed data out, 400/415 as HttpError otherwise. */
import express, { type Request, type RequestHandler } from 'express';
import type { z } from 'zod';
import { HttpError } from './errors';
import { parseErrorMap, validationDetails } from './schemas/common';

/** Largest request body, as `express.json` reads it: 1 MiB. */
export const MAX_BODY = '1mb';

/** The body parsed by `schema`, or a 400 `validation_failed` with one detail per problem. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  return parseOrThrow(schema, body, 'the body is not valid');
}

/** The query string parsed by `schema`, or a 400 `validation_failed` with one detail per problem. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  return parseOrThrow(schema, query, 'the query string is not valid');
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, message: string): z.output<S> {
  const result = schema.safeParse(input, { error: parseErrorMap });
  if (!result.success) throw HttpError.badRequest(message, validationDetails(result.error));
  return result.data;
}

/** `application/json` or a `+json` structured suffix (`application/cloudevents+json`). */
const JSON_MEDIA_TYPE = /^application\/(?:[!#$%&'*+.^_`|~0-9a-z-]+\+)?json$/;

type MediaTypeVerdict = 'json' | 'not_json' | 'bad_charset';

/** Judges a `Content-Type` value: JSON media type, and UTF-8 when a charset is given. */
export function judgeContentType(header: string): MediaTypeVerdict {
  const [type = '', ...params] = header.split(';');
  if (!JSON_MEDIA_TYPE.test(type.trim().toLowerCase())) return 'not_json';
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq === -1) continue;
    const name = param.slice(0, eq).trim().toLowerCase();
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (name === 'charset' && value !== 'utf-8' && value !== 'utf8') return 'bad_charset';
  }
  return 'json';
}

/** True when the request carries no body bytes: no chunked encoding and no or a zero length. */
function isBodiless(headers: { 'transfer-encoding'?: string; 'content-length'?: string }): boolean {
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || length.trim() === '0';
}

/**
 * Middlewares for a route with a JSON body: refuse other media types with 415, then read at most
 * 1 MiB as JSON (any JSON value; the route's schema decides). A body-less request without a
 * content type reads as `{}`, so `curl -X POST …/pause` works. Oversize and malformed bodies are
 * errors of express.json, mapped to 413 and 400 by the error middleware.
 *
 * `P` is the route's params type. TypeScript infers a route's params from all its handlers, so an
 * untyped spread widens `req.params` to the params dictionary; `...jsonBody<{ id: string }>()`
 * keeps `req.params.id` a string.
 */
export function jsonBody<P = Request['params']>(): RequestHandler<P>[] {
  const checkMediaType: RequestHandler<P> = (req, _res, next) => {
    const contentType = req.headers['content-type'];
    if (contentType === undefined || contentType.trim() === '') {
      if (!isBodiless(req.headers)) {
        next(HttpError.unsupportedMediaType('the body must be application/json; no content-type was given'));
        return;
      }
      req.body = {};
      next();
      return;
    }
    const verdict = judgeContentType(contentType);
    if (verdict === 'not_json') {
      next(HttpError.unsupportedMediaType());
      return;
    }
    if (verdict === 'bad_charset') {
      next(HttpError.unsupportedMediaType('the body must be UTF-8 JSON'));
      return;
    }
    // express.json leaves req.body undefined when no body bytes come at all.
    if (isBodiless(req.headers)) req.body = {};
    next();
  };
  // The media type was judged above; express.json parses whatever got through (an empty body → {}).
  const parseJson = express.json({ limit: MAX_BODY, strict: false, type: () => true }) as RequestHandler<P>;
  const parse: RequestHandler<P> = (req, res, next) => {
    parseJson(req, res, (err?: unknown) => {
      const encoding = contentEncoding(req.headers);
      // express.json inflates gzip, deflate and br (the 1 MiB limit counts inflated bytes). A body that
      // is not what its Content-Encoding says fails in zlib, whose error carries no body-parser `type`.
      if (err !== undefined && encoding !== 'identity' && !hasType(err)) {
        next(HttpError.badRequest(`the body is not valid ${encoding} data (Content-Encoding: ${encoding})`));
        return;
      }
      next(err);
    });
  };
  return [checkMediaType, parse];
}

/** The request's Content-Encoding, lowercased as express.json reads it; `identity` when none. */
function contentEncoding(headers: { 'content-encoding'?: string }): string {
  return (headers['content-encoding'] ?? 'identity').toLowerCase();
}

function hasType(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as { type?: unknown }).type === 'string';
}
