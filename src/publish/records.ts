/**
 * Event records: what makes publishing idempotent and answers EventGet, kept in Temporal itself.
 *
 * A record is a workflow execution that never runs. It is started with a start delay longer than its
 * execution timeout, so no workflow task is ever scheduled: one write on the server, no work on any
 * worker. Its input holds the record; its id is the key. It stays RUNNING until its execution timeout,
 * then the namespace's retention keeps it closed until the server purges it; REJECT_DUPLICATE refuses
 * its id all that time. The timeout is RECORD_TTL minus that retention, so a record lives 7 days in
 * all: with the 7-day retention Hookline sets up, it closes as soon as it is written.

 * Two shapes:
 * - `hookline-evt-<tenant>-<event id>`: one event whose id the producer chose (or the ingress workflow
 *   assigned). The id must be claimed one by one, since it is the idempotency key.
 * - `hookline-pub-<tenant>-<key>`: all events of one publish whose ids Hookline generated, as
 *   `evt_<key>_<nn>`. Nobody else can hold such an id, so one record serves up to 100 events, and
 *   EventGet finds it by parsing the id.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { randomBytes } from 'node:crypto';
import { eventRecordWorkflowId, publishRecordWorkflowId } from '../workflows/ids';
import type { EventRecord, PublishRecord } from '../workflows/messages';

/** How long a record holds its id (idempotency) and stays readable for sure (EventGet): 7 days. */
export const RECORD_TTL_SECONDS = 7 * 24 * 3600;
/** Longer than any execution timeout: a record times out before a workflow task could be scheduled. */
const START_DELAY_SECONDS = RECORD_TTL_SECONDS + 24 * 3600;

/**
 * How long a record stays RUNNING: what the namespace's retention of closed workflows does not cover of
 * RECORD_TTL, at least 1 second. Retention unknown (0): the whole TTL.
 */
export function recordTimeoutSeconds(retentionSeconds: number): number {
  return Math.max(1, RECORD_TTL_SECONDS - Math.max(0, retentionSeconds));
}
/** The workflow type of both shapes; registered (src/workflows/event-record.ts) though it never runs. */
const RECORD_WORKFLOW_TYPE = 'eventRecordWorkflow';

/** Ids generated for one publish: `evt_<key: 24 hex>_<index, 2 digits>`. */
export class GeneratedIds {
  private next = 0;

  /** `key`: a given one (the ingress workflow's, so that its activity's retries reuse the ids). */
  constructor(readonly key: string = randomBytes(12).toString('hex')) {
    if (!/^[0-9a-f]{24}$/.test(key)) throw new Error('a generated-id key is 24 hex digits');
  }

  newId(): string {
    if (this.next > 99) throw new Error('at most 100 generated ids per publish');
    return `evt_${this.key}_${String(this.next++).padStart(2, '0')}`;
  }

  owns(eventId: string): boolean {
    return parseGeneratedId(eventId)?.key === this.key;
  }
}

const GENERATED = /^evt_([0-9a-f]{24})_(\d{2})$/;

export function parseGeneratedId(eventId: string): { key: string; index: number } | null {
  const m = GENERATED.exec(eventId);
  return m ? { key: m[1]!, index: Number(m[2]) } : null;
}

export class EventRecords {
  private readonly timeoutSeconds: number;

  /** `retentionSeconds`: the namespace's retention of closed workflows (0 when unknown). */
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    retentionSeconds = 0,
  ) {
    this.timeoutSeconds = recordTimeoutSeconds(retentionSeconds);
  }

  /** Claims one producer-chosen id; false when it was recorded before (a duplicate). */
  async claim(record: EventRecord): Promise<boolean> {
    const { event, subscriptionIds } = record;
    return this.start(
      eventRecordWorkflowId(record.tenant, event.id),
      record,
      `${event.type} → ${subscriptionIds.length} subscriptions`,
    );
  }

  /** Records the events of one publish with generated ids (all `key`'s). Repeating it is harmless. */
  async recordPublish(record: PublishRecord): Promise<void> {
    await this.start(
      publishRecordWorkflowId(record.tenant, record.key),
      record,
      `${record.events.length} events`,
    );
  }

  /** Whether `eventId` was published by this tenant within the records' lifetime. */
  async exists(tenant: string, eventId: string): Promise<boolean> {
    return (await this.read(tenant, eventId)) !== null;
  }

  /** An event's record, or null (never published, or purged). */
  async read(tenant: string, eventId: string): Promise<EventRecord | null> {
    const generated = parseGeneratedId(eventId);
    if (generated) {
      const publish = await this.input<PublishRecord>(publishRecordWorkflowId(tenant, generated.key));
      const entry = publish?.events.find((e) => e.event.id === eventId);
      if (entry) {
        return {
          tenant,
          event: entry.event,
          subscriptionIds: entry.subscriptionIds,
          publishedAt: publish!.publishedAt,
        };
      }
      // A producer may have chosen an id of that shape itself: then it has a record of its own.
    }
    return this.input<EventRecord>(eventRecordWorkflowId(tenant, eventId));
  }

  private async start(workflowId: string, record: EventRecord | PublishRecord, summary: string) {
    try {
      await this.client.workflow.start(RECORD_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [record],
        startDelay: `${START_DELAY_SECONDS} seconds`,
        workflowExecutionTimeout: `${this.timeoutSeconds} seconds`,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: summary,
      });
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /** The input of a record's first history event (one page of one event), decoded; null when absent. */
  private async input<T>(workflowId: string): Promise<T | null> {
    const { namespace, loadedDataConverter } = this.client.workflow.options;
    let history: temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
    try {
      history = await this.client.workflowService.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId },
        maximumPageSize: 1,
      });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const started = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    if (!started) return null;
    return decodeFromPayloadsAtIndex<T>(loadedDataConverter, 0, started.input?.payloads);
  }
}

/** gRPC NOT_FOUND (code 5): no such execution (never started, or purged by retention). */
function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 5;
}
