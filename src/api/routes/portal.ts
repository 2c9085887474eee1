import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Router, type Response } from 'express';
import type { Store } from '../../store';
import { keyHash, keyIdOf, newPortalToken, tenantOf } from '../auth';
import { portalBundle, PORTAL_DIR } from '../portal-bundle';
import { PortalSessionCreate } from '../schemas/portal';
import { jsonBody, parseBody } from '../parse';

/** `POST /v1/portal/sessions` (tenant keys; behind the API-key check). */
export function portalSessionsRouter(deps: {
  store: Store;
  publicBaseUrl: string;
  clock?: () => number;
}): Router {
  const router = Router();
  const clock = deps.clock ?? Date.now;
  router.post('/v1/portal/sessions', ...jsonBody(), async (req, res) => {
    const { expiresInSeconds, readOnly } = parseBody(PortalSessionCreate, req.body);
    const token = newPortalToken();
    const now = clock();
    const expiresAt = now + expiresInSeconds * 1000;
    const id = `ps_${randomUUID().replace(/-/g, '')}`;
    await deps.store.portalSessions.create(
      { id, tenant: tenantOf(res), keyId: keyIdOf(res), readOnly, expiresAt, tokenHash: keyHash(token) },
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
 * Everything the page loads comes from this origin, and it talks only to this origin's API. No inline
 * script or style, no frame may embed it, no form posts anywhere (the page submits through fetch).
 */
export const PORTAL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: Response): void {
  res.set({
    'Content-Security-Policy': PORTAL_CSP,
    'X-Content-Type-Options': 'nosniff',
    // The token travels in the fragment, which browsers never send; no-referrer keeps even the path home.
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  });
}

/**
 * `GET /portal/`: the consumer portal, a page for a tenant's customers. Public like `/docs`: the page
 * holds no data; it reads its session token from the link's fragment and calls the API with it.
 */
export function portalPageRouter(): Router {
  const router = Router({ strict: true });
  router.get('/portal', (_req, res) => res.redirect(301, '/portal/'));
  router.get('/portal/', (_req, res) => {
    secure(res);
    res.type('html').sendFile(join(PORTAL_DIR, 'index.html'));
  });
  router.get('/portal/portal.css', (_req, res) => {
    secure(res);
    res.type('text/css; charset=utf-8').sendFile(join(PORTAL_DIR, 'portal.css'));
  });
  router.get('/portal/portal.js', async (_req, res) => {
    const script = await portalBundle();
    secure(res);
    res.type('text/javascript; charset=utf-8').send(script);
  });
  return router;
}
