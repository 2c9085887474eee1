import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { buildOpenApiDocument, type JsonObject, type OpenApiDocument } from '../../src/api/openapi';
import { openapiRouter } from '../../src/api/routes/openapi';

const doc: OpenApiDocument = buildOpenApiDocument({ version: '9.8.7' });

/**
 * Every operation of API.md: method, path, answers, and whether it needs the API key (`operator`: an
 * operator key, ADMIN_API_KEYS).
 */
const CONTRACT: { method: string; path: string; codes: number[]; auth: boolean | 'operator' }[] = [
  { method: 'post', path: '/v1/subscriptions', codes: [201, 400, 401, 409, 413, 415], auth: true },
  { method: 'get', path: '/v1/subscriptions', codes: [200, 400, 401], auth: true },
  { method: 'delete', path: '/v1/subscriptions', codes: [204, 400, 401, 404], auth: true },
  { method: 'get', path: '/v1/subscriptions/{id}', codes: [200, 401, 404], auth: true },
  {
    method: 'patch',
    path: '/v1/subscriptions/{id}',
    codes: [200, 400, 401, 404, 409, 412, 413, 415],
    auth: true,
  },
  { method: 'delete', path: '/v1/subscriptions/{id}', codes: [204, 401, 404], auth: true },
  { method: 'get', path: '/v1/subscriptions/{id}/secret', codes: [200, 401, 404], auth: true },
  { method: 'post', path: '/v1/subscriptions/{id}/secret/rotate', codes: [200, 401, 404], auth: true },
  { method: 'post', path: '/v1/subscriptions/{id}/pause', codes: [200, 401, 404], auth: true },
  { method: 'post', path: '/v1/subscriptions/{id}/resume', codes: [200, 401, 404], auth: true },
  { method: 'get', path: '/v1/subscriptions/{id}/queue', codes: [200, 401, 404], auth: true },
  { method: 'get', path: '/v1/subscriptions/{id}/deliveries', codes: [200, 400, 401, 404], auth: true },
  { method: 'get', path: '/v1/subscriptions/{id}/events/{eventId}', codes: [200, 401, 404], auth: true },
  { method: 'get', path: '/v1/subscriptions/{id}/dead-letters', codes: [200, 401, 404], auth: true },
  {
    method: 'post',
    path: '/v1/subscriptions/{id}/redeliver',
    codes: [202, 400, 401, 404, 413, 415],
    auth: true,
  },
  { method: 'post', path: '/v1/events', codes: [202, 400, 401, 413, 415, 429, 503], auth: true },
  { method: 'get', path: '/v1/events/{id}', codes: [200, 401, 404], auth: true },
  { method: 'post', path: '/v1/tenants', codes: [201, 400, 401, 403, 409, 413, 415], auth: 'operator' },
  { method: 'get', path: '/v1/tenants', codes: [200, 400, 401, 403], auth: 'operator' },
  { method: 'get', path: '/v1/tenants/{id}', codes: [200, 401, 403, 404], auth: 'operator' },
  { method: 'patch', path: '/v1/tenants/{id}', codes: [200, 400, 401, 403, 404, 413, 415], auth: 'operator' },
  { method: 'delete', path: '/v1/tenants/{id}', codes: [204, 401, 403, 404, 409], auth: 'operator' },
  { method: 'post', path: '/v1/tenants/{id}/keys', codes: [201, 400, 401, 403, 404], auth: 'operator' },
  { method: 'get', path: '/v1/tenants/{id}/keys', codes: [200, 401, 403, 404], auth: 'operator' },
  { method: 'delete', path: '/v1/tenants/{id}/keys/{keyId}', codes: [204, 401, 403, 404], auth: 'operator' },
  { method: 'post', path: '/v1/keys', codes: [201, 400, 401, 413, 415], auth: true },
  { method: 'get', path: '/v1/keys', codes: [200, 401], auth: true },
  { method: 'delete', path: '/v1/keys/{keyId}', codes: [204, 401, 404], auth: true },
  { method: 'get', path: '/v1/usage', codes: [200, 401], auth: true },
  { method: 'post', path: '/v1/portal/sessions', codes: [201, 400, 401, 403, 413, 415], auth: true },
  { method: 'post', path: '/v1/event-types', codes: [201, 400, 401, 409, 413, 415], auth: true },
  { method: 'get', path: '/v1/event-types', codes: [200, 400, 401], auth: true },
  { method: 'get', path: '/v1/event-types/{name}', codes: [200, 401, 404], auth: true },
  { method: 'patch', path: '/v1/event-types/{name}', codes: [200, 400, 401, 404, 413, 415], auth: true },
  { method: 'delete', path: '/v1/event-types/{name}', codes: [204, 401, 404], auth: true },
  { method: 'get', path: '/v1/validate/{id}', codes: [200, 403, 404], auth: false },
  { method: 'post', path: '/v1/validate/{id}', codes: [200, 403, 404], auth: false },
  { method: 'get', path: '/healthz', codes: [200], auth: false },
  { method: 'get', path: '/readyz', codes: [200, 503], auth: false },
  { method: 'get', path: '/metrics', codes: [200], auth: false },
  { method: 'get', path: '/openapi.json', codes: [200], auth: false },
  { method: 'get', path: '/docs', codes: [200], auth: false },
];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operationOf(path: string, method: string): JsonObject {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  return op;
}

/** Follows a local `$ref` (`#/a/b`) inside the document; throws when it points nowhere. */
function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local ref: ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key))
      throw new Error(`dangling ${ref}`);
    node = (node as JsonObject)[key];
  }
  return node;
}

function deref<T = JsonObject>(node: unknown): T {
  let current = node as JsonObject;
  while (typeof current.$ref === 'string') current = resolve(current.$ref) as JsonObject;
  return current as T;
}

/** Every `$ref` string anywhere under `node`. */
function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push(value);
      else refsIn(value, out);
    }
  }
  return out;
}

/**
 * Every object schema reachable from `schema` that declares properties (records, which declare
 * `propertyNames` instead, are maps and rightly open), following refs once each.
 */
function objectSchemasUnder(
  schema: unknown,
  seen = new Set<unknown>(),
  out: JsonObject[] = [],
): JsonObject[] {
  if (Array.isArray(schema)) {
    schema.forEach((s) => objectSchemasUnder(s, seen, out));
    return out;
  }
  if (typeof schema !== 'object' || schema === null) return out;
  const node = deref(schema);
  if (seen.has(node)) return out;
  seen.add(node);
  if (node.properties !== undefined) out.push(node);
  for (const value of Object.values(node)) objectSchemasUnder(value, seen, out);
  return out;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the given version', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: 'Hookline', version: '9.8.7' });
  });

  it('names the server only when given one', () => {
    expect(doc).not.toHaveProperty('servers');
    expect(buildOpenApiDocument({ version: '1', serverUrl: 'https://hooks.example' }).servers).toEqual([
      { url: 'https://hooks.example' },
    ]);
  });

  it('survives a JSON round trip unchanged (plain data only)', () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('is the same every time it is built', () => {
    expect(buildOpenApiDocument({ version: '9.8.7' })).toEqual(doc);
  });

  it.each(CONTRACT.map((c) => [c.method.toUpperCase(), c.path, c]))('has %s %s', (_m, _p, c) => {
    expect(operationOf(c.path, c.method)).toBeDefined();
  });

  it('has no operation that API.md does not list', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => METHODS.includes(key))
        .map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual(CONTRACT.map((c) => `${c.method} ${c.path}`).sort());
  });

  it.each(CONTRACT.map((c) => [c.method.toUpperCase(), c.path, c]))(
    '%s %s documents each of its answers',
    (_m, _p, c) => {
      const responses = operationOf(c.path, c.method).responses as JsonObject;
      const codes = Object.keys(responses).map(Number);
      expect(codes).toEqual(expect.arrayContaining(c.codes));
      for (const response of Object.values(responses))
        expect(deref(response).description).toEqual(expect.any(String));
    },
  );

  it.each(CONTRACT.map((c) => [c.method.toUpperCase(), c.path, c]))(
    '%s %s declares its auth',
    (_m, _p, c) => {
      const op = operationOf(c.path, c.method);
      if (c.auth === 'operator') {
        expect(op.security).toEqual([{ operatorAuth: [] }]);
      } else if (c.auth) {
        expect(op.security).toBeUndefined();
        expect(doc.security).toEqual([{ bearerAuth: [] }]);
      } else {
        expect(op.security).toEqual([]);
      }
    },
  );

  it('defines bearer auth, and operator bearer auth for the tenant routes', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.operatorAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('documents quota_exceeded on publish with Retry-After', () => {
    const responses = operationOf('/v1/events', 'post').responses as Record<string, JsonObject>;
    const quota = deref<{ description: string; headers: JsonObject }>(responses['429']);
    expect(quota.description).toMatch(/quota_exceeded/);
    expect(quota.headers).toHaveProperty('Retry-After');
  });

  it('describes the tenant, key, usage and event-type objects with every field of API.md', () => {
    const fieldsOf = (name: string) =>
      Object.keys(deref<{ properties: JsonObject }>(doc.components.schemas[name]).properties).sort();
    expect(fieldsOf('Tenant')).toEqual(['createdAt', 'eventsPerMonth', 'id', 'name', 'updatedAt']);
    expect(fieldsOf('ApiKeyCreated')).toEqual(['createdAt', 'id', 'key', 'name']);
    expect(fieldsOf('ApiKey')).toEqual(['createdAt', 'id', 'lastUsedAt', 'name']);
    expect(fieldsOf('Usage')).toEqual(['events', 'eventsPerMonth', 'period', 'resetsAt']);
    expect(fieldsOf('EventType')).toEqual([
      'archived',
      'createdAt',
      'description',
      'name',
      'schema',
      'updatedAt',
    ]);
    expect(fieldsOf('TenantCreate')).toEqual(['eventsPerMonth', 'id', 'name']);
    expect(fieldsOf('TenantPatch')).toEqual(['eventsPerMonth', 'name']);
    expect(fieldsOf('EventTypePatch')).toEqual(['archived', 'description', 'schema']);
  });

  it('answers errors with the error body', () => {
    const errorSchema = deref(doc.components.schemas.Error);
    expect(errorSchema.required).toEqual(['error']);
    for (const c of CONTRACT) {
      const responses = operationOf(c.path, c.method).responses as Record<string, JsonObject>;
      for (const code of c.codes.filter((n) => n >= 400 && !(c.path === '/readyz' && n === 503))) {
        const content = deref<{ content: Record<string, { schema: JsonObject }> }>(
          responses[String(code)],
        ).content;
        expect(content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
  });

  it('sends Retry-After with the 503 of a publish', () => {
    const response = deref<{ headers: Record<string, JsonObject> }>(
      (operationOf('/v1/events', 'post').responses as JsonObject)['503'],
    );
    expect(deref(response.headers['Retry-After'])).toMatchObject({ schema: { type: 'integer' } });
  });

  it('takes If-Match on PATCH', () => {
    const parameters = (operationOf('/v1/subscriptions/{id}', 'patch').parameters as JsonObject[]).map((p) =>
      deref(p),
    );
    expect(parameters).toContainEqual(
      expect.objectContaining({ name: 'If-Match', in: 'header', required: false }),
    );
  });

  it('takes the url query on DELETE /v1/subscriptions, required', () => {
    const parameters = operationOf('/v1/subscriptions', 'delete').parameters as JsonObject[];
    expect(parameters).toContainEqual(expect.objectContaining({ name: 'url', in: 'query', required: true }));
  });

  it('documents the list filters and limits with their bounds and defaults', () => {
    const list = operationOf('/v1/subscriptions', 'get').parameters as JsonObject[];
    expect(list.map((p) => p.name)).toEqual(['url', 'eventType', 'status', 'limit', 'cursor']);
    expect(list.find((p) => p.name === 'limit')!.schema).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 250,
      default: 50,
    });
    const deliveries = operationOf('/v1/subscriptions/{id}/deliveries', 'get').parameters as JsonObject[];
    expect(deliveries.map((p) => deref(p).name)).toEqual(['id', 'limit', 'cursor', 'outcome']);
    expect(deliveries[1]!.schema).toMatchObject({ minimum: 1, maximum: 100, default: 50 });
    expect(deliveries[3]!.schema).toMatchObject({ enum: ['succeeded', 'failed'] });
  });

  it('takes the code of the validation callback as a query parameter', () => {
    const parameters = operationOf('/v1/validate/{id}', 'get').parameters as JsonObject[];
    expect(parameters).toContainEqual(expect.objectContaining({ name: 'code', in: 'query', required: true }));
  });

  it('declares every path parameter of a templated path', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const declared = ((op.parameters as JsonObject[] | undefined) ?? [])
          .map((p) => deref(p))
          .filter((p) => p.in === 'path');
        expect({ method, path, names: declared.map((p) => p.name) }).toEqual({
          method,
          path,
          names: templated,
        });
        for (const p of declared) expect(p.required).toBe(true);
      }
    }
  });

  it('has every $ref resolve inside the document', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(() => resolve(ref)).not.toThrow();
  });

  it('gives every operation an id (unique) and at least one answer', () => {
    const ids: unknown[] = [];
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item)) {
        expect(Object.keys(op.responses as JsonObject).length).toBeGreaterThan(0);
        ids.push(op.operationId);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps $id and $schema out of component schemas (the 3.1 dialect applies)', () => {
    for (const schema of Object.values(doc.components.schemas)) {
      expect(schema).not.toHaveProperty('$id');
      expect(schema).not.toHaveProperty('$schema');
    }
  });

  describe('request bodies', () => {
    const bodies = CONTRACT.flatMap((c) => {
      const body = operationOf(c.path, c.method).requestBody as
        { content: Record<string, { schema: JsonObject }> } | undefined;
      return body
        ? [[c.method.toUpperCase(), c.path, body.content['application/json']!.schema] as const]
        : [];
    });

    it('are there for create, patch, redeliver and publish, and the tenant, key, portal-session and event-type writes', () => {
      expect(bodies.map(([m, p]) => `${m} ${p}`)).toEqual([
        'POST /v1/subscriptions',
        'PATCH /v1/subscriptions/{id}',
        'POST /v1/subscriptions/{id}/redeliver',
        'POST /v1/events',
        'POST /v1/tenants',
        'PATCH /v1/tenants/{id}',
        'POST /v1/tenants/{id}/keys',
        'POST /v1/keys',
        'POST /v1/portal/sessions',
        'POST /v1/event-types',
        'PATCH /v1/event-types/{name}',
      ]);
    });

    it.each(bodies)('%s %s rejects unknown fields in every object it holds', (_m, _p, schema) => {
      const objects = objectSchemasUnder(schema);
      expect(objects.length).toBeGreaterThan(0);
      for (const object of objects) expect(object.additionalProperties).toBe(false);
    });
  });

  it('describes a subscription create with its required fields and input defaults', () => {
    const create = deref<{
      required: string[];
      properties: Record<string, JsonObject>;
    }>(doc.components.schemas.SubscriptionCreate);
    expect(create.required).toEqual(['url', 'eventTypes']);
    expect(create.properties.format).toMatchObject({
      default: 'raw',
      enum: ['raw', 'cloudevents', 'slack', 'teams', 'googlechat', 'event'],
    });
    // No schema default: an absent maxBatchSize is 100, or 1 with format `event` (which needs 1).
    expect(create.properties.maxBatchSize).toMatchObject({ minimum: 1, maximum: 100 });
    expect(create.properties.maxBatchSize).not.toHaveProperty('default');
    expect(create.properties.maxBatchSize!.description).toMatch(/100 unless given.*1 with format `event`/);
    expect(create.properties.name).toMatchObject({ default: null });
    expect(create.properties.name!.anyOf).toContainEqual({ type: 'string', maxLength: 200 });
    expect(create.properties.url).toMatchObject({ type: 'string', maxLength: 2048 });
  });

  it('describes an event with only type and data required', () => {
    const event = deref<{ required: string[] }>(doc.components.schemas.EventIn);
    expect(event.required.sort()).toEqual(['data', 'type']);
  });

  it('describes a publish as one event or a batch of 1..100', () => {
    const publish = deref<{ oneOf: JsonObject[] }>(doc.components.schemas.PublishRequest);
    expect(publish.oneOf).toHaveLength(2);
    const batch = deref<{ properties: { events: JsonObject } }>(doc.components.schemas.EventBatch);
    expect(batch.properties.events).toMatchObject({ minItems: 1, maxItems: 100 });
  });

  it('describes redeliver as exactly one of eventIds or since', () => {
    expect(deref(doc.components.schemas.RedeliverRequest).oneOf).toEqual([
      { required: ['eventIds'] },
      { required: ['since'] },
    ]);
  });

  it('describes the subscription object with every field of API.md', () => {
    const subscription = deref<{
      properties: JsonObject;
      required: string[];
    }>(doc.components.schemas.Subscription);
    const fields = [
      'id',
      'url',
      'name',
      'eventTypes',
      'subject',
      'categories',
      'labels',
      'format',
      'status',
      'requireValidation',
      'maxBatchSize',
      'headers',
      'rateLimitPerSecond',
      'description',
      'metadata',
      'version',
      'createdAt',
      'updatedAt',
    ];
    expect(subscription.required.sort()).toEqual([...fields].sort());
    expect(Object.keys(subscription.properties).sort()).toEqual([...fields, 'secret'].sort());
  });
});

describe('GET /openapi.json', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use(openapiRouter('1.2.3'));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves the document as JSON, the same on every request', async () => {
    const first = await fetch(`${base}/openapi.json`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await first.json()) as OpenApiDocument;
    expect(body.openapi).toMatch(/^3\.1\./);
    expect(body.info.version).toBe('1.2.3');
    expect(await (await fetch(`${base}/openapi.json`)).json()).toEqual(body);
  });
});
