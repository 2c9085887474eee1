import { z } from 'zod';
import type { EventValidator } from '../activities/publish';
import { validationDetails } from './schemas/common';
import { checkEventDataSizes, EventIn, MAX_EVENTS_PER_PUBLISH } from './schemas/event';

const EventList = z.array(EventIn).min(1).max(MAX_EVENTS_PER_PUBLISH);

/**
 * The `publish` signal's events, checked against the same schema as POST /v1/events. A signal has no
 * answer, so the reason is returned for the tenant workflow to report (rejectedPublishes query).
 */
export const validateEvents: EventValidator = (raw) => {
  const parsed = EventList.safeParse(raw);
  if (!parsed.success) {
    return {
      error: validationDetails(parsed.error)
        .map((d) => `events.${d.path}: ${d.message}`)
        .join('; '),
    };
  }
  try {
    checkEventDataSizes(parsed.data);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  return { events: parsed.data };
};
