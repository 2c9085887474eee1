/**
 * The CloudEvents webhook handshake (abuse protection), run by a subscriber as a child workflow. One
 * OPTIONS request; if its answer does not allow our origin, the endpoint has until HANDSHAKE_WINDOW_MS
 * after this workflow's start to confirm through the callback URL. The callback route checks the code
 * against the store, activates the subscription there and signals `confirm` here. This workflow only
 * reports the outcome; the parent writes it to the store (conditionally, so a late one changes nothing).
 */
import {
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
import type { HandshakeAnswer } from '../activities/handshake';
import { confirmHandshakeUpdate, type HandshakeInput, type HandshakeResult } from './messages';

/** ms the endpoint has to confirm, counted from the workflow's start (workflow time). */
export const HANDSHAKE_WINDOW_MS = 5 * 60_000;

const { sendHandshakeRequest } = proxyActivities<Activities>({
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

export async function handshakeWorkflow(input: HandshakeInput): Promise<HandshakeResult> {
  const deadline = workflowInfo().startTime.getTime() + HANDSHAKE_WINDOW_MS;
  let confirmed = false;
  setHandler(confirmHandshakeUpdate, () => {
    confirmed = true;
  });

  // The request races the confirmation: an endpoint may call back before (or instead of) answering.
  const request = new CancellationScope();
  // Set by a callback: the cast keeps TypeScript from narrowing it to `null` for good.
  let answer = null as HandshakeAnswer | null;
  let requestEnded = false;
  const requesting = request
    .run(() => sendHandshakeRequest(input))
    .then(
      (a) => {
        answer = a;
      },
      (err: unknown) => {
        // Not a refusal: the callback may still come within the window.
        if (!isCancellation(err)) log.warn('handshake request failed', { error: String(err) });
      },
    )
    .finally(() => {
      requestEnded = true;
    });

  let result: HandshakeResult | null = null;
  await condition(() => confirmed || requestEnded);
  if (confirmed) {
    if (!requestEnded) request.cancel();
    result = 'granted_callback';
  } else if (answer !== null) {
    const { allowedOrigin, statusCode, error, origin } = answer;
    const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
    if (ok && originAllowed(allowedOrigin, origin)) result = 'granted_sync';
    else log.info('handshake not granted by the OPTIONS answer', { statusCode, allowedOrigin, error });
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
