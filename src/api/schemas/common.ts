/**
 * Schema pieces shared by every resource: the error body, validation details, bounded string
 * records, timestamps and ids. Lengths are in UTF-16 code units (JavaScript string length).
 */
import { z } from 'zod';

// ---- Errors ----

export const ValidationDetail = z.object({
  /** Dot-joined path into the request, e.g. `eventTypes.0`; empty for the whole body. */
  path: z.string(),
  message: z.string(),
});
export type ValidationDetail = z.infer<typeof ValidationDetail>;

/** The body of every error answer: `{"error": {"code", "message", "details"}}`. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'snake_case, stable: validation_failed, not_found, …' }),
      message: z.string().meta({ description: 'For people; may change.' }),
      details: z.array(z.unknown()).meta({
        description: 'For validation_failed: `[{"path": "eventTypes.0", "message": "…"}]`.',
      }),
    }),
  })
  .meta({ description: 'An error answer.' });
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * Per-parse error map: a missing member reads "required" instead of "expected string, received
 * undefined" (JSON has no undefined, so undefined always means absent).
 */
export const parseErrorMap: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined;

/** The message of a member a strict object does not know. */
export const UNKNOWN_FIELD = 'unknown field';

/**
 * One detail per problem, path dot-joined. An unknown member of a strict object is reported at its
 * own path (`foo`, `headers.x`), one detail per unknown member. A failed union reports the issues
 * of its closest branch (fewest issues).
 */
export function validationDetails(error: z.ZodError): ValidationDetail[] {
  return error.issues.flatMap((issue) => detailsOf(issue, []));
}

function detailsOf(issue: z.core.$ZodIssue, prefix: PropertyKey[]): ValidationDetail[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: joinPath([...path, key]), message: UNKNOWN_FIELD }));
    case 'invalid_union': {
      const closest = issue.errors.reduce<z.core.$ZodIssue[] | undefined>(
        (best, branch) => (best === undefined || branch.length < best.length ? branch : best),
        undefined,
      );
      if (closest === undefined || closest.length === 0)
        return [{ path: joinPath(path), message: issue.message }];
      return closest.flatMap((inner) => detailsOf(inner, path));
    }
    case 'invalid_key':
      return [
        {
          path: joinPath(path),
          message: `invalid name: ${issue.issues.map((inner) => inner.message).join('; ')}`,
        },
      ];
    case 'invalid_element':
      return issue.issues.flatMap((inner) => detailsOf(inner, path));
    default:
      return [{ path: joinPath(path), message: issue.message }];
  }
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map((segment) => String(segment)).join('.');
}

// ---- JSON values ----

/**
 * Whether `value` nests containers (arrays, objects) more than `limit` levels deep: a scalar is 0
 * levels, `[]` and `{}` are 1, `{"a": [1]}` is 2. Iterative, with its own stack: safe on any value
 * JSON.parse returns, however deep, where zod, JSON.stringify and the payload converter recurse and
 * overflow the call stack at a few thousand levels (a few KiB of `[`).
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: unknown[] = [value];
  const depths: number[] = [0];
  while (pending.length > 0) {
    const current = pending.pop();
    const depth = depths.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth === limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

// ---- String records ----

export interface StringRecordLimits {
  /** Most entries. */
  maxEntries: number;
  /** Longest key, in characters; keys are never empty. */
  maxKeyLength: number;
  /** Longest value, in characters. */
  maxValueLength: number;
  /** What the entries are called in messages: "labels", "metadata entries". */
  noun: string;
}

/** Key schema shared by string records: non-empty and bounded. */
export function recordKey(maxLength: number) {
  return z.string().min(1, 'must not be empty').max(maxLength, `must be at most ${maxLength} characters`);
}

/**
 * A JSON object of string values, bounded in entries, key length and value length. A `__proto__`
 * key is refused: JSON.parse keeps it as an own member, but zod drops it silently (assigning it
 * to a plain object would swap the prototype), which would widen a label filter unnoticed.
 */
export function stringRecord(
  limits: StringRecordLimits,
  schemas: { key?: z.ZodType<string, string>; value?: z.ZodType<string, string> } = {},
) {
  const key = schemas.key ?? recordKey(limits.maxKeyLength);
  const value =
    schemas.value ??
    z.string().max(limits.maxValueLength, `must be at most ${limits.maxValueLength} characters`);
  const record = z.record(key, value).refine((entries) => Object.keys(entries).length <= limits.maxEntries, {
    message: `at most ${limits.maxEntries} ${limits.noun}`,
  });
  return z
    .preprocess((input, ctx) => {
      if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) {
        ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'this name is reserved' });
      }
      return input;
    }, record)
    .meta({ maxProperties: limits.maxEntries });
}

/** Labels on events and subscription filters: up to 50, keys ≤ 128, values ≤ 256 characters. */
export const Labels = stringRecord({
  maxEntries: 50,
  maxKeyLength: 128,
  maxValueLength: 256,
  noun: 'labels',
});

// ---- Timestamps ----

/** An RFC 3339 timestamp in UTC, as the API answers them: `2026-11-22T10:00:00.000Z`. */
export const UtcTimestamp = z.iso.datetime().meta({ description: 'RFC 3339, UTC.' });

const RFC3339_PARTS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An RFC 3339 timestamp as a client may send it (any offset, any fraction), rewritten to UTC with
 * `Z`. The fraction is kept digit for digit, so sub-millisecond precision survives. RFC 3339 has
 * four-digit years, so a time whose UTC form falls outside 0000-01-01..9999-12-31 is refused
 * (`9999-12-31T23:59:59-23:59` is in year 10000 in UTC).
 */
export const Rfc3339 = z.iso
  .datetime({ offset: true })
  .transform((timestamp, ctx) => {
    const utc = toUtc(timestamp);
    if (!/^\d{4}-/.test(utc)) {
      ctx.addIssue({ code: 'custom', message: 'must fall within the years 0000 to 9999 in UTC' });
      return z.NEVER;
    }
    return utc;
  })
  .meta({ description: 'RFC 3339 with a time zone offset; stored in UTC; years 0000 to 9999 in UTC.' });

/** `2026-11-22T11:00:00.5+01:00` → `2026-11-22T10:00:00.5Z`. Input must be valid RFC 3339. */
export function toUtc(timestamp: string): string {
  const parts = RFC3339_PARTS.exec(timestamp);
  if (!parts) return new Date(timestamp).toISOString();
  const [, seconds = '', fraction = '', offset = ''] = parts;
  if (offset === 'Z') return timestamp;
  // Whole seconds shifted by the offset; toISOString always prints `.000` for them.
  const utcSeconds = new Date(`${seconds}${offset}`).toISOString().slice(0, 19);
  return `${utcSeconds}${fraction}Z`;
}

// ---- Ids ----

/** Characters after an id prefix: alphanumerics, at most 64. */
const ID_BODY = '[A-Za-z0-9]{1,64}';

/** `sub_…`: a subscription. */
export const SubscriptionId = z
  .string()
  .regex(new RegExp(`^sub_${ID_BODY}$`), 'must be a subscription id (sub_…)')
  .brand<'SubscriptionId'>()
  .meta({ description: 'A subscription id, `sub_…`.', examples: ['sub_2f9c1e7ab04d4e1f9a1b3c5d7e9f0a12'] });
export type SubscriptionId = z.infer<typeof SubscriptionId>;

/** `msg_…`: one POST of one batch to one subscription, stable across its retries. */
export const MessageId = z
  .string()
  .regex(new RegExp(`^msg_${ID_BODY}$`), 'must be a message id (msg_…)')
  .brand<'MessageId'>()
  .meta({ description: 'A delivery (batch) id, `msg_…`; the `webhook-id` header.' });
export type MessageId = z.infer<typeof MessageId>;

/** Longest event id, in characters. */
export const MAX_EVENT_ID_LENGTH = 256;

/** An event id: `evt_…` when generated, else the producer's own idempotency key. */
export const EventId = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_EVENT_ID_LENGTH, `must be at most ${MAX_EVENT_ID_LENGTH} characters`)
  .regex(/^[A-Za-z0-9._:/@+-]+$/, 'may contain only letters, digits and . _ : / @ + -')
  .brand<'EventId'>()
  .meta({
    description:
      'The idempotency key: `evt_…` when generated, else chosen by the producer (1..256 of `A-Z a-z 0-9 . _ : / @ + -`).',
    examples: ['order-42-created'],
  });
export type EventId = z.infer<typeof EventId>;

// ---- Operations ----

/** `GET /healthz`. */
export const HealthOut = z.object({ status: z.literal('ok') });

/** `GET /readyz`: 200 when both checks pass, else 503 with the same body. */
export const ReadinessOut = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({ temporal: z.boolean(), worker: z.boolean() }),
});

// ---- Page cursors ----

const NOT_A_CURSOR = 'must be a nextCursor this service answered';

/**
 * A page cursor, opaque to clients: base64url of `{"at": <position>}`. Decodes to the position
 * (`position` checks it); `.encode(position)` makes one. Only the exact text `encode` makes is taken,
 * so anything else (a bare id, other JSON, padding, another list's cursor) answers 400 at `cursor`.
 */
/**
 * The paging members of a list's query: `limit` (1..`max`, default 50) and `cursor` (the
 * `nextCursor` of the previous page, parsed by `cursor`).
 */
export function pageQuery<C extends z.ZodType>(cursor: C, max: number) {
  return {
    limit: z.coerce
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(max, `must be at most ${max}`)
      .default(50),
    cursor: cursor.optional().meta({ description: '`nextCursor` of the previous page.' }),
  };
}

export function pageCursor<T extends string | number>(position: z.ZodType<T>) {
  const Position = z.strictObject({ at: position });
  const encode = (at: T) => Buffer.from(JSON.stringify({ at }), 'utf8').toString('base64url');
  return z.codec(
    z
      .string()
      .max(512, 'must be at most 512 characters')
      .regex(/^[A-Za-z0-9_-]+$/, NOT_A_CURSOR),
    z.custom<T>(),
    {
      decode: (cursor, payload) => {
        let parsed: { at: T } | undefined;
        try {
          parsed = Position.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
        } catch {
          // not JSON, or not a position of this list
        }
        if (parsed === undefined || encode(parsed.at) !== cursor) {
          payload.issues.push({ code: 'custom', message: NOT_A_CURSOR, input: cursor });
          return z.NEVER;
        }
        return parsed.at;
      },
      encode,
    },
  );
}
