/** Schemas of the event-type catalog: `/v1/event-types…`. */
import { z } from 'zod';
import { UtcTimestamp } from './common';
import { EventType } from './event';

const Description = z.string().max(1024, 'must be at most 1024 characters').nullable();
/** Any JSON value here; whether it is a JSON Schema is checked by Ajv (src/publish/event-schemas.ts). */
const JsonSchema = z
  .unknown()
  .meta({ description: 'A JSON Schema (draft 2020-12) that `data` of this type must match, or null.' });

/** `POST /v1/event-types`. */
export const EventTypeCreate = z
  .strictObject({
    name: EventType,
    description: Description.default(null),
    schema: JsonSchema.default(null),
  })
  .meta({ description: 'A new entry of the event-type catalog.' });

/** `PATCH /v1/event-types/{name}`. */
export const EventTypePatch = z
  .strictObject({
    description: Description.optional(),
    schema: JsonSchema.optional(),
    archived: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    message: 'give at least one field to change',
    when: (payload) => payload.issues.length === 0,
  })
  .meta({ description: 'Changes to an event type.', minProperties: 1 });

/** `GET /v1/event-types`. */
export const EventTypeListQuery = z.object({
  includeArchived: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .meta({ description: 'Also list archived event types.' }),
});

export const EventTypeOut = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    schema: z.unknown().meta({ description: 'A JSON Schema (draft 2020-12), or null.' }),
    archived: z.boolean(),
    createdAt: UtcTimestamp,
    updatedAt: UtcTimestamp,
  })
  .meta({ description: 'An entry of the event-type catalog.' });

export const EventTypeListOut = z.object({ data: z.array(EventTypeOut) });
