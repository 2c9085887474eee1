import { Router, type Request } from 'express';
import { z } from 'zod';
import { tenantOf } from '../auth';
import { EventTypeCreate, EventTypeListQuery, EventTypePatch } from '../schemas/event-type';
import { KeyCreate, TenantCreate, TenantCursor, TenantListQuery, TenantPatch } from '../schemas/tenant';
import type { TenantService } from '../tenants-service';
import { jsonBody, parseBody, parseQuery } from '../parse';

/** A route parameter as a string. */
function param(req: Request, name: string): string {
  const value = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}

const NoQuery = z.object({});

/** `/v1/tenants…`: operators only (the operator-key check runs before these). */
export function tenantsRouter(service: TenantService): Router {
  const router = Router();

  router.post('/v1/tenants', ...jsonBody(), async (req, res) => {
    res.status(201).json(await service.create(parseBody(TenantCreate, req.body)));
  });

  router.get('/v1/tenants', async (req, res) => {
    const { cursor, limit } = parseQuery(TenantListQuery, req.query);
    const page = await service.list({ limit, after: cursor });
    res.json({ data: page.data, nextCursor: page.next === null ? null : TenantCursor.encode(page.next) });
  });

  router.get('/v1/tenants/:id', async (req, res) => {
    res.json(await service.get(param(req, 'id')));
  });

  router.patch('/v1/tenants/:id', ...jsonBody(), async (req, res) => {
    res.json(await service.patch(param(req, 'id'), parseBody(TenantPatch, req.body)));
  });

  router.delete('/v1/tenants/:id', async (req, res) => {
    await service.remove(param(req, 'id'));
    res.status(204).end();
  });

  router.post('/v1/tenants/:id/keys', ...jsonBody(), async (req, res) => {
    const { name } = parseBody(KeyCreate, req.body);
    const { id, key, createdAt } = await service.createKey(param(req, 'id'), name);
    res.status(201).json({ id, name, key, createdAt });
  });

  router.get('/v1/tenants/:id/keys', async (req, res) => {
    res.json({ data: await service.listKeys(param(req, 'id')) });
  });

  router.delete('/v1/tenants/:id/keys/:keyId', async (req, res) => {
    await service.removeKey(param(req, 'id'), param(req, 'keyId'));
    res.status(204).end();
  });

  return router;
}

/** A tenant's own keys (`/v1/keys`), usage (`/v1/usage`) and event types (`/v1/event-types`). */
export function tenantSelfRouter(service: TenantService): Router {
  const router = Router();

  router.post('/v1/keys', ...jsonBody(), async (req, res) => {
    const { name } = parseBody(KeyCreate, req.body);
    const { id, key, createdAt } = await service.createKey(tenantOf(res), name);
    res.status(201).json({ id, name, key, createdAt });
  });

  router.get('/v1/keys', async (_req, res) => {
    res.json({ data: await service.listKeys(tenantOf(res)) });
  });

  router.delete('/v1/keys/:keyId', async (req, res) => {
    await service.removeKey(tenantOf(res), param(req, 'keyId'));
    res.status(204).end();
  });

  router.get('/v1/usage', async (req, res) => {
    parseQuery(NoQuery, req.query);
    res.json(await service.usage(tenantOf(res)));
  });

  router.post('/v1/event-types', ...jsonBody(), async (req, res) => {
    const input = parseBody(EventTypeCreate, req.body);
    res.status(201).json(await service.createEventType(tenantOf(res), input));
  });

  router.get('/v1/event-types', async (req, res) => {
    const { includeArchived } = parseQuery(EventTypeListQuery, req.query);
    res.json({ data: await service.listEventTypes(tenantOf(res), includeArchived) });
  });

  router.get('/v1/event-types/:name', async (req, res) => {
    res.json(await service.getEventType(tenantOf(res), param(req, 'name')));
  });

  router.patch('/v1/event-types/:name', ...jsonBody(), async (req, res) => {
    const changes = parseBody(EventTypePatch, req.body);
    res.json(await service.patchEventType(tenantOf(res), param(req, 'name'), changes));
  });

  router.delete('/v1/event-types/:name', async (req, res) => {
    await service.removeEventType(tenantOf(res), param(req, 'name'));
    res.status(204).end();
  });

  return router;
}
