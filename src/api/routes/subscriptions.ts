import { Router, type Request } from 'express';
import { z } from 'zod';
import { tenantOf } from '../auth';
import {
  IfMatch,
  SubscriptionDeleteQuery,
  SubscriptionCreate,
  SubscriptionCursor,
  SubscriptionList,
  SubscriptionPatch,
} from '../schemas/subscription';
import { DeliveriesQuery, RedeliverIn, DeliveriesCursor } from '../schemas/delivery';
import type { SubscriptionService } from '../subscriptions-service';
import { jsonBody, parseBody, parseQuery } from '../parse';

/** Actions that take no input: an empty body (or none), and no unknown fields. */
const NoFields = z.strictObject({});
/** `If-Match` with its name as the path of a 400. */
const IfMatchHeader = z.object({ 'If-Match': IfMatch });

/** A route parameter as a string (Express types allow arrays for wildcard segments). */
function param(req: Request, name: string): string {
  const value = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

/** `/v1/subscriptions…`: thin handlers over SubscriptionService. */
export function subscriptionsRouter(service: SubscriptionService): Router {
  const router = Router();

  router.post('/v1/subscriptions', ...jsonBody(), async (req, res) => {
    const input = parseBody(SubscriptionCreate, req.body);
    const { subscription, secret } = await service.create(tenantOf(res), input);
    res.status(201).json({ ...present(subscription), secret });
  });

  router.get('/v1/subscriptions', async (req, res) => {
    const { cursor, ...q } = parseQuery(SubscriptionList, req.query);
    const page = await service.list(tenantOf(res), { ...q, after: cursor });
    const nextCursor = page.next === null ? null : SubscriptionCursor.encode(page.next);
    res.json({ data: page.data.map(present), nextCursor });
  });

  router.delete('/v1/subscriptions', async (req, res) => {
    const { url } = parseQuery(SubscriptionDeleteQuery, req.query);
    await service.removeByUrl(tenantOf(res), url);
    res.status(204).end();
  });

  router.get('/v1/subscriptions/:id', async (req, res) => {
    res.json(present(await service.get(tenantOf(res), param(req, 'id'))));
  });

  router.patch('/v1/subscriptions/:id', ...jsonBody(), async (req, res) => {
    const header = req.get('if-match');
    const expected =
      header === undefined ? undefined : parseQuery(IfMatchHeader, { 'If-Match': header })['If-Match'];
    const changes = parseBody(SubscriptionPatch, req.body);
    res.json(present(await service.patch(tenantOf(res), param(req, 'id'), changes, expected)));
  });

  router.delete('/v1/subscriptions/:id', async (req, res) => {
    await service.remove(tenantOf(res), param(req, 'id'));
    res.status(204).end();
  });

  router.get('/v1/subscriptions/:id/secret', async (req, res) => {
    res.json({ secret: await service.secret(tenantOf(res), param(req, 'id')) });
  });

  router.post('/v1/subscriptions/:id/secret/rotate', ...jsonBody(), async (req, res) => {
    parseBody(NoFields, req.body);
    res.json({ secret: await service.rotateSecret(tenantOf(res), param(req, 'id')) });
  });

  router.post('/v1/subscriptions/:id/pause', ...jsonBody(), async (req, res) => {
    parseBody(NoFields, req.body);
    res.json(present(await service.setStatus(tenantOf(res), param(req, 'id'), 'paused')));
  });

  router.post('/v1/subscriptions/:id/resume', ...jsonBody(), async (req, res) => {
    parseBody(NoFields, req.body);
    res.json(present(await service.setStatus(tenantOf(res), param(req, 'id'), 'active')));
  });

  router.get('/v1/subscriptions/:id/queue', async (req, res) => {
    const queue = await service.queue(tenantOf(res), param(req, 'id'));
    res.json({ data: queue.data, size: queue.size });
  });

  router.get('/v1/subscriptions/:id/deliveries', async (req, res) => {
    const { cursor, ...q } = parseQuery(DeliveriesQuery, req.query);
    const page = await service.deliveries(tenantOf(res), param(req, 'id'), { ...q, before: cursor });
    res.json({
      data: page.data.map(({ errorClass: _errorClass, ...d }) => d),
      nextCursor: page.next === null ? null : DeliveriesCursor.encode(page.next),
    });
  });

  router.get('/v1/subscriptions/:id/events/:eventId', async (req, res) => {
    res.json(await service.entry(tenantOf(res), param(req, 'id'), param(req, 'eventId')));
  });

  router.get('/v1/subscriptions/:id/dead-letters', async (req, res) => {
    const dead = await service.deadLetters(tenantOf(res), param(req, 'id'));
    res.json({ data: dead });
  });

  router.post('/v1/subscriptions/:id/redeliver', ...jsonBody(), async (req, res) => {
    const body = parseBody(RedeliverIn, req.body);
    const result = await service.redeliver(tenantOf(res), param(req, 'id'), body);
    res.status(202).json(result);
  });

  return router;
}

/** The subscription object as the API answers it (`SubscriptionOut`; the tenant is implied by the key). */
function present(s: import('../../domain/types').Subscription) {
  const { tenant: _tenant, ...rest } = s;
  return rest;
}
