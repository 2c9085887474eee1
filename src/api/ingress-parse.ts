import { z } from 'zod';
import type { EventParser } from '../activities/publish';
import { validationDetails } from './schemas/common';
import { checkEventDataSizes, deepDataDetails, EventIn, MAX_EVENTS_PER_PUBLISH } from './schemas/event';

const EventList = z.array(EventIn).min(1).max(MAX_EVENTS_PER_PUBLISH);

/**
 * The `publish` signal's events, parsed by the same schema as POST /v1/events. A signal has no answer,
 * so the reason is returned for the ingress workflow to report (rejectedPublishes query).
 */
export const parseEvents: EventParser = (raw) => {
  // Before the schema and the size check, which recurse into `data`.
  const deep = deepDataDetails({ events: raw });
  if (deep.length > 0) return { error: deep.map((d) => `${d.path}: ${d.message}`).join('; ') };
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
