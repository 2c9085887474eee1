import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Router } from 'express';
import type { Store } from '../../store';
import { keyHash, keyIdOf, newPortalToken, tenantOf } from '../auth';
import { portalBundle, PORTAL_DIR } from '../portal-bundle';
import { PortalSessionCreate } from '../schemas/portal';
import { jsonBody, parseBody } from '../parse';

/**
 * Stores a new portal session (its token's hash only) and answers the token, shown once.
 * NotFoundError when the tenant is not live.
 */
export async function openPortalSession(
  store: Store,
  session: { tenant: string; keyId: string | null; readOnly: boolean; expiresAt: number },
  now: number,
): Promise<string> {
  const token = newPortalToken();
  const id = `ps_${randomUUID().replace(/-/g, '')}`;
  await store.portalSessions.create({ id, ...session, tokenHash: keyHash(token) }, now);
  return token;
}

/** `POST /v1/portal/sessions` (tenant keys; behind the API-key check). */
export function portalSessionsRouter(deps: { store: Store; publicBaseUrl: string }): Router {
  const router = Router();
  router.post('/v1/portal/sessions', ...jsonBody(), async (req, res) => {
    const { expiresInSeconds, readOnly } = parseBody(PortalSessionCreate, req.body);
    const now = Date.now();
    const expiresAt = now + expiresInSeconds * 1000;
    const token = await openPortalSession(
      deps.store,
      { tenant: tenantOf(res), keyId: keyIdOf(res), readOnly, expiresAt },
      now,
    );
    res.status(201).json({
      url: `${deps.publicBaseUrl}/portal/#token=${token}`,
      token,
      expiresAt: new Date(expiresAt).toISOString(),
      readOnly,
    });
  });
  return router;
}

/**
 * The portal's Content-Security-Policy: everything the page loads comes from this origin, and it talks
 * only to this origin's API. No inline script or style, no form posts anywhere (the page submits
 * through fetch), and only `frameAncestors` (PORTAL_FRAME_ANCESTORS) may show it in a frame.
 */
export function portalCsp(frameAncestors: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`,
  ].join('; ');
}

/**
 * `GET /portal/`: the consumer portal, a page for a tenant's customers. Public like `/docs`: the page
 * holds no data; it reads its session token from the link's fragment and calls the API with it.
 */
export function portalPageRouter(opts: { frameAncestors: string[] }): Router {
  const router = Router({ strict: true });
  const headers: Record<string, string> = {
    'Content-Security-Policy': portalCsp(opts.frameAncestors),
    'X-Content-Type-Options': 'nosniff',
    // The token travels in the fragment, which browsers never send; no-referrer keeps even the path home.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
  // Browsers that ignore frame-ancestors: X-Frame-Options can say only "nowhere" (or this origin).
  if (opts.frameAncestors.length === 0) headers['X-Frame-Options'] = 'DENY';
  router.get('/portal', (_req, res) => res.redirect(301, '/portal/'));
  router.get('/portal/', (_req, res) => {
    res.set(headers);
    res.type('html').sendFile(join(PORTAL_DIR, 'index.html'));
  });
  router.get('/portal/portal.css', (_req, res) => {
    res.set(headers);
    res.type('text/css; charset=utf-8').sendFile(join(PORTAL_DIR, 'portal.css'));
  });
  router.get('/portal/portal.js', async (_req, res) => {
    const script = await portalBundle();
    res.set(headers);
    res.type('text/javascript; charset=utf-8').send(script);
  });
  return router;
}
