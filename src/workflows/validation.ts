/**
 * The CloudEvents webhook validation handshake (abuse protection), run by a subscriber as a child
 * workflow. One OPTIONS request; if its answer does not allow our origin, the endpoint has until
 * VALIDATION_WINDOW_MS after this workflow's start to confirm through the callback URL, whose route
 * sends `confirmValidationUpdate`. The workflow only reports the outcome: the parent activates or
 * deletes the subscription.
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ValidationAnswer } from '../activities/validate';
import { confirmValidationUpdate, type ValidationInput, type ValidationResult } from './messages';

/** Workflow id of a subscription's validation handshake (defined with the other ids). */
export { validationWorkflowId } from './ids';

/** ms the endpoint has to confirm, counted from the workflow's start (workflow time). */
export const VALIDATION_WINDOW_MS = 5 * 60_000;

const { sendValidationRequest } = proxyActivities<Activities>({
  // The HTTP request itself times out at 15 s. Transport failures come back as a value, so retries
  // only cover a lost worker or a bug, and are bounded well inside the confirmation window.
  startToCloseTimeout: '20 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

/** Whether a WebHook-Allowed-Origin answer admits `origin`: the same host (any case) or `*`. */
export function originAllowed(allowedOrigin: string | null, origin: string): boolean {
  if (allowedOrigin === null) return false;
  const allowed = allowedOrigin.trim().toLowerCase();
  return allowed === '*' || allowed === origin.trim().toLowerCase();
}

export async function validationWorkflow(input: ValidationInput): Promise<ValidationResult> {
  const deadline = workflowInfo().startTime.getTime() + VALIDATION_WINDOW_MS;
  let result: ValidationResult | null = null;
  let confirmed = false;

  setHandler(
    confirmValidationUpdate,
    () => {
      // Idempotent: a repeated confirmation after a grant answers the same and changes nothing.
      confirmed = true;
      return { status: 'granted' as const };
    },
    {
      validator: ({ code }) => {
        if (code !== input.code) throw ApplicationFailure.nonRetryable('wrong validation code', 'WrongCode');
        if (result === 'expired') {
          throw ApplicationFailure.nonRetryable('validation window closed', 'ValidationExpired');
        }
      },
    },
  );

  // The request races the confirmation: an endpoint may call back before (or instead of) answering.
  const request = new CancellationScope();
  // Set by a callback: the cast keeps TypeScript from narrowing it to `null` for good.
  let answer = null as ValidationAnswer | null;
  let requestEnded = false;
  const requesting = request
    .run(() =>
      sendValidationRequest({ url: input.url, origin: input.origin, callbackUrl: input.callbackUrl }),
    )
    .then(
      (a) => {
        answer = a;
      },
      (err: unknown) => {
        // Not a refusal: the callback may still come within the window.
        if (!isCancellation(err)) log.warn('validation request failed', { error: String(err) });
      },
    )
    .finally(() => {
      requestEnded = true;
    });

  await condition(() => confirmed || requestEnded);
  if (confirmed) {
    if (!requestEnded) request.cancel();
    result = 'granted_callback';
  } else if (answer !== null) {
    const { allowedOrigin, statusCode, error } = answer;
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
    if (ok && originAllowed(allowedOrigin, input.origin)) result = 'granted_sync';
    else log.info('validation not granted by the OPTIONS answer', { statusCode, allowedOrigin, error });
  }
  await requesting;

  if (result === null) {
    const left = deadline - Date.now();
    // `confirmed` decides, not condition's answer: a confirmation handled in the activation that fires
    // the timer still counts.
    if (left > 0) await condition(() => confirmed, left);
    result = confirmed ? 'granted_callback' : 'expired';
  }
  await condition(allHandlersFinished);
  return result;
}
