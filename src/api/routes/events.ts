import { Router } from 'express';
import type { MetricsRecorder } from '../../metrics';
import { GeneratedIds } from '../../publish/generated-ids';
import { normalizeEvent } from '../../publish/normalize';
import type { Publisher } from '../../publish/publisher';
import { tenantOf } from '../auth';
import { HttpError } from '../errors';
import { checkEventDataDepths, checkEventDataSizes, PublishIn } from '../schemas/event';
import type { SubscriptionService } from '../subscriptions-service';
import { jsonBody, parseBody } from '../parse';

/** `POST /v1/events` (publish) and `GET /v1/events/{id}` (EventGet). */
export function eventsRouter(
  publisher: Publisher,
  service: SubscriptionService,
  metrics?: MetricsRecorder,
): Router {
  const router = Router();

  router.post('/v1/events', ...jsonBody(), async (req, res) => {
    checkEventDataDepths(req.body);
    const body = parseBody(PublishIn, req.body);
    const inputs = 'events' in body ? body.events : [body];
    checkEventDataSizes(inputs);
    const tenant = tenantOf(res);
    const now = new Date();
    const generated = new GeneratedIds();
    const events = inputs.map((e) => normalizeEvent(e, tenant, now, generated));
    const outcomes = await publisher.publish(tenant, events, { batch: 'events' in body });
    metrics?.eventsPublished(tenant, outcomes.filter((o) => !o.duplicate).length);
    res.status(202).json({ events: outcomes });
  });

  router.get('/v1/events/:id', async (req, res) => {
    const event = await service.event(tenantOf(res), req.params.id);
    if (!event) throw HttpError.notFound('event');
    res.json(event);
  });

  return router;
}
