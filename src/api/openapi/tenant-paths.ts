/** The tenant paths of the OpenAPI document: operators' `/v1/tenants…`, and a tenant's own keys, portal sessions, usage and event types. */
import { EventTypeListQuery } from '../schemas/event-type';
import { TenantListQuery } from '../schemas/tenant';
import { type JsonObject, queryParameters, type Success, type OperationSpec, operation } from './operations';

const tenantIdParam = { $ref: '#/components/parameters/TenantId' };
const keyIdParam = { $ref: '#/components/parameters/KeyId' };
const eventTypeNameParam = { $ref: '#/components/parameters/EventTypeName' };

/** `/v1/tenants…`: operator keys only (a tenant key answers 403). */
export function tenantPaths(): Record<string, Record<string, JsonObject>> {
  const op = (spec: Omit<OperationSpec, 'tag' | 'auth'>) =>
    operation({ ...spec, tag: 'Tenants', auth: 'operator', errors: [403, ...spec.errors] });
  const tenantAnswer: Success[] = [{ status: 200, description: 'The tenant.', schema: 'Tenant' }];
  return {
    '/v1/tenants': {
      post: op({
        operationId: 'createTenant',
        summary: 'Create a tenant',
        description: 'Without `eventsPerMonth`, DEFAULT_EVENTS_PER_MONTH applies; null is no cap.',
        body: { schema: 'TenantCreate', required: true },
        responses: [{ status: 201, description: 'The tenant.', schema: 'Tenant' }],
        errors: [400, 409, 413, 415],
      }),
      get: op({
        operationId: 'listTenants',
        summary: 'List tenants',
        parameters: queryParameters(TenantListQuery),
        responses: [{ status: 200, description: 'One page of tenants.', schema: 'TenantList' }],
        errors: [400],
      }),
    },
    '/v1/tenants/{id}': {
      get: op({
        operationId: 'getTenant',
        summary: 'Get a tenant',
        parameters: [tenantIdParam],
        responses: tenantAnswer,
        errors: [404],
      }),
      patch: op({
        operationId: 'updateTenant',
        summary: 'Change a tenant (name, eventsPerMonth)',
        parameters: [tenantIdParam],
        body: { schema: 'TenantPatch', required: true },
        responses: tenantAnswer,
        errors: [400, 404, 413, 415],
      }),
      delete: op({
        operationId: 'deleteTenant',
        summary: 'Delete a tenant',
        description:
          'Its keys stop working at once and its subscriptions are deleted. Tenants of API_KEYS answer 409.',
        parameters: [tenantIdParam],
        responses: [{ status: 204, description: 'Deleted.' }],
        errors: [404, 409],
      }),
    },
    '/v1/tenants/{id}/keys': {
      post: op({
        operationId: 'createTenantKey',
        summary: "Make one of the tenant's API keys",
        parameters: [tenantIdParam],
        body: { schema: 'KeyCreate', required: true },
        responses: [{ status: 201, description: 'The key, shown only here.', schema: 'ApiKeyCreated' }],
        errors: [400, 404, 413, 415],
      }),
      get: op({
        operationId: 'listTenantKeys',
        summary: "The tenant's API keys (never the keys themselves)",
        parameters: [tenantIdParam],
        responses: [{ status: 200, description: 'The keys.', schema: 'ApiKeyList' }],
        errors: [404],
      }),
    },
    '/v1/tenants/{id}/keys/{keyId}': {
      delete: op({
        operationId: 'deleteTenantKey',
        summary: "Delete one of the tenant's API keys",
        description: 'The key answers 401 within 5 s on every API process.',
        parameters: [tenantIdParam, keyIdParam],
        responses: [{ status: 204, description: 'Deleted.' }],
        errors: [404],
      }),
    },
  };
}

/** A tenant's own keys, usage and event types. */
export function tenantSelfPaths(): Record<string, Record<string, JsonObject>> {
  const eventType: Success[] = [{ status: 200, description: 'The event type.', schema: 'EventType' }];
  return {
    '/v1/keys': {
      post: operation({
        operationId: 'createKey',
        summary: 'Make an API key of this tenant',
        tag: 'Keys',
        body: { schema: 'KeyCreate', required: true },
        responses: [{ status: 201, description: 'The key, shown only here.', schema: 'ApiKeyCreated' }],
        errors: [400, 413, 415],
      }),
      get: operation({
        operationId: 'listKeys',
        summary: "This tenant's API keys made through the API (never the keys themselves)",
        tag: 'Keys',
        responses: [{ status: 200, description: 'The keys.', schema: 'ApiKeyList' }],
        errors: [],
      }),
    },
    '/v1/keys/{keyId}': {
      delete: operation({
        operationId: 'deleteKey',
        summary: 'Delete an API key of this tenant',
        tag: 'Keys',
        description: 'The key answers 401 within 5 s on every API process.',
        parameters: [keyIdParam],
        responses: [{ status: 204, description: 'Deleted.' }],
        errors: [404],
      }),
    },
    '/v1/portal/sessions': {
      post: operation({
        operationId: 'createPortalSession',
        summary: 'Make a consumer portal link',
        tag: 'Portal',
        description:
          "The link opens `/portal/`, where the tenant's customer manages its subscriptions and reads their deliveries. Its token works on `/v1/subscriptions…`, `/v1/events…`, `/v1/event-types` (read) and `/v1/usage` only (403 elsewhere); a read-only token gets 403 on every change; an expired one 401. Answers to it carry `Hookline-Portal-Access` (`read-only` or `read-write`) and `Hookline-Portal-Expires-At`.",
        body: { schema: 'PortalSessionCreate', required: false },
        responses: [
          { status: 201, description: 'The link and its token, shown only here.', schema: 'PortalSession' },
        ],
        errors: [400, 403, 413, 415],
      }),
    },
    '/v1/usage': {
      get: operation({
        operationId: 'getUsage',
        summary: "This month's accepted events and the cap",
        tag: 'Usage',
        responses: [{ status: 200, description: 'Usage this calendar month (UTC).', schema: 'Usage' }],
        errors: [],
      }),
    },
    '/v1/event-types': {
      post: operation({
        operationId: 'createEventType',
        summary: 'Add an event type to the catalog',
        tag: 'Event types',
        description:
          'With a `schema` (JSON Schema draft 2020-12), published events of this type must have matching `data` (else 400 with paths under `data`). An invalid schema answers 400.',
        body: { schema: 'EventTypeCreate', required: true },
        responses: [{ status: 201, description: 'The event type.', schema: 'EventType' }],
        errors: [400, 409, 413, 415],
      }),
      get: operation({
        operationId: 'listEventTypes',
        summary: 'The event-type catalog',
        tag: 'Event types',
        parameters: queryParameters(EventTypeListQuery),
        responses: [{ status: 200, description: 'Event types by name.', schema: 'EventTypeList' }],
        errors: [400],
      }),
    },
    '/v1/event-types/{name}': {
      get: operation({
        operationId: 'getEventType',
        summary: 'Get an event type',
        tag: 'Event types',
        parameters: [eventTypeNameParam],
        responses: eventType,
        errors: [404],
      }),
      patch: operation({
        operationId: 'updateEventType',
        summary: 'Change an event type (description, schema, archived)',
        tag: 'Event types',
        parameters: [eventTypeNameParam],
        body: { schema: 'EventTypePatch', required: true },
        responses: eventType,
        errors: [400, 404, 413, 415],
      }),
      delete: operation({
        operationId: 'deleteEventType',
        summary: 'Delete an event type',
        tag: 'Event types',
        parameters: [eventTypeNameParam],
        responses: [{ status: 204, description: 'Deleted.' }],
        errors: [404],
      }),
    },
  };
}
