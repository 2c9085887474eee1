/** One error type for the API; the error middleware maps it to the JSON error body (`ErrorBody`). */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static badRequest(message: string, details: { path: string; message: string }[] = []) {
    return new HttpError(400, 'validation_failed', message, details);
  }
  static unauthorized(message = 'missing or invalid API key') {
    return new HttpError(401, 'unauthorized', message);
  }
  static forbidden(message: string) {
    return new HttpError(403, 'forbidden', message);
  }
  static notFound(what = 'resource') {
    return new HttpError(404, 'not_found', `${what} not found`);
  }
  /** 405 with `Allow`: the path exists, the method does not. */
  static methodNotAllowed(method: string, allow: string) {
    return new HttpError(405, 'method_not_allowed', `${method} is not allowed here; allowed: ${allow}`, [], {
      Allow: allow,
    });
  }
  static conflict(message: string, details: unknown[] = []) {
    return new HttpError(409, 'conflict', message, details);
  }
  static preconditionFailed(message: string) {
    return new HttpError(412, 'precondition_failed', message);
  }
  static payloadTooLarge(message: string) {
    return new HttpError(413, 'payload_too_large', message);
  }
  static unsupportedMediaType(message = 'the body must be application/json') {
    return new HttpError(415, 'unsupported_media_type', message);
  }
  /** 503 with Retry-After (seconds). */
  static backlogFull(message: string, retryAfterSeconds: number, details: unknown[] = []) {
    return new HttpError(503, 'backlog_full', message, details, { 'Retry-After': String(retryAfterSeconds) });
  }
  static unavailable(message: string, retryAfterSeconds = 5) {
    return new HttpError(503, 'unavailable', message, [], { 'Retry-After': String(retryAfterSeconds) });
  }
}
