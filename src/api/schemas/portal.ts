/** Schemas of consumer portal sessions (`POST /v1/portal/sessions`). */
import { z } from 'zod';
import { UtcTimestamp } from './common';

/** Seconds a portal link may live: one minute to one day. */
export const PORTAL_SESSION_SECONDS = { min: 60, max: 86_400, default: 3600 } as const;

export const PortalSessionCreate = z
  .strictObject({
    expiresInSeconds: z
      .int('must be an integer')
      .min(PORTAL_SESSION_SECONDS.min, `must be at least ${PORTAL_SESSION_SECONDS.min}`)
      .max(PORTAL_SESSION_SECONDS.max, `must be at most ${PORTAL_SESSION_SECONDS.max}`)
      .default(PORTAL_SESSION_SECONDS.default)
      .meta({ description: 'Seconds until the link stops working (60..86400).' }),
    readOnly: z.boolean('must be true or false').default(false).meta({
      description:
        'A read-only session gets 403 on every change, and its page shows no control that changes anything.',
    }),
  })
  .meta({ description: 'A consumer portal link of this tenant.' });
export type PortalSessionInput = z.infer<typeof PortalSessionCreate>;

export const PortalSessionOut = z
  .object({
    url: z
      .string()
      .meta({ description: '`<PUBLIC_BASE_URL>/portal/#token=…`: the link to hand the customer.' }),
    token: z.string().meta({
      description:
        "A bearer for this tenant's `/v1/subscriptions…`, `/v1/events…`, `/v1/event-types` (read) and `/v1/usage` routes only.",
    }),
    expiresAt: UtcTimestamp,
    readOnly: z.boolean(),
  })
  .meta({ description: 'A portal session: shown once, stored hashed.' });
