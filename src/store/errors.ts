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
