import { randomUUID } from 'node:crypto';
import { keyHash, newPortalToken } from '../../src/api/auth';
import type { Store } from '../../src/store';

/**
 * A portal session written straight to the store, as `POST /v1/portal/sessions` writes it, for what
 * the route cannot make: a session already expired, or one of a tenant without an API key. Answers
 * the token.
 */
export async function storePortalSession(
  store: Store,
  tenant: string,
  opts: { readOnly?: boolean; expiresAt: number },
): Promise<string> {
  const token = newPortalToken();
  await store.portalSessions.create(
    {
      id: `ps_${randomUUID().replace(/-/g, '')}`,
      tenant,
      keyId: null,
      readOnly: opts.readOnly ?? false,
      expiresAt: opts.expiresAt,
      tokenHash: keyHash(token),
    },
    Math.min(Date.now(), opts.expiresAt - 60_000),
  );
  return token;
}
