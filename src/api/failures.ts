/**
 * The one place where failures of the layers below become HTTP errors (as svix's error.rs does for
 * database errors): routes throw what the store throws and never test error types themselves.
 */
import {
  BacklogFullError,
  ConflictError,
  EventDataInvalidError,
  LimitExceededError,
  NotFoundError,
  QuotaExceededError,
  TenantGoneError,
  UrlTakenError,
  VersionMismatchError,
} from '../store/errors';
import { HttpError } from './errors';

/** The HTTP error for a known failure, or null (an unknown error: logged, answered 500). */
export function httpErrorOf(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof NotFoundError) return HttpError.notFound(err.what);
  if (err instanceof UrlTakenError) return HttpError.conflict(err.message, [{ id: err.existingId }]);
  if (err instanceof VersionMismatchError) return HttpError.preconditionFailed(err.message);
  if (err instanceof LimitExceededError) return HttpError.conflict(err.message);
  if (err instanceof ConflictError) return HttpError.conflict(err.message);
  if (err instanceof TenantGoneError) return HttpError.unauthorized(err.message);
  if (err instanceof EventDataInvalidError) return HttpError.badRequest(err.message, err.details);
  if (err instanceof QuotaExceededError) {
    return new HttpError(429, 'quota_exceeded', err.message, [{ eventsPerMonth: err.eventsPerMonth }], {
      'Retry-After': String(err.retryAfterSeconds),
    });
  }
  if (err instanceof BacklogFullError) {
    return HttpError.backlogFull(
      'a matching subscription cannot take more events now; publishing the same ids again is safe',
      err.retryAfterSeconds,
      err.subscriptionIds.map((id) => ({ subscriptionId: id })),
    );
  }
  return null;
}
