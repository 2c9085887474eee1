/** Schemas of tenants and their API keys (operators: `/v1/tenants…`; a tenant's own: `/v1/keys`), and usage. */
import { z } from 'zod';
import { pageCursor, UtcTimestamp } from './common';

/** A lowercase slug: never holds the separators of names Hookline joins with it. */
export const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** `key_` + 32 hex. */
export const KEY_ID = /^key_[0-9a-f]{32}$/;

export const TenantId = z
  .string()
  .regex(TENANT_ID, 'must be a lowercase slug: a-z, 0-9 and -, starting with a letter or digit, <= 63')
  .meta({ examples: ['acme'] });

const EventsPerMonth = z
  .int('must be an integer')
  .min(0, 'must be at least 0')
  .max(Number.MAX_SAFE_INTEGER, 'is too large')
  .nullable()
  .meta({ description: 'Events the tenant may publish per calendar month (UTC); null for no cap.' });

const TenantName = z.string().max(200, 'must be at most 200 characters').nullable();

/** `POST /v1/tenants`. Without `eventsPerMonth`, DEFAULT_EVENTS_PER_MONTH applies. */
export const TenantCreate = z
  .strictObject({
    id: TenantId,
    name: TenantName.default(null),
    eventsPerMonth: EventsPerMonth.optional(),
  })
  .meta({ description: 'A new tenant.' });
export type TenantCreateInput = z.infer<typeof TenantCreate>;

/** `PATCH /v1/tenants/{id}`. */
export const TenantPatch = z
  .strictObject({ name: TenantName.optional(), eventsPerMonth: EventsPerMonth.optional() })
  .refine((patch) => Object.keys(patch).length > 0, {
    message: 'give at least one field to change',
    when: (payload) => payload.issues.length === 0,
  })
  .meta({ description: 'Changes to a tenant.', minProperties: 1 });

/** `cursor` of `GET /v1/tenants`: after this tenant id. */
export const TenantCursor = pageCursor(TenantId);

/** `GET /v1/tenants`. */
export const TenantListQuery = z.object({
  limit: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(250, 'must be at most 250')
    .default(50),
  cursor: TenantCursor.optional().meta({ description: '`nextCursor` of the previous page.' }),
});

export const TenantOut = z
  .object({
    id: TenantId,
    name: z.string().nullable(),
    eventsPerMonth: z
      .int()
      .nullable()
      .meta({ description: 'The cap in force (the tenant’s own, or DEFAULT_EVENTS_PER_MONTH); null: none.' }),
    createdAt: UtcTimestamp,
    updatedAt: UtcTimestamp,
  })
  .meta({ description: 'A tenant.' });

export const TenantListOut = z.object({
  data: z.array(TenantOut),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Pass as `cursor` for the next page; null at the end.' }),
});

/** `POST /v1/tenants/{id}/keys` and `POST /v1/keys`. */
export const KeyCreate = z
  .strictObject({ name: z.string().max(200, 'must be at most 200 characters').nullable().default(null) })
  .meta({ description: 'A new API key of the tenant.' });

export const KeyOut = z
  .object({
    id: z.string().regex(KEY_ID),
    name: z.string().nullable(),
    createdAt: UtcTimestamp,
    lastUsedAt: UtcTimestamp.nullable().meta({
      description: 'Coarse: within about a minute of the last use; null when never used.',
    }),
  })
  .meta({ description: 'An API key, without the key.' });

export const KeyCreatedOut = z
  .object({
    id: z.string().regex(KEY_ID),
    name: z.string().nullable(),
    key: z.string().meta({ description: 'The key: shown only in this answer, stored only hashed.' }),
    createdAt: UtcTimestamp,
  })
  .meta({ description: 'A new API key, with the key (shown once).' });

export const KeyListOut = z.object({ data: z.array(KeyOut) });

/** `GET /v1/usage`. */
export const UsageOut = z
  .object({
    period: z
      .string()
      .regex(/^\d{4}-\d{2}$/)
      .meta({ description: 'The calendar month (UTC), `YYYY-MM`.' }),
    events: z.int().meta({ description: 'Accepted, non-duplicate events this month, each counted once.' }),
    eventsPerMonth: z.int().nullable(),
    resetsAt: UtcTimestamp.meta({ description: 'First day of the next month, 00:00 UTC.' }),
  })
  .meta({ description: "The tenant's usage this month." });
