/**
 * What the store refuses, as types the API maps to HTTP in one place (src/api/failures.ts). Each one
 * means nothing of the refused operation was written.
 */

/** The row does not exist for this tenant (or was deleted). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

/** Another live subscription of the tenant has this URL (unique index). */
export class UrlTakenError extends Error {
  override name = 'UrlTakenError';
  constructor(readonly existingId: string) {
    super('a subscription with this url exists');
  }
}

/** `If-Match` named a version that is no longer current. */
export class VersionMismatchError extends Error {
  override name = 'VersionMismatchError';
  constructor(readonly current: number) {
    super(`the subscription is at version ${current}`);
  }
}

/** A tenant limit (subscriptions per tenant) would be exceeded. */
export class LimitExceededError extends Error {
  override name = 'LimitExceededError';
}

/** Some subscription's backlog cannot take these events now: nothing of the request was stored. */
export class BacklogFullError extends Error {
  override name = 'BacklogFullError';
  constructor(
    readonly subscriptionIds: string[],
    readonly retryAfterSeconds: number,
  ) {
    super(`backlog full for ${subscriptionIds.join(', ')}`);
  }
}

/** A row with this key exists already (a tenant id, an event-type name), or the change is not allowed. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** The tenant was deleted: its keys no longer authenticate and nothing is written for it. */
export class TenantGoneError extends Error {
  override name = 'TenantGoneError';
  constructor() {
    super('the tenant of this API key was deleted');
  }
}

/** The publish would take the tenant over its monthly cap: nothing of the request was stored. */
export class QuotaExceededError extends Error {
  override name = 'QuotaExceededError';
  constructor(
    readonly eventsPerMonth: number,
    /** Seconds until the first day of the next month, 00:00 UTC. */
    readonly retryAfterSeconds: number,
  ) {
    super(`the tenant's quota of ${eventsPerMonth} events this month is used up`);
  }
}

/** Some event's `data` does not match its type's schema: nothing of the request was stored. */
export class EventDataInvalidError extends Error {
  override name = 'EventDataInvalidError';
  constructor(readonly details: { path: string; message: string }[]) {
    super("an event's data does not match the schema of its type");
  }
}
