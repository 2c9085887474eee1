/**
 * Schemas of the subscriptions resource (`/v1/subscriptions…`): registration, changes, lists, the
 * secret. What a subscription was sent and holds (queue, attempts, dead letters) is in delivery.ts.
 */
import { z } from 'zod';
import { isReservedHeader } from '../../domain/headers';
import { EVENT_TYPE_PATTERN } from '../../domain/matching';
import { FORMATS, SUBSCRIPTION_STATUSES } from '../../domain/types';
import { MAX_TARGET_URL_LENGTH, normalizeTargetUrl, TargetUrlError } from '../../net/url';
import {
  Labels,
  recordKey,
  stringRecord,
  SubscriptionId,
  UtcTimestamp,
  pageCursor,
  pageQuery,
} from './common';

// ---- Fields ----

/**
 * A URL normalised (scheme/host case, default port, no fragment) to its stored form. `lookup`: a URL
 * to look a registration up by, where one whose normalised form grew too long to have been
 * registered (by percent-encoding) stays as given and matches nothing rather than answering 400.
 */
function normalizedUrl(lookup: boolean) {
  return z
    .string()
    .max(MAX_TARGET_URL_LENGTH, `must be at most ${MAX_TARGET_URL_LENGTH} characters`)
    .transform((raw, ctx) => {
      try {
        return normalizeTargetUrl(raw);
      } catch (err) {
        if (!(err instanceof TargetUrlError)) throw err;
        if (lookup && err.reason === 'too_long') return raw;
        ctx.addIssue({ code: 'custom', message: `invalid target URL: ${err.message}` });
        return z.NEVER;
      }
    });
}

/** A target URL in its stored form. */
export const TargetUrl = normalizedUrl(false).meta({
  format: 'uri',
  description: 'An http or https URL.',
  examples: ['https://example.com/hooks'],
});

/** A URL to look a registration up by (`?url=`). */
const TargetUrlQuery = normalizedUrl(true).meta({
  format: 'uri',
  description: 'An http or https URL.',
  examples: ['https://example.com/hooks'],
});

/** Longest event type pattern, in characters. */
const MAX_PATTERN_LENGTH = 256;

const EventTypePattern = z
  .string()
  .max(MAX_PATTERN_LENGTH, `must be at most ${MAX_PATTERN_LENGTH} characters`)
  // A regex rather than a refine: the OpenAPI document then carries it as `pattern`.
  .regex(EVENT_TYPE_PATTERN, 'must be an event type (order.created), a prefix pattern (order.*) or *');

/** RFC 9110 token: the characters allowed in a header name. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Characters an HTTP client may send in a header value: tab, visible ASCII, obs-text (Latin-1). */
const HEADER_VALUE_CHARS = /^[\t\x20-\x7e\x80-\xff]*$/;
const CR_LF_NUL = /[\r\n\0]/;

const HeaderName = recordKey(128)
  .regex(HTTP_TOKEN, "must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)")
  .refine((name) => !isReservedHeader(name), {
    error: (issue) =>
      `${String(issue.input)} may not override the signature, content or origin headers Hookline sets`,
  });

const HeaderValue = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  // A regex rather than a refine: the OpenAPI document then carries it as `pattern`.
  .regex(HEADER_VALUE_CHARS, {
    error: (issue) =>
      CR_LF_NUL.test(String(issue.input))
        ? 'must not contain CR, LF or NUL'
        : 'may contain only tab, visible ASCII and Latin-1 characters',
  });

/** Static headers sent on every delivery: ≤ 50, names are tokens ≤ 128, values ≤ 2048 characters. */
export const StaticHeaders = stringRecord(
  { maxEntries: 50, maxKeyLength: 128, maxValueLength: 2048, noun: 'headers' },
  { key: HeaderName, value: HeaderValue },
).superRefine((headers, ctx) => {
  // Header names are case-insensitive: `X-Team` and `x-team` would be one header sent twice.
  const seen = new Set<string>();
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (seen.has(lower)) {
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'repeats a header name (names are case-insensitive)',
      });
    }
    seen.add(lower);
  }
});

/** Why a subscription of format `event` refuses another maxBatchSize than 1. */
export const EVENT_FORMAT_BATCH = 'must be 1 with format event (one event per POST)';

/** Every settable field, without defaults; create and patch add them or make them optional. */
const fields = {
  url: TargetUrl,
  name: z
    .string()
    .max(200, 'must be at most 200 characters')
    .nullable()
    .meta({ description: 'A name for people, e.g. "Orders to ERP".' }),
  eventTypes: z
    .array(EventTypePattern)
    .min(1, 'at least one event type')
    .max(100, 'at most 100 event types')
    .meta({ description: 'Exact type, `prefix.*`, or `*`.', examples: [['order.created', 'edition.*']] }),
  subject: z
    .string()
    .max(1024, 'must be at most 1024 characters')
    .nullable()
    .meta({ description: 'Only events whose subject starts with this.' }),
  categories: z
    .array(z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'))
    .max(50, 'at most 50 categories')
    .nullable()
    .meta({ description: 'Only events whose category is listed.' }),
  labels: Labels.nullable().meta({ description: 'Only events carrying all these labels.' }),
  format: z.enum(FORMATS).meta({
    description:
      'Body format of deliveries. `event`: one event per POST, the body is the event itself (maxBatchSize 1).',
  }),
  requireValidation: z
    .boolean()
    .meta({ description: 'Run the CloudEvents abuse-protection handshake before delivering.' }),
  maxBatchSize: z
    .int()
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .meta({ description: 'Most events per delivery request; must be 1 with format `event`.' }),
  headers: StaticHeaders.meta({ description: 'Extra static headers on every delivery.' }),
  rateLimitPerSecond: z
    .int()
    .min(1, 'must be at least 1')
    .max(10_000, 'must be at most 10000')
    .nullable()
    .meta({ description: 'Most delivery requests per second; null for no cap.' }),
  description: z.string().max(1024, 'must be at most 1024 characters').nullable(),
  metadata: stringRecord({
    maxEntries: 50,
    maxKeyLength: 128,
    maxValueLength: 1024,
    noun: 'metadata entries',
  }),
};

// ---- Requests ----

/** `POST /v1/subscriptions`. The output has every field, defaults applied and the URL normalised. */
export const SubscriptionCreate = z
  .strictObject({
    url: fields.url,
    name: fields.name.default(null),
    eventTypes: fields.eventTypes,
    subject: fields.subject.default(null),
    categories: fields.categories.default(null),
    labels: fields.labels.default(null),
    format: fields.format.default('raw'),
    requireValidation: fields.requireValidation.default(false),
    maxBatchSize: fields.maxBatchSize.optional().meta({
      description:
        'Most events per delivery request: 100 unless given (1 with format `event`, which needs 1).',
    }),
    headers: fields.headers.default(() => ({})),
    rateLimitPerSecond: fields.rateLimitPerSecond.default(null),
    description: fields.description.default(null),
    metadata: fields.metadata.default(() => ({})),
  })
  .superRefine((sub, ctx) => {
    if (sub.format === 'event' && sub.maxBatchSize !== undefined && sub.maxBatchSize !== 1) {
      ctx.addIssue({ code: 'custom', path: ['maxBatchSize'], message: EVENT_FORMAT_BATCH });
    }
  })
  .transform((sub) => ({ ...sub, maxBatchSize: sub.maxBatchSize ?? (sub.format === 'event' ? 1 : 100) }))
  .meta({ description: 'A new subscription.' });
export type SubscriptionCreateInput = z.infer<typeof SubscriptionCreate>;

/** `PATCH /v1/subscriptions/{id}`: only the fields given change; null clears a nullable one. */
export const SubscriptionPatch = z
  .strictObject({
    url: fields.url.optional(),
    name: fields.name.optional(),
    eventTypes: fields.eventTypes.optional(),
    subject: fields.subject.optional(),
    categories: fields.categories.optional(),
    labels: fields.labels.optional(),
    format: fields.format.optional(),
    maxBatchSize: fields.maxBatchSize.optional(),
    headers: fields.headers.optional(),
    rateLimitPerSecond: fields.rateLimitPerSecond.optional(),
    description: fields.description.optional(),
    metadata: fields.metadata.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    message: 'give at least one field to change',
    when: (payload) => payload.issues.length === 0,
  })
  .meta({ description: 'Changes to a subscription; `requireValidation` cannot change.', minProperties: 1 });
export type SubscriptionPatchInput = z.infer<typeof SubscriptionPatch>;

/**
 * `If-Match: <version>`; also accepts the entity-tag forms `"3"` and `W/"3"`. Output: the version.
 */
export const IfMatch = z
  .string()
  .regex(/^\s*(?:W\/)?(?:"\d{1,15}"|\d{1,15})\s*$/, 'must be a subscription version (an integer)')
  .transform((header) => Number(header.replace(/\D/g, '')));

/**
 * `cursor` of `GET /v1/subscriptions`: after this subscription id (see `pageCursor`).
 * `SubscriptionCursor.encode(id)` makes one.
 */
export const SubscriptionCursor = pageCursor(z.string().regex(/^sub_[0-9a-f]{32}$/));

/** `GET /v1/subscriptions`. */
export const SubscriptionList = z.object({
  url: TargetUrlQuery.optional().meta({ description: 'Only the subscription registered for this URL.' }),
  eventType: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_PATTERN_LENGTH, `must be at most ${MAX_PATTERN_LENGTH} characters`)
    .optional()
    .meta({ description: 'Only subscriptions that take events of this type.' }),
  status: z.enum(SUBSCRIPTION_STATUSES).optional(),
  ...pageQuery(SubscriptionCursor, 250),
});
export type SubscriptionListQuery = z.infer<typeof SubscriptionList>;

/** `DELETE /v1/subscriptions?url=`: delete by registration URL. */
export const SubscriptionDeleteQuery = z.object({ url: TargetUrlQuery });
export type SubscriptionDeleteQuery = z.infer<typeof SubscriptionDeleteQuery>;

// ---- Responses ----

export const SubscriptionStatus = z.enum(SUBSCRIPTION_STATUSES);

/** The subscription object. `secret` only in the 201 answer of a create. */
export const SubscriptionOut = z
  .object({
    id: SubscriptionId,
    url: z.string(),
    name: z.string().nullable(),
    eventTypes: z.array(z.string()),
    subject: z.string().nullable(),
    categories: z.array(z.string()).nullable(),
    labels: z.record(z.string(), z.string()).nullable(),
    format: z.enum(FORMATS),
    status: SubscriptionStatus,
    requireValidation: z.boolean(),
    maxBatchSize: z.int(),
    headers: z.record(z.string(), z.string()),
    rateLimitPerSecond: z.int().nullable(),
    description: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    version: z.int().meta({ description: 'Bumped on every change; send it as `If-Match`.' }),
    createdAt: UtcTimestamp,
    updatedAt: UtcTimestamp,
    secret: z.string().optional().meta({ description: 'The signing secret (`whsec_…`); only on create.' }),
  })
  .meta({ description: 'A subscription: a webhook endpoint registration.' });
export type SubscriptionOutput = z.infer<typeof SubscriptionOut>;

/** `GET /v1/subscriptions`. */
export const SubscriptionListOut = z.object({
  data: z.array(SubscriptionOut),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null at the end.' }),
});
export type SubscriptionListOutput = z.infer<typeof SubscriptionListOut>;

/** `GET …/secret` and `POST …/secret/rotate`. */
export const SecretOut = z.object({
  secret: z.string().startsWith('whsec_').meta({ description: '`whsec_` + base64 of the key bytes.' }),
});
export type SecretOutput = z.infer<typeof SecretOut>;
