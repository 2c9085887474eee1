/**
 * The workflow type of event records (src/publish/records.ts). Records are started with a start delay
 * longer than their execution timeout, so this never runs for them; it stays registered because
 * records written by earlier versions were started without a delay and ran it once, and a worker must
 * be able to finish any such record still waiting for its first task.
 */
import type { EventRecord, PublishRecord } from './messages';

// eslint-disable-next-line @typescript-eslint/require-await
export async function eventRecordWorkflow<R extends EventRecord | PublishRecord>(record: R): Promise<R> {
  return record;
}
