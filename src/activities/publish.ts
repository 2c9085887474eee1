import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../logger';
import type { MetricsRecorder } from '../metrics';
import { normalizeEvent, type EventInput } from '../publish/normalize';
import { BacklogFullError, type Publisher } from '../publish/publisher';
import { GeneratedIds } from '../publish/records';

export interface PublishDeps {
  /** Absent where no client is configured (a worker of tests that do not publish). */
  publisher?: Publisher;
  clock: () => Date;
  logger: Logger;
  /** Counts the events accepted; absent: nothing is recorded. */
  metrics?: MetricsRecorder;
}

/** Why `raw` is not a list of events in the REST shape, or null when it is. */
export type EventValidator = (raw: unknown[]) => { events: EventInput[] } | { error: string };

/**
 * The ingress activity of the tenant workflow's `publish` signal: the same publish module as
 * POST /v1/events. Events of a malformed signal are refused whole (nothing is queued) and reported.
 */
export function createPublishActivities(deps: PublishDeps, validate: EventValidator) {
  return {
    /** `idKey`: the workflow's key for ids it generates, fixed across this activity's retries. */
    async publishEvents(
      tenant: string,
      raw: unknown[],
      idKey?: string,
    ): Promise<{ published: number; rejected: string | null }> {
      if (!deps.publisher) throw ApplicationFailure.nonRetryable('no publisher configured', 'NoPublisher');
      const checked = validate(raw);
      if ('error' in checked) {
        deps.logger.warn({ tenant, error: checked.error }, 'publish signal refused');
        return { published: 0, rejected: checked.error };
      }
      const now = deps.clock();
      const generated = new GeneratedIds(idKey);
      const events = checked.events.map((e) => normalizeEvent(e, tenant, now, generated));
      try {
        const outcomes = await deps.publisher.publish(tenant, events, { generated });
        const published = outcomes.filter((o) => !o.duplicate).length;
        deps.metrics?.eventsPublished(tenant, published);
        return { published, rejected: null };
      } catch (err) {
        if (err instanceof BacklogFullError) {
          throw ApplicationFailure.create({
            type: 'BacklogFull',
            message: err.message,
            nextRetryDelay: `${err.retryAfterSeconds} seconds`,
            cause: err,
          });
        }
        throw err;
      }
    },
  };
}
