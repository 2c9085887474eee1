import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../logger';
import type { MetricsRecorder } from '../metrics';
import { GeneratedIds } from '../publish/generated-ids';
import { normalizeEvent, type EventInput } from '../publish/normalize';
import type { Publisher } from '../publish/publisher';
import {
  BacklogFullError,
  EventDataInvalidError,
  QuotaExceededError,
  TenantGoneError,
} from '../store/errors';

export interface PublishDeps {
  publisher: Publisher;
  clock: () => Date;
  logger: Logger;
  metrics: MetricsRecorder;
  /** Checks the signal's events against the REST event schema. */
  parseEvents: EventParser;
}

/** The events of `raw` in the REST shape, or why they are not. */
export type EventParser = (raw: unknown[]) => { events: EventInput[] } | { error: string };

/**
 * The ingress activity of the `publish` signal: the same publish module as POST /v1/events. Events of
 * a malformed signal are refused whole (nothing is queued) and reported.
 */
export function createPublishActivities(deps: PublishDeps) {
  return {
    /** `idKey`: the workflow's key for ids it generates, fixed across this activity's retries. */
    async publishEvents(
      tenant: string,
      raw: unknown[],
      idKey?: string,
    ): Promise<{ published: number; rejected: string | null }> {
      const parsed = deps.parseEvents(raw);
      if ('error' in parsed) {
        deps.logger.warn({ tenant, error: parsed.error }, 'publish signal refused');
        return { published: 0, rejected: parsed.error };
      }
      const now = deps.clock();
      const generated = new GeneratedIds(idKey);
      const events = parsed.events.map((e) => normalizeEvent(e, tenant, now, generated));
      try {
        // A signal carries a list: a schema mismatch names `events.<i>.data…`.
        const outcomes = await deps.publisher.publish(tenant, events, { batch: true });
        const published = outcomes.filter((o) => !o.duplicate).length;
        deps.metrics.eventsPublished(tenant, published);
        return { published, rejected: null };
      } catch (err) {
        // Refusals that waiting does not cure (a quota resets only next month): reported, not retried.
        if (err instanceof QuotaExceededError || err instanceof TenantGoneError) {
          deps.logger.warn({ tenant, error: err.message }, 'publish signal refused');
          return { published: 0, rejected: err.message };
        }
        if (err instanceof EventDataInvalidError) {
          const error = err.details.map((d) => `${d.path}: ${d.message}`).join('; ');
          deps.logger.warn({ tenant, error }, 'publish signal refused');
          return { published: 0, rejected: error };
        }
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
