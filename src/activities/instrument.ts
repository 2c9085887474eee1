import { ApplicationFailure } from '@temporalio/common';
import type { MetricsRecorder } from '../metrics';
import type { DeliveryFailureDetails, DeliveryRequest, DeliveryResult } from './deliver';

/** The failure class a failed attempt carries in its details, or `internal` for any other error. */
export function attemptOutcomeOf(err: unknown): string {
  if (err instanceof ApplicationFailure) {
    const details = err.details?.[0] as Partial<DeliveryFailureDetails> | undefined;
    if (typeof details?.errorClass === 'string') return details.errorClass;
  }
  return 'internal';
}

/**
 * Counts every attempt of `deliver` by outcome and times it (seconds, wall clock, signing included).
 * The count is per activity execution: an attempt whose result the server never recorded (worker
 * lost) and that the workflow therefore retries is counted each time it ran, as the receiver saw it.
 */
export function withDeliveryMetrics(
  deliver: (req: DeliveryRequest) => Promise<DeliveryResult>,
  metrics: MetricsRecorder,
): (req: DeliveryRequest) => Promise<DeliveryResult> {
  return async function deliverMeasured(req) {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await deliver(req);
      metrics.deliveryAttempt('success', seconds(), req.events.length);
      return result;
    } catch (err) {
      metrics.deliveryAttempt(attemptOutcomeOf(err), seconds(), req.events.length);
      throw err;
    }
  };
}
