/**
 * The OpenAPI 3.1 document of the REST API (`GET /openapi.json`, rendered at `/docs`), generated from the zod schemas with zod's
 * own `z.toJSONSchema`: request bodies and queries in their input form (before defaults and
 * transforms), answers in their output form. Component schemas are JSON Schema 2020-12, the
 * dialect OpenAPI 3.1 uses by default.
 */
import { z } from 'zod';
import { ErrorBody, EventId, HealthOut, ReadinessOut, SubscriptionId } from './schemas/common';
import { EventBatchIn, EventIn, EventOut, PublishIn, PublishOut, StoredEvent } from './schemas/event';
import {
  EventTypeCreate,
  EventTypeListOut,
  EventTypeListQuery,
  EventTypeOut,
  EventTypePatch,
} from './schemas/event-type';
import {
  DeadLettersOut,
  DeliveriesOut,
  DeliveriesQuery,
  EntryStatusOut,
  IfMatch,
  QueueOut,
  RedeliverIn,
  RedeliverOut,
  SecretOut,
  SubscriptionCreate,
  SubscriptionDeleteQuery,
  SubscriptionList,
  SubscriptionListOut,
  SubscriptionOut,
  SubscriptionPatch,
  ValidationOut,
  ValidationQuery,
} from './schemas/subscription';
import { PortalSessionCreate, PortalSessionOut } from './schemas/portal';
import {
  KeyCreate,
  KeyCreatedOut,
  KeyListOut,
  KeyOut,
  TenantCreate,
  TenantId,
  TenantListOut,
  TenantListQuery,
  TenantOut,
  TenantPatch,
  UsageOut,
} from './schemas/tenant';

export type JsonObject = { [key: string]: unknown };

export interface OpenApiDocument extends JsonObject {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, JsonObject>>;
  components: {
    schemas: Record<string, JsonObject>;
    responses: Record<string, JsonObject>;
    parameters: Record<string, JsonObject>;
    headers: Record<string, JsonObject>;
    securitySchemes: Record<string, JsonObject>;
  };
}

export interface OpenApiOptions {
  /** Hookline's version (info.version). */
  version: string;
  /** Base URL the document names as its server; omitted when absent (relative to the document). */
  serverUrl?: string;
}

/** Request schemas by component name; converted with `io: 'input'`. */
const REQUEST_SCHEMAS = {
  SubscriptionCreate,
  SubscriptionPatch,
  RedeliverRequest: RedeliverIn,
  EventIn,
  EventBatch: EventBatchIn,
  PublishRequest: PublishIn,
  TenantCreate,
  TenantPatch,
  KeyCreate,
  EventTypeCreate,
  EventTypePatch,
  PortalSessionCreate,
} satisfies Record<string, z.ZodType>;

/** Answer schemas by component name; converted with `io: 'output'`. */
const RESPONSE_SCHEMAS = {
  Error: ErrorBody,
  Subscription: SubscriptionOut,
  SubscriptionList: SubscriptionListOut,
  Secret: SecretOut,
  Queue: QueueOut,
  Deliveries: DeliveriesOut,
  EntryStatus: EntryStatusOut,
  DeadLetters: DeadLettersOut,
  RedeliverResult: RedeliverOut,
  StoredEvent,
  Event: EventOut,
  PublishResult: PublishOut,
  ValidationResult: ValidationOut,
  Health: HealthOut,
  Readiness: ReadinessOut,
  Tenant: TenantOut,
  TenantList: TenantListOut,
  ApiKey: KeyOut,
  ApiKeyCreated: KeyCreatedOut,
  ApiKeyList: KeyListOut,
  Usage: UsageOut,
  EventType: EventTypeOut,
  EventTypeList: EventTypeListOut,
  PortalSession: PortalSessionOut,
} satisfies Record<string, z.ZodType>;

type RequestName = keyof typeof REQUEST_SCHEMAS;
type ResponseName = keyof typeof RESPONSE_SCHEMAS;

const ref = (name: RequestName | ResponseName) => ({ $ref: `#/components/schemas/${name}` });

/** The JSON Schemas of one registry, `$ref`s between its members pointing into components. */
function componentSchemas(
  schemas: Record<string, z.ZodType>,
  io: 'input' | 'output',
): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const converted = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(converted.schemas)) out[id] = withoutIdentity(schema);
  return out;
}

/**
 * Drops `$schema` (the document's dialect applies) and `$id`: zod sets `$id` to the component's
 * fragment URI, and 2020-12 forbids a non-empty fragment in `$id`.
 */
function withoutIdentity(schema: object): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema as JsonObject;
  return rest;
}

/** One JSON Schema, inlined (for parameters). */
function inputSchema(schema: z.ZodType): JsonObject {
  return withoutIdentity(z.toJSONSchema(schema, { io: 'input' }));
}

/** Query parameters from a query object schema: one parameter per member. */
function queryParameters(schema: z.ZodType): JsonObject[] {
  const json = inputSchema(schema) as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

// ---- Shared responses ----

type ErrorResponse = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 429 | 500 | 503;

const ERROR_RESPONSES: Record<ErrorResponse, { name: string; description: string; retryAfter?: true }> = {
  400: {
    name: 'ValidationFailed',
    description:
      '`validation_failed`: details name each problem by path. Also malformed input of any kind: bad JSON, a body that is not what its Content-Encoding says, a bad percent-escape in the path.',
  },
  401: { name: 'Unauthorized', description: '`unauthorized`: missing or unknown API key.' },
  403: { name: 'Forbidden', description: '`forbidden`.' },
  404: { name: 'NotFound', description: '`not_found` (also for resources of other tenants).' },
  409: { name: 'Conflict', description: '`conflict`.' },
  412: {
    name: 'PreconditionFailed',
    description: '`precondition_failed`: `If-Match` names a stale version.',
  },
  413: {
    name: 'PayloadTooLarge',
    description: '`payload_too_large`: body over 1 MiB, or an event `data` over 256 KiB.',
  },
  415: {
    name: 'UnsupportedMediaType',
    description:
      '`unsupported_media_type`: the body must be UTF-8 JSON, sent as is or with Content-Encoding gzip, deflate or br.',
  },
  429: {
    name: 'QuotaExceeded',
    description:
      '`quota_exceeded`: the publish would take the tenant over its `eventsPerMonth`; nothing of it was stored. `Retry-After`: seconds until the first day of the next month, 00:00 UTC.',
    retryAfter: true,
  },
  500: { name: 'Internal', description: '`internal`.' },
  503: {
    name: 'BacklogFull',
    description:
      '`backlog_full`: a matching subscription cannot take more events now; retry after `Retry-After`.',
    retryAfter: true,
  },
};

function errorResponseComponents(): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  for (const { name, description, retryAfter } of Object.values(ERROR_RESPONSES)) {
    out[name] = {
      description,
      ...(retryAfter ? { headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } } } : {}),
      content: { 'application/json': { schema: ref('Error') } },
    };
  }
  return out;
}

// ---- Operations ----

interface Success {
  status: 200 | 201 | 202 | 204 | 503;
  description: string;
  /** JSON body; absent for 204 or a non-JSON body given by `content`. */
  schema?: ResponseName;
  content?: JsonObject;
  headers?: JsonObject;
}

interface OperationSpec {
  operationId: string;
  summary: string;
  tag:
    | 'Subscriptions'
    | 'Events'
    | 'Event types'
    | 'Keys'
    | 'Usage'
    | 'Portal'
    | 'Tenants'
    | 'Validation'
    | 'Operations';
  /** Bearer API key required (the default); `operator`: an operator key (ADMIN_API_KEYS) instead. */
  auth?: boolean | 'operator';
  parameters?: JsonObject[];
  body?: { schema: RequestName; required: boolean; description?: string };
  responses: Success[];
  errors: ErrorResponse[];
  description?: string;
}

function operation(spec: OperationSpec): JsonObject {
  const responses: Record<string, JsonObject> = {};
  for (const success of spec.responses) {
    responses[String(success.status)] = {
      description: success.description,
      ...(success.headers ? { headers: success.headers } : {}),
      ...(success.schema
        ? { content: { 'application/json': { schema: ref(success.schema) } } }
        : success.content
          ? { content: success.content }
          : {}),
    };
  }
  const errors = spec.auth === false ? spec.errors : [401 as const, ...spec.errors];
  for (const status of [...new Set([...errors, 500 as const])].sort((a, b) => a - b)) {
    responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` };
  }
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    ...(spec.auth === false ? { security: [] } : {}),
    ...(spec.auth === 'operator' ? { security: [{ operatorAuth: [] }] } : {}),
    ...(spec.parameters?.length ? { parameters: spec.parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.body.required,
            ...(spec.body.description ? { description: spec.body.description } : {}),
            content: { 'application/json': { schema: ref(spec.body.schema) } },
          },
        }
      : {}),
    responses,
  };
}

const subscriptionIdParam = { $ref: '#/components/parameters/SubscriptionId' };
const eventIdParam = { $ref: '#/components/parameters/EventId' };
const queueEventIdParam = { $ref: '#/components/parameters/EventIdInQueue' };
const ifMatchParam = { $ref: '#/components/parameters/IfMatch' };
/** POSTs without a meaningful body still read one through jsonBody(): these can answer 415/413/400. */
const BODYLESS_POST_ERRORS: ErrorResponse[] = [400, 404, 413, 415];

function paths(): Record<string, Record<string, JsonObject>> {
  const subscription = (summary: string, operationId: string, extra: Partial<OperationSpec> = {}) =>
    operation({
      operationId,
      summary,
      tag: 'Subscriptions',
      parameters: [subscriptionIdParam],
      responses: [{ status: 200, description: 'The subscription.', schema: 'Subscription' }],
      errors: [404],
      ...extra,
    });

  return {
    '/v1/subscriptions': {
      post: operation({
        operationId: 'createSubscription',
        summary: 'Register a webhook endpoint',
        tag: 'Subscriptions',
        description:
          'The URL is unique per tenant after normalisation; a second registration answers 409 with the existing id in `details`. Targets in private, loopback, link-local and metadata ranges answer 400 unless allowed.',
        body: { schema: 'SubscriptionCreate', required: true },
        responses: [
          {
            status: 201,
            description: 'The subscription, with its signing `secret`.',
            schema: 'Subscription',
          },
        ],
        errors: [400, 409, 413, 415],
      }),
      get: operation({
        operationId: 'listSubscriptions',
        summary: 'List subscriptions',
        tag: 'Subscriptions',
        parameters: queryParameters(SubscriptionList),
        responses: [{ status: 200, description: 'One page of subscriptions.', schema: 'SubscriptionList' }],
        errors: [400],
      }),
      delete: operation({
        operationId: 'deleteSubscriptionByUrl',
        summary: 'Delete the subscription registered for a URL',
        tag: 'Subscriptions',
        parameters: queryParameters(SubscriptionDeleteQuery),
        responses: [{ status: 204, description: 'Deleted.' }],
        errors: [400, 404],
      }),
    },
    '/v1/subscriptions/{id}': {
      get: subscription('Get a subscription', 'getSubscription'),
      patch: subscription('Change a subscription', 'updateSubscription', {
        parameters: [subscriptionIdParam, ifMatchParam],
        body: { schema: 'SubscriptionPatch', required: true },
        responses: [{ status: 200, description: 'The updated subscription.', schema: 'Subscription' }],
        errors: [400, 404, 409, 412, 413, 415],
      }),
      delete: subscription('Delete a subscription', 'deleteSubscription', {
        responses: [{ status: 204, description: 'Deleted.' }],
      }),
    },
    '/v1/subscriptions/{id}/secret': {
      get: subscription('Get the signing secret', 'getSubscriptionSecret', {
        responses: [{ status: 200, description: 'The current secret.', schema: 'Secret' }],
      }),
    },
    '/v1/subscriptions/{id}/secret/rotate': {
      post: subscription('Rotate the signing secret', 'rotateSubscriptionSecret', {
        description: 'The old secret keeps signing too (a second signature) for 24 hours.',
        responses: [{ status: 200, description: 'The new secret.', schema: 'Secret' }],
        errors: BODYLESS_POST_ERRORS,
      }),
    },
    '/v1/subscriptions/{id}/pause': {
      post: subscription('Pause deliveries', 'pauseSubscription', {
        description: 'Events keep queueing while paused.',
        errors: BODYLESS_POST_ERRORS,
      }),
    },
    '/v1/subscriptions/{id}/resume': {
      post: subscription('Resume deliveries', 'resumeSubscription', {
        description: 'Also re-enables a subscription disabled by a 410 answer.',
        errors: BODYLESS_POST_ERRORS,
      }),
    },
    '/v1/subscriptions/{id}/queue': {
      get: subscription('Pending events, in delivery order', 'getSubscriptionQueue', {
        responses: [{ status: 200, description: 'The queue.', schema: 'Queue' }],
      }),
    },
    '/v1/subscriptions/{id}/deliveries': {
      get: subscription('Recent delivery attempts, newest first', 'listSubscriptionDeliveries', {
        parameters: [subscriptionIdParam, ...queryParameters(DeliveriesQuery)],
        responses: [{ status: 200, description: 'Delivery attempts.', schema: 'Deliveries' }],
        errors: [400, 404],
      }),
    },
    '/v1/subscriptions/{id}/events/{eventId}': {
      get: subscription('Where one event stands at this subscription', 'getSubscriptionEvent', {
        parameters: [subscriptionIdParam, queueEventIdParam],
        responses: [{ status: 200, description: 'The queue entry.', schema: 'EntryStatus' }],
      }),
    },
    '/v1/subscriptions/{id}/dead-letters': {
      get: subscription('Events given up on, oldest first', 'listSubscriptionDeadLetters', {
        responses: [{ status: 200, description: 'Dead letters (kept 7 days).', schema: 'DeadLetters' }],
      }),
    },
    '/v1/subscriptions/{id}/redeliver': {
      post: subscription('Send events again', 'redeliverSubscriptionEvents', {
        description:
          'Re-queues dead letters, or re-sends delivered events, at the end of the queue in their original order.',
        body: { schema: 'RedeliverRequest', required: true },
        responses: [{ status: 202, description: 'Queued again.', schema: 'RedeliverResult' }],
        errors: [400, 404, 413, 415],
      }),
    },
    '/v1/events': {
      post: operation({
        operationId: 'publishEvents',
        summary: 'Publish one event, or a batch of up to 100',
        tag: 'Events',
        description:
          'Answers once every matching subscription has durably queued the events, in order. Publishing an `id` again within 7 days queues nothing new (`duplicate: true`). A body is a batch iff it has an `events` member.',
        body: { schema: 'PublishRequest', required: true },
        responses: [{ status: 202, description: 'Queued.', schema: 'PublishResult' }],
        errors: [400, 413, 415, 429, 503],
      }),
    },
    '/v1/events/{id}': {
      get: operation({
        operationId: 'getEvent',
        summary: 'Get a published event (kept at least 7 days)',
        tag: 'Events',
        parameters: [eventIdParam],
        responses: [{ status: 200, description: 'The event and its subscriptions.', schema: 'Event' }],
        errors: [404],
      }),
    },
    ...tenantPaths(),
    ...tenantSelfPaths(),
    '/v1/validate/{id}': Object.fromEntries(
      (['get', 'post'] as const).map((method) => [
        method,
        operation({
          operationId: method === 'get' ? 'confirmValidation' : 'confirmValidationPost',
          summary: 'Confirm the validation handshake (the callback URL)',
          tag: 'Validation',
          auth: false,
          description:
            'Needs no API key: the code is the secret. A wrong code answers 403 and changes nothing.',
          parameters: [subscriptionIdParam, ...queryParameters(ValidationQuery)],
          responses: [
            { status: 200, description: 'The subscription is active.', schema: 'ValidationResult' },
          ],
          errors: [403, 404],
        }),
      ]),
    ),
    '/healthz': {
      get: operation({
        operationId: 'health',
        summary: 'The process is up',
        tag: 'Operations',
        auth: false,
        responses: [{ status: 200, description: 'Up.', schema: 'Health' }],
        errors: [],
      }),
    },
    '/readyz': {
      get: operation({
        operationId: 'ready',
        summary: 'Temporal answers and a worker polls',
        tag: 'Operations',
        auth: false,
        responses: [
          { status: 200, description: 'Ready.', schema: 'Readiness' },
          { status: 503, description: 'Not ready; `checks` says what is missing.', schema: 'Readiness' },
        ],
        errors: [],
      }),
    },
    '/metrics': {
      get: operation({
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tag: 'Operations',
        auth: false,
        responses: [
          {
            status: 200,
            description: 'Prometheus text exposition format.',
            content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } },
          },
        ],
        errors: [],
      }),
    },
    '/openapi.json': {
      get: operation({
        operationId: 'openapi',
        summary: 'This document',
        tag: 'Operations',
        auth: false,
        responses: [
          {
            status: 200,
            description: 'The OpenAPI 3.1 document.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        ],
        errors: [],
      }),
    },
    '/docs': {
      get: operation({
        operationId: 'docs',
        summary: 'A readable page of the API',
        tag: 'Operations',
        auth: false,
        responses: [
          { status: 200, description: 'HTML.', content: { 'text/html': { schema: { type: 'string' } } } },
        ],
        errors: [],
      }),
    },
  };
}

const tenantIdParam = { $ref: '#/components/parameters/TenantId' };
const keyIdParam = { $ref: '#/components/parameters/KeyId' };
const eventTypeNameParam = { $ref: '#/components/parameters/EventTypeName' };

/** `/v1/tenants…`: operator keys only (a tenant key answers 403). */
function tenantPaths(): Record<string, Record<string, JsonObject>> {
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
function tenantSelfPaths(): Record<string, Record<string, JsonObject>> {
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

/** Builds the whole document. Pure; callers cache it. */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const requestSchemas = componentSchemas(REQUEST_SCHEMAS, 'input');
  const responseSchemas = componentSchemas(RESPONSE_SCHEMAS, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Hookline',
      version: options.version,
      description:
        'Durable webhook delivery: ordered, batched, signed (Standard Webhooks), retried for 7 days. Unknown fields in request bodies are refused with 400.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'Subscriptions', description: 'Webhook endpoint registrations and their queues.' },
      { name: 'Events', description: 'Publishing events.' },
      { name: 'Event types', description: 'The event-type catalog and its JSON Schemas.' },
      { name: 'Keys', description: "A tenant's own API keys." },
      { name: 'Usage', description: 'Monthly usage and quota.' },
      { name: 'Portal', description: "Links to the consumer portal, a page for a tenant's customers." },
      { name: 'Tenants', description: 'Tenants and their API keys: operator keys only.' },
      { name: 'Validation', description: 'The CloudEvents abuse-protection handshake callback.' },
      { name: 'Operations', description: 'Health, metrics and this document.' },
    ],
    paths: paths(),
    components: {
      schemas: { ...requestSchemas, ...responseSchemas },
      responses: errorResponseComponents(),
      parameters: {
        SubscriptionId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'A subscription id (`sub_…`).',
          schema: inputSchema(SubscriptionId),
        },
        EventId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'An event id; percent-encode `/` and other reserved characters.',
          schema: inputSchema(EventId),
        },
        EventIdInQueue: {
          name: 'eventId',
          in: 'path',
          required: true,
          description: 'An event id; percent-encode `/` and other reserved characters.',
          schema: inputSchema(EventId),
        },
        TenantId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'A tenant id (a lowercase slug).',
          schema: inputSchema(TenantId),
        },
        KeyId: {
          name: 'keyId',
          in: 'path',
          required: true,
          description: 'An API key id (`key_…`).',
          schema: { type: 'string', pattern: '^key_[0-9a-f]{32}$' },
        },
        EventTypeName: {
          name: 'name',
          in: 'path',
          required: true,
          description: 'An event type name; percent-encode `/`.',
          schema: { type: 'string', minLength: 1, maxLength: 256 },
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description: 'The subscription `version` the change is based on; a stale one answers 412.',
          schema: inputSchema(IfMatch),
        },
      },
      headers: {
        RetryAfter: {
          description: 'Seconds to wait before retrying.',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <api key>`.' },
        operatorAuth: {
          type: 'http',
          scheme: 'bearer',
          description: '`Authorization: Bearer <operator key>` (ADMIN_API_KEYS); only for `/v1/tenants…`.',
        },
      },
    },
  };
}
