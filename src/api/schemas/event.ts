/** Schemas of the events resource: `POST /v1/events` and `GET /v1/events/{id}`. */
import { z } from 'zod';
import { HttpError } from '../errors';
import {
  EventId,
  Labels,
  nestsDeeperThan,
  parseErrorMap,
  Rfc3339,
  SubscriptionId,
  UNKNOWN_FIELD,
  UtcTimestamp,
  type ValidationDetail,
} from './common';

/** Longest event type, in characters. */
export const MAX_EVENT_TYPE_LENGTH = 256;
/** Most events in one `POST /v1/events`. */
export const MAX_EVENTS_PER_PUBLISH = 100;
/** Largest JSON-serialised `data` of one event, in UTF-8 bytes (256 KiB). */
export const MAX_EVENT_DATA_BYTES = 256 * 1024;
/** Deepest nesting of one event's `data`, in containers (arrays, objects): `{"a": [1]}` is 2. */
export const MAX_EVENT_DATA_DEPTH = 64;

/** `order.created`: what subscriptions' `eventTypes` patterns match against. */
export const EventType = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_EVENT_TYPE_LENGTH, `must be at most ${MAX_EVENT_TYPE_LENGTH} characters`)
  .regex(/^[A-Za-z0-9._:/-]+$/, 'may contain only letters, digits and . _ : / -')
  .meta({ examples: ['order.created'] });

/** One event as a producer sends it. Only `type` and `data` are required. */
export const EventIn = z
  .strictObject({
    id: EventId.optional().meta({
      description:
        'Idempotency key: the same id within 7 days queues nothing new. Generated (`evt_…`) when absent.',
    }),
    type: EventType,
    source: z
      .string()
      .min(1, 'must not be empty')
      .max(1024, 'must be at most 1024 characters')
      .optional()
      .meta({ description: 'Who produced the event.' }),
    subject: z
      .string()
      .max(1024, 'must be at most 1024 characters')
      .optional()
      .meta({ description: 'What the event is about; subscriptions filter on its prefix.' }),
    category: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .optional()
      .meta({ description: 'Subscriptions may take only some categories.' }),
    labels: Labels.optional(),
    time: Rfc3339.optional().meta({
      description: 'When it happened (RFC 3339); the publish time when absent.',
    }),
    // z.unknown() members are required in zod 4: the key must be present, `null` included.
    data: z.unknown().meta({
      description: `Any JSON value, \`null\` included; at most 256 KiB serialised and ${MAX_EVENT_DATA_DEPTH} levels of arrays and objects deep.`,
    }),
  })
  .meta({ description: 'An event as published.' });
export type EventInput = z.infer<typeof EventIn>;

/** `{"events": [...]}`: 1..100 events, queued in this order. */
export const EventBatchIn = z
  .strictObject({
    events: z
      .array(EventIn)
      .min(1, 'at least one event')
      .max(MAX_EVENTS_PER_PUBLISH, `at most ${MAX_EVENTS_PER_PUBLISH} events per request`),
  })
  .meta({ description: 'A batch of events, queued in order.' });

/** A body is a batch iff it has an `events` member. */
function isBatchBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.hasOwn(body, 'events');
}

/**
 * `POST /v1/events`: one event, or a batch. The branch is chosen by the `events` member before
 * parsing, so the errors are those of that branch, not of a union of both.
 */
export const PublishIn = z.preprocess(
  (body, ctx) => {
    const result = (isBatchBody(body) ? EventBatchIn : EventIn).safeParse(body, { error: parseErrorMap });
    if (!result.success) for (const issue of result.error.issues) addAborting(ctx, issue);
    return body;
  },
  z.xor([EventIn, EventBatchIn]),
);
export type PublishInput = z.infer<typeof PublishIn>;

/**
 * Re-raises `issue` so that the pipe stops: the union after it must not run and report the same
 * problems again. An `unrecognized_keys` issue does not stop a zod pipe, so it is raised as one
 * issue per unknown key instead (validationDetails reports it the same way).
 */
function addAborting(ctx: z.RefinementCtx, issue: z.core.$ZodIssue): void {
  if (issue.code !== 'unrecognized_keys') {
    ctx.addIssue({ ...issue });
    return;
  }
  for (const key of issue.keys) {
    ctx.addIssue({ code: 'custom', path: [...issue.path, key], message: UNKNOWN_FIELD });
  }
}

/** The events of a publish body, in order. */
export function eventsOf(body: PublishInput): EventInput[] {
  return 'events' in body ? body.events : [body];
}

/**
 * Throws 400 at `data` (one event) or `events.N.data` (a batch) when an event's data nests deeper
 * than {@link MAX_EVENT_DATA_DEPTH}. Takes the body as JSON.parse made it: run it before zod,
 * JSON.stringify or the payload converter see the body, all of which recurse.
 */
export function checkEventDataDepths(body: unknown): void {
  const details = deepDataDetails(body);
  if (details.length > 0) throw HttpError.badRequest('the body is not valid', details);
}

/** One detail per event of an unparsed publish body whose `data` nests too deep. */
export function deepDataDetails(body: unknown): ValidationDetail[] {
  const message = `must not nest arrays and objects more than ${MAX_EVENT_DATA_DEPTH} levels deep`;
  const tooDeep = (event: unknown) =>
    typeof event === 'object' &&
    event !== null &&
    nestsDeeperThan((event as { data?: unknown }).data, MAX_EVENT_DATA_DEPTH);
  if (!isBatchBody(body)) return tooDeep(body) ? [{ path: 'data', message }] : [];
  const { events } = body as { events: unknown };
  if (!Array.isArray(events)) return [];
  return events.flatMap((event, index) =>
    tooDeep(event) ? [{ path: `events.${index}.data`, message }] : [],
  );
}

/**
 * Throws 413 when any event's JSON-serialised `data` is over {@link MAX_EVENT_DATA_BYTES} UTF-8
 * bytes, naming the first such event by its index in the request.
 */
export function checkEventDataSizes(events: readonly { data?: unknown }[]): void {
  events.forEach((event, index) => {
    const json = JSON.stringify(event.data) as string | undefined;
    const bytes = json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
    if (bytes > MAX_EVENT_DATA_BYTES) {
      throw HttpError.payloadTooLarge(
        `event ${index}: data is ${bytes} bytes serialised; the limit is ${MAX_EVENT_DATA_BYTES} bytes (256 KiB)`,
      );
    }
  });
}

/** `202` answer of `POST /v1/events`: one entry per event, in request order. */
export const PublishOut = z.object({
  events: z.array(
    z.object({
      id: EventId,
      duplicate: z.boolean().meta({ description: 'True when the id was published within the last 7 days.' }),
      subscriptions: z
        .array(SubscriptionId)
        .meta({ description: 'Subscriptions that durably queued the event, in order.' }),
    }),
  ),
});
export type PublishOutput = z.infer<typeof PublishOut>;

/** An event as stored and delivered (defaults applied). */
export const StoredEvent = z.object({
  id: EventId,
  type: z.string(),
  source: z.string(),
  subject: z.string().nullable(),
  category: z.string().nullable(),
  labels: z.record(z.string(), z.string()),
  time: UtcTimestamp,
  data: z.unknown(),
});
export type StoredEvent = z.infer<typeof StoredEvent>;

/** Where an event stands at one subscription. */
export const EventDeliveryStatus = z.enum(['pending', 'delivering', 'delivered', 'dead', 'deleted']).meta({
  description: '`deleted` when the subscription no longer exists.',
});

/** `GET /v1/events/{id}`. */
export const EventOut = StoredEvent.extend({
  subscriptions: z.array(z.object({ id: SubscriptionId, status: EventDeliveryStatus })),
}).meta({ description: 'A published event and its state at each matching subscription.' });
export type EventOutput = z.infer<typeof EventOut>;
