/**
 * Back-off of a failing batch. Pure: imported by the workflow and by the delivery activity (which
 * caps Retry-After with the same bound). Times in ms.
 */

/** Back-off starts at 1 s and doubles, at most 1 h apart. */
export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 3_600_000;
/** A batch is retried until this long after its first attempt; then its events are dead letters. */
export const RETRY_WINDOW_MS = 7 * 24 * 3_600_000;
/** A Retry-After longer than this is cut to it (a receiver may not park us for weeks). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** Delay after the `attempts`-th failure: 1 s, 2 s, 4 s … capped at 1 h; Retry-After wins when given. */
export function retryDelayMs(attempts: number, retryAfterMs: number | null): number {
  if (retryAfterMs !== null && retryAfterMs >= 0) {
    return Math.min(Math.max(retryAfterMs, FIRST_RETRY_DELAY_MS), MAX_RETRY_AFTER_MS);
  }
  const exp = Math.min(attempts - 1, 31);
  return Math.min(FIRST_RETRY_DELAY_MS * 2 ** exp, MAX_RETRY_DELAY_MS);
}
