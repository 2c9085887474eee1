/**
 * An event's record: a workflow per published event, `hookline-evt-<tenant>-<event id>`, that completes
 * at once with the record as its result. Its id makes publishing idempotent (a second start with the
 * same id is refused while the record is kept), and namespace retention (7 days) keeps it for EventGet
 * and then purges it.
 */
import type { EventRecord } from './messages';

// eslint-disable-next-line @typescript-eslint/require-await
export async function eventRecordWorkflow(record: EventRecord): Promise<EventRecord> {
  return record;
}
