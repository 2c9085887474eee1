import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Metrics } from '../../metrics';
import { HttpError } from '../errors';

/** sha256 of a token: equal-length digests keep the comparison constant-time. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * `GET /metrics`: the Prometheus text exposition of `metrics`. With a `token`, the request must carry
 * `Authorization: Bearer <token>` (Prometheus: `authorization: { credentials: … }` in the scrape
 * config); without one it is open, like /healthz. API keys are never accepted here: a scraper's
 * credential must not be able to publish events.
 */
export function metricsRouter(metrics: Metrics, token: string | null): Router {
  const expected = token === null ? null : digest(token);
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (expected) {
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
        throw HttpError.unauthorized('missing or invalid metrics token');
      }
    }
    const text = await metrics.render();
    res.status(200).set('content-type', metrics.contentType).set('cache-control', 'no-store').send(text);
  });
  return router;
}
