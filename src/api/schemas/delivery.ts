/**
 * Schemas of what a subscription was sent and still holds: its queue, its delivery attempts, one
 * event's entry, its dead letters, and redelivery (`/v1/subscriptions/{id}/…`).
 */
import { z } from 'zod';
import { EventId, MessageId, Rfc3339, SubscriptionId, UtcTimestamp, pageCursor, pageQuery } from './common';
import { StoredEvent } from './event';

/** `cursor` of `GET …/deliveries`: before this attempt (see `pageCursor`). */
export const DeliveriesCursor = pageCursor(z.int().min(1).max(Number.MAX_SAFE_INTEGER));

/** `GET /v1/subscriptions/{id}/deliveries`. */
export const DeliveriesQuery = z.object({
  ...pageQuery(DeliveriesCursor, 100),
  outcome: z
    .enum(['succeeded', 'failed'])
    .optional()
    .meta({ description: 'Only attempts that succeeded (2xx) or failed.' }),
});
export type DeliveriesQuery = z.infer<typeof DeliveriesQuery>;

/** `POST /v1/subscriptions/{id}/redeliver`: exactly one of `eventIds` or `since`. */
export const RedeliverIn = z
  .strictObject({
    eventIds: z
      .array(EventId)
      .min(1, 'at least one event id')
      .max(1000, 'at most 1000 event ids')
      .optional()
      .meta({ description: 'Dead letters or delivered events to send again, by id.' }),
    since: Rfc3339.optional().meta({ description: 'Every dead letter enqueued at or after this time.' }),
  })
  .refine((body) => (body.eventIds === undefined) !== (body.since === undefined), {
    message: 'give exactly one of eventIds or since',
    when: (payload) => payload.issues.length === 0,
  })
  .meta({ oneOf: [{ required: ['eventIds'] }, { required: ['since'] }] });
export type RedeliverInput = z.infer<typeof RedeliverIn>;

/** `GET …/queue`: pending entries in delivery order. */
export const QueueOut = z.object({
  data: z.array(
    z.object({
      eventId: EventId,
      type: z.string(),
      enqueuedAt: UtcTimestamp,
      status: z.enum(['pending', 'delivering']),
      attempts: z.int().min(0),
    }),
  ),
  size: z.int().min(0).meta({ description: 'Entries queued, the batch in flight included.' }),
});
export type QueueOutput = z.infer<typeof QueueOut>;

/** `GET …/deliveries`: every delivery attempt of the last 7 days, newest first, paged. */
export const DeliveriesOut = z.object({
  data: z.array(
    z.object({
      msgId: MessageId,
      eventIds: z.array(EventId),
      attempt: z.int().min(1).meta({ description: '1 for the first attempt of this batch.' }),
      statusCode: z.int().nullable().meta({ description: 'HTTP status; null when no answer came.' }),
      error: z.string().nullable(),
      durationMs: z.number().min(0).meta({ description: 'Milliseconds.' }),
      at: UtcTimestamp,
    }),
  ),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next (older) page; null at the end.' }),
});
export type DeliveriesOutput = z.infer<typeof DeliveriesOut>;

/** `GET …/events/{eventId}`: one queue entry. */
export const EntryStatusOut = z.object({
  eventId: EventId,
  subscriptionId: SubscriptionId,
  status: z.enum(['pending', 'delivering', 'delivered', 'dead']),
  attempts: z.int().min(0),
  lastStatusCode: z.int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: UtcTimestamp.nullable(),
  deliveredAt: UtcTimestamp.nullable(),
});
export type EntryStatusOutput = z.infer<typeof EntryStatusOut>;

/** `GET …/dead-letters`: events given up on, oldest first. */
export const DeadLettersOut = z.object({
  data: z.array(
    z.object({
      event: StoredEvent,
      enqueuedAt: UtcTimestamp,
      msgId: MessageId.meta({ description: 'The batch whose attempts ran out.' }),
      attempts: z.int().min(0),
      lastStatusCode: z.int().nullable(),
      lastError: z.string().nullable(),
      deadAt: UtcTimestamp,
    }),
  ),
});
export type DeadLettersOutput = z.infer<typeof DeadLettersOut>;

/** `202` answer of `POST …/redeliver`. */
export const RedeliverOut = z.object({
  requeued: z.array(EventId).meta({ description: 'Event ids queued again, in original order.' }),
});
export type RedeliverOutput = z.infer<typeof RedeliverOut>;
