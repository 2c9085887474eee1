import { Router } from 'express';
import type { MetricsRecorder } from '../../metrics';
import { normalizeEvent } from '../../publish/normalize';
import { BacklogFullError, type Publisher } from '../../publish/publisher';
import { GeneratedIds } from '../../publish/records';
import { tenantOf } from '../auth';
import { HttpError } from '../errors';
import { checkEventDataDepths, checkEventDataSizes, PublishIn } from '../schemas/event';
import type { SubscriptionService } from '../subscriptions-service';
import { jsonBody, parseBody } from '../validation';

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
    try {
      const outcomes = await publisher.publish(tenant, events, { generated });
      metrics?.eventsPublished(tenant, outcomes.filter((o) => !o.duplicate).length);
      res.status(202).json({ events: outcomes });
    } catch (err) {
      if (err instanceof BacklogFullError) {
        throw HttpError.backlogFull(
          'a matching subscription cannot take more events now; publishing the same ids again is safe',
          err.retryAfterSeconds,
          err.subscriptionIds.map((id) => ({ subscriptionId: id })),
        );
      }
      throw err;
    }
  });

  router.get('/v1/events/:id', async (req, res) => {
    const tenant = tenantOf(res);
    const record = await service.record(tenant, req.params.id);
    if (!record) throw HttpError.notFound('event');
    const subscriptions = await Promise.all(
      record.subscriptionIds.map(async (id) => ({
        id,
        status: await service.eventStatus(tenant, id, record.event.id),
      })),
    );
    res.json({ ...record.event, subscriptions });
  });

  return router;
}
