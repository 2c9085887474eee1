import { openPortalSession } from '../../src/api/routes/portal';
import type { Store } from '../../src/store';

/**
 * A portal session made as `POST /v1/portal/sessions` makes it, for what the route cannot make: a
 * session already expired, or one of a tenant without an API key. Answers the token.
 */
export function storePortalSession(
  store: Store,
  tenant: string,
  opts: { readOnly?: boolean; expiresAt: number },
): Promise<string> {
  return openPortalSession(
    store,
    { tenant, keyId: null, readOnly: opts.readOnly ?? false, expiresAt: opts.expiresAt },
    Math.min(Date.now(), opts.expiresAt - 60_000),
  );
}
